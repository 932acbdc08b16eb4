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

// HourlyLimiter allows n events per client per sliding hour, tracking at
// most maxClients addresses (the oldest are forgotten first) so a flood from
// many addresses cannot exhaust memory.
type HourlyLimiter struct {
	w *window[netip.Addr]
}

// NewHourlyLimiter allows n events per client per hour (n <= 0: no limit).
func NewHourlyLimiter(n int, now func() time.Time) *HourlyLimiter {
	return &HourlyLimiter{w: newWindow[netip.Addr](n, now)}
}

// Allow records an event for ip and reports whether it is within the limit.
func (l *HourlyLimiter) Allow(ip netip.Addr) bool {
	if l == nil {
		return true
	}
	if ip.Is6() {
		// One IPv6 client usually holds a whole /64.
		ip = netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	return l.w.allow(ip, true)
}

// KeyedLimiter is HourlyLimiter for any key (an account's address): it
// counts events per key per sliding hour, checking and recording apart so
// that only failures count.
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
}

func newWindow[K comparable](n int, now func() time.Time) *window[K] {
	return &window[K]{n: n, span: time.Hour, now: now, hits: map[K][]time.Time{}, maxKeys: 100_000}
}

// allow reports whether key is within the limit and, with record, counts
// one more event when it is.
func (l *window[K]) allow(key K, record bool) bool {
	if l.n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cut := now.Add(-l.span)
	h := l.hits[key]
	i := 0
	for i < len(h) && !h[i].After(cut) {
		i++
	}
	h = h[i:]
	if len(h) >= l.n {
		l.hits[key] = h
		return false
	}
	if !record {
		return true
	}
	if len(l.hits) >= l.maxKeys {
		l.evict(cut)
	}
	l.hits[key] = append(h, now)
	return true
}

func (l *window[K]) evict(cut time.Time) {
	for k, h := range l.hits {
		if len(h) == 0 || !h[len(h)-1].After(cut) {
			delete(l.hits, k)
		}
	}
	if len(l.hits) >= l.maxKeys {
		clear(l.hits) // under a flood from very many keys, start over
	}
}
