package bounce_test

import (
	"slices"
	"testing"

	"github.com/heraldnews/herald/bounce"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		status, text string
		want         bounce.Kind
	}{
		{"5.1.1", "", bounce.Hard},
		{"5.1.10", "RESOLVER.ADR.RecipientNotFound", bounce.Hard},
		{"4.1.1", "temporary lookup failure", bounce.Soft},
		{"5.1.7", "", bounce.Sender},
		{"5.1.8", "sender domain does not exist", bounce.Sender},
		{"5.1.0", "user unknown", bounce.Hard},
		{"5.1.0", "sender denied", bounce.Sender},
		{"5.1.90", "daily sending limit", bounce.Soft},
		{"5.2.2", "mailbox full", bounce.Soft},
		{"5.2.1", "the email account that you tried to reach is disabled", bounce.Soft},
		{"5.3.4", "message too big", bounce.Soft},
		{"5.3.0", "mail system full", bounce.Sender},
		{"4.4.7", "expired", bounce.Soft},
		{"5.4.4", "Host or domain name not found", bounce.Hard},
		{"5.4.4", "unable to route", bounce.Sender},
		{"5.4.6", "routing loop", bounce.Sender},
		{"5.5.1", "invalid command", bounce.Sender},
		{"5.7.1", "Relay access denied", bounce.Sender},
		{"5.7.0", "Authentication required", bounce.Sender},
		{"5.7.1", "blocked using zen.spamhaus.org", bounce.Soft},
		{"5.7.1", "user unknown", bounce.Soft}, // status first
		{"5.7.26", "", bounce.Sender},
		{"5.7.9", "Message not accepted for policy reasons", bounce.Soft},
		{"5.0.0", "No such user here", bounce.Hard},
		{"5.0.0", "", bounce.Soft},
		{"", "Mailbox has moved", bounce.Hard},
		{"", "550 mailbox full (quota exceeded)", bounce.Soft},
		{"", "Greylisted, try again later", bounce.Soft},
		{"", "relaying denied", bounce.Sender},
		{"", "", bounce.Soft},
		{"2.0.0", "ok", bounce.None},
		{"banana", "user unknown", bounce.Hard},
	} {
		if got := bounce.Classify(c.status, c.text); got != c.want {
			t.Errorf("Classify(%q, %q) = %q, want %q", c.status, c.text, got, c.want)
		}
	}
}

// TestRulesWellFormed checks every table row: a status pattern of three
// fields, a kind from the list, and a reason.
func TestRulesWellFormed(t *testing.T) {
	kinds := map[bounce.Kind]bool{"": true, bounce.None: true, bounce.Hard: true, bounce.Soft: true, bounce.Sender: true}
	for i, r := range bounce.StatusRules {
		if len(splitDots(r.Status)) != 3 || !kinds[r.Kind] || r.Why == "" {
			t.Errorf("StatusRules[%d] = %+v", i, r)
		}
	}
	for i, r := range bounce.TextRules {
		if r.Status != "" || r.Text == nil || r.Kind == "" || !kinds[r.Kind] || r.Why == "" {
			t.Errorf("TextRules[%d] = %+v", i, r)
		}
	}
	// Patterns compile on first use: every table's must compile.
	for _, r := range slices.Concat(bounce.StatusRules, bounce.TextRules) {
		if r.Text != nil {
			r.Text.MatchString("")
		}
	}
	for ft, k := range bounce.FeedbackKinds {
		if k != bounce.Complaint && !kinds[k] {
			t.Errorf("FeedbackKinds[%q] = %q", ft, k)
		}
	}
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
