package config

import (
	"strings"
	"testing"
	"time"
)

const strong = "0123456789abcdef0123456789abcdef" // 32 bytes

// A key given twice is an error naming the key and both lines, wherever
// it is; nothing the operator wrote is silently ignored.
func TestDuplicateKeys(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"site: {name: A}\nsite: {name: B}\n", "key site is given twice (lines 1 and 2)"},
		{"smtp:\n  host: a.example\n  port: 25\n  host: b.example\n", "key smtp.host is given twice (lines 2 and 4)"},
		{"digests:\n  - name: a\n    schedule: '0 7 * * *'\n    name: b\n", "key digests[0].name is given twice (lines 2 and 4)"},
		{"bounces:\n  webhooks:\n    ses: {topic_arns: []}\n    ses: {topic_arns: []}\n", "key bounces.webhooks.ses is given twice (lines 3 and 4)"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
	if _, err := Parse([]byte("base: &b {name: A}\nsite:\n  <<: *b\n  url: 'https://x.example'\n")); err != nil && strings.Contains(err.Error(), "twice") {
		t.Errorf("a merge key counted as a duplicate: %v", err)
	}
}

// A short secret or admin token is refused with the command that makes a
// good one; an empty secret is still generated later; a previous secret
// may be anything but the current one.
func TestSecretStrength(t *testing.T) {
	for _, tc := range []struct{ yaml, key string }{
		{"secret: short\n", "secret"},
		{"secret: " + strong[:31] + "\n", "secret"},
		{"http: {admin_token: tok}\n", "http.admin_token"},
		{"secret: " + strong + "\nsecret_previous: " + strong + "\n", "secret_previous"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), "config: "+tc.key+":") {
			t.Errorf("%q: err = %v, want one naming %s", tc.yaml, err, tc.key)
			continue
		}
		if tc.key != "secret_previous" && !strings.Contains(err.Error(), "openssl rand -base64 32") {
			t.Errorf("%q: the error does not say how to make one: %v", tc.yaml, err)
		}
	}
	c, err := Parse([]byte("secret: " + strong + "\nsecret_previous: old\nhttp: {admin_token: " + strong + "}\n"))
	if err != nil || c.SecretPrevious != "old" {
		t.Fatalf("strong values refused: %v", err)
	}
	if c, err := Parse(nil); err != nil || c.Secret != "" {
		t.Fatalf("empty secret: %v", err)
	}
}

func TestLifecycleKeys(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Bounces.SoftLimit != 3 || c.Bounces.SoftWindow.D() != 30*24*time.Hour || c.Subscribers.PendingTTL.D() != 7*24*time.Hour ||
		c.Subscribers.DeliveryRetention.D() < 365*24*time.Hour || c.HTTP.SubscribeMinSeconds != 3 || c.HTTP.SubscribePoW {
		t.Errorf("defaults: %+v %+v %+v", c.Bounces, c.Subscribers, c.HTTP)
	}
	c, err = Parse([]byte("bounces: {address: bounces@news.example.com, listen: '127.0.0.1:2525'}\n"))
	if err != nil || c.Bounces.Address != "bounces@news.example.com" {
		t.Fatalf("bounces: %v", err)
	}
	for _, tc := range []struct{ yaml, key string }{
		{"bounces: {address: 'Bounces <b@news.example.com>'}\n", "bounces.address"},
		{"bounces: {address: " + strings.Repeat("b", 28) + "@news.example.com}\n", "bounces.address"},
		{"bounces: {listen: '127.0.0.1:2525'}\n", "bounces.address"},
		{"bounces: {soft_limit: 0}\n", "bounces.soft_limit"},
		{"bounces: {imap: {host: imap.example.com}}\n", "bounces.imap.username"},
		{"bounces: {imap: {host: imap.example.com, username: u, tls: none}}\n", "bounces.imap.tls"},
		{"bounces: {webhooks: {ses: {topic_arns: [nope]}}}\n", "bounces.webhooks.ses.topic_arns[0]"},
		{"bounces: {webhooks: {postmark: {username: u}}}\n", "bounces.webhooks.postmark"},
		{"subscribers: {pending_ttl: 1m}\n", "subscribers.pending_ttl"},
		{"subscribers: {delivery_retention: 40d}\ndigests:\n  - {name: d, lookback: 50d}\n", "subscribers.delivery_retention"},
		{"http: {subscribe_min_seconds: -1}\n", "http.subscribe_min_seconds"},
		{"bounces: {address: b@news.example.com, listen: ':2525'}\nsmtp: {unsubscribe_mailto: " + strings.Repeat("u", 28) + "@news.example.com}\n", "smtp.unsubscribe_mailto"},
	} {
		if _, err := Parse([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: err = %v, want one naming %s", tc.yaml, err, tc.key)
		}
	}
	// 27 octets is the longest local part that leaves room for the token.
	if _, err := Parse([]byte("bounces: {address: " + strings.Repeat("b", 27) + "@news.example.com}\n")); err != nil {
		t.Errorf("a 27-octet local part refused: %v", err)
	}
}
