package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestClientIP(t *testing.T) {
	trusted := ParsePrefixes([]string{"10.0.0.0/8", "::1"})
	cases := []struct {
		remote, xff, want string
	}{
		{"203.0.113.9:1234", "", "203.0.113.9"},
		{"203.0.113.9:1234", "1.2.3.4", "203.0.113.9"},            // untrusted peer: header ignored
		{"10.1.2.3:80", "198.51.100.7", "198.51.100.7"},           // trusted proxy
		{"10.1.2.3:80", "198.51.100.7, 10.9.9.9", "198.51.100.7"}, // chain of proxies
		{"10.1.2.3:80", "6.6.6.6, 198.51.100.7", "198.51.100.7"},  // spoofed left-most entry not believed
		{"10.1.2.3:80", "garbage", "10.1.2.3"},
		{"[::1]:80", "2001:db8::5", "2001:db8::5"},
		{"[::ffff:203.0.113.9]:1", "", "203.0.113.9"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("POST", "/subscribe", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientIP(r, trusted); got != netip.MustParseAddr(tc.want) {
			t.Errorf("ClientIP(%s, %q) = %v, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestHourlyLimiter(t *testing.T) {
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	l := NewHourlyLimiter(3, func() time.Time { return now })
	a, b := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
	for i := 0; i < 3; i++ {
		if !l.Allow(a) {
			t.Fatalf("request %d refused", i)
		}
	}
	if l.Allow(a) {
		t.Error("4th request in the hour allowed")
	}
	if !l.Allow(b) {
		t.Error("another client limited")
	}
	now = now.Add(61 * time.Minute)
	if !l.Allow(a) {
		t.Error("not allowed again after an hour")
	}
	// IPv6 clients are limited per /64.
	l6 := NewHourlyLimiter(1, func() time.Time { return now })
	l6.Allow(netip.MustParseAddr("2001:db8:1:2::1"))
	if l6.Allow(netip.MustParseAddr("2001:db8:1:2::ffff")) {
		t.Error("same /64 not limited together")
	}
	// Memory stays bounded under a flood from many addresses.
	lf := NewHourlyLimiter(1, func() time.Time { return now })
	lf.w.maxKeys = 100
	for i := 0; i < 1000; i++ {
		lf.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	if len(lf.w.hits) > 100 {
		t.Errorf("limiter tracks %d clients", len(lf.w.hits))
	}
}

// A keyed limiter counts only what is recorded: checking is free, so a
// login form counts failures alone.
func TestKeyedLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewKeyedLimiter(2, func() time.Time { return now })
	for range 5 {
		if !l.Allowed("a@example.com") {
			t.Fatal("checking counted")
		}
	}
	l.Hit("a@example.com")
	l.Hit("a@example.com")
	if l.Allowed("a@example.com") || !l.Allowed("b@example.com") {
		t.Fatal("limit not per key")
	}
	now = now.Add(61 * time.Minute)
	if !l.Allowed("a@example.com") {
		t.Fatal("not allowed again after an hour")
	}
}
