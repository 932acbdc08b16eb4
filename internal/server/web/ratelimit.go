package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ClientIP is the request's client address: the peer, unless the peer is a
// trusted proxy, in which case the right-most X-Forwarded-For entry that is
// not itself a trusted proxy.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // a garbled chain: do not believe any of it
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a
		}
	}
	return peer
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads IPs and CIDRs (config.Validate has checked them).
func ParsePrefixes(ss []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

// HourlyLimiter allows n events per client per sliding hour. It tracks at
// most a bounded number of clients, so a flood from many addresses cannot
// exhaust memory — and no flood lifts a limit: entries expire only by
// time, and while the table is full of clients seen within the hour a new
// client is refused (answered 429) rather than an old client's count
// forgotten.
type HourlyLimiter struct {
	w      *window[netip.Addr]
	v4, v6 int // prefix lengths that make one client
}

// NewHourlyLimiter allows n events per client per hour (n <= 0: no limit).
// A client is an IPv4 address or an IPv6 /64 (one host usually holds a
// whole /64).
func NewHourlyLimiter(n int, now func() time.Time) *HourlyLimiter {
	return &HourlyLimiter{w: newWindow[netip.Addr](n, now), v4: 32, v6: 64}
}

// NewNetworkLimiter is NewHourlyLimiter per network: an IPv4 /24 or an
// IPv6 /64 counts as one client.
func NewNetworkLimiter(n int, now func() time.Time) *HourlyLimiter {
	l := NewHourlyLimiter(n, now)
	l.v4 = 24
	return l
}

// Allow records an event for ip and reports whether it is within the limit.
func (l *HourlyLimiter) Allow(ip netip.Addr) bool {
	if l == nil {
		return true
	}
	bits := l.v4
	if ip.Is6() {
		bits = l.v6
	}
	return l.w.allow(netip.PrefixFrom(ip, bits).Masked().Addr(), true)
}

// KeyedLimiter is HourlyLimiter for any key (an account's address): it
// counts events per key per sliding hour, checking and recording apart so
// that only failures count. Bounded the same way: a new key is refused
// while the table is full.
type KeyedLimiter struct {
	w *window[string]
}

// NewKeyedLimiter allows n events per key per hour (n <= 0: no limit).
func NewKeyedLimiter(n int, now func() time.Time) *KeyedLimiter {
	return &KeyedLimiter{w: newWindow[string](n, now)}
}

// Allowed reports whether key is below its limit, recording nothing.
func (l *KeyedLimiter) Allowed(key string) bool { return l.w.allow(key, false) }

// Hit records an event for key.
func (l *KeyedLimiter) Hit(key string) { l.w.allow(key, true) }

// window counts events per key in a sliding hour, for at most maxKeys keys.
type window[K comparable] struct {
	mu      sync.Mutex
	n       int
	span    time.Duration
	now     func() time.Time
	hits    map[K][]time.Time
	maxKeys int
	swept   time.Time // the last sweep of expired keys
}

func newWindow[K comparable](n int, now func() time.Time) *window[K] {
	return &window[K]{n: n, span: time.Hour, now: now, hits: map[K][]time.Time{}, maxKeys: 100_000}
}

// allow reports whether key is within the limit and, with record, counts
// one more event when it is. A key the table does not know is refused
// while the table is full of keys seen within the hour.
func (l *window[K]) allow(key K, record bool) bool {
	if l.n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cut := now.Add(-l.span)
	h, known := l.hits[key]
	i := 0
	for i < len(h) && !h[i].After(cut) {
		i++
	}
	h = h[i:]
	if len(h) >= l.n {
		l.hits[key] = h
		return false
	}
	if !known && len(l.hits) >= l.maxKeys && !l.sweep(now, cut) {
		return false // full of live keys: limit the newcomer, forget no one
	}
	if record {
		l.hits[key] = append(h, now)
	}
	return true
}

// sweep forgets keys with no event within the window, at most once a
// minute (a sweep costs the whole table), and reports whether there is
// room now.
func (l *window[K]) sweep(now, cut time.Time) bool {
	if now.Sub(l.swept) >= time.Minute {
		l.swept = now
		for k, h := range l.hits {
			if len(h) == 0 || !h[len(h)-1].After(cut) {
				delete(l.hits, k)
			}
		}
	}
	return len(l.hits) < l.maxKeys
}
