package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/lifecycle"
)

// verpConfig is a config with a bounce address; bounces adds keys to the
// bounces mapping ("imap: {...}"), extra other top-level keys.
func verpConfig(t *testing.T, bounces, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`secret: "lifecycle-test-secret-0123456789abcdef"
bounces: {address: "news+bounces@News.Example.com", listen: "127.0.0.1:2525"` + bounces + `}
` + extra))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A VERP address names its delivery or mail, in any case, within 64
// octets; a forged, foreign or expired one names nothing.
func TestVERP(t *testing.T) {
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	v, err := lifecycle.NewVERP(verpConfig(t, "", "smtp: {unsubscribe_mailto: unsubscribe@news.example.com}\n"), clock)
	if err != nil {
		t.Fatal(err)
	}
	d := string(v.Delivery(1 << 40))
	m := string(v.Mail(7))
	local := d[:strings.LastIndexByte(d, '@')]
	if !strings.HasPrefix(d, "news+bounces+") || !strings.HasSuffix(d, "@news.example.com") || len(local) > 64 {
		t.Fatalf("delivery address %q (local part %d octets)", d, len(local))
	}
	for addr, want := range map[string]lifecycle.Target{
		d:                                 {Kind: lifecycle.ToDelivery, ID: 1 << 40},
		strings.ToUpper(d):                {Kind: lifecycle.ToDelivery, ID: 1 << 40},
		"<" + m + ">":                     {Kind: lifecycle.ToMail, ID: 7},
		"news+bounces@news.example.com":   {Kind: lifecycle.ToBounces},
		"NEWS+Bounces@NEWS.example.com":   {Kind: lifecycle.ToBounces},
		"unsubscribe@news.example.com":    {Kind: lifecycle.ToUnsubscribeBare},
		v.UnsubscribeMailto(42):           {Kind: lifecycle.ToUnsubscribe, ID: 42},
		strings.Replace(d, "+b", "+x", 1): {},
		d[:len(d)-len("@news.example.com")-2] + "aa@news.example.com": {},
		"someone@news.example.com":                                    {},
		strings.Replace(d, "news.example.com", "evil.example", 1):     {},
	} {
		if got := v.Parse(addr); got != want {
			t.Errorf("Parse(%q) = %+v, want %+v", addr, got, want)
		}
	}
	// A token is a delivery's or a mail's, never the other: the kind is
	// inside the signature.
	if v.Parse(d).ID == v.Parse(m).ID && v.Parse(d).Kind == v.Parse(m).Kind {
		t.Error("delivery and mail addresses read alike")
	}
	now = now.Add(lifecycle.VERPTTL + 48*time.Hour)
	if got := v.Parse(d); got.Kind != lifecycle.NotOurs {
		t.Errorf("an expired VERP address still names %+v", got)
	}
	// Without bounces.address there is no VERP; the mailto stays the
	// configured one unless it is on the bounce domain with a listener.
	if v, _ := lifecycle.NewVERP(config.Default(), clock); v != nil {
		t.Error("VERP without bounces.address")
	}
	other, _ := lifecycle.NewVERP(verpConfig(t, "", "smtp: {unsubscribe_mailto: unsubscribe@elsewhere.example}\n"), clock)
	if other.UnsubscribeMailto(1) != "" {
		t.Error("a mailto on another domain was rewritten")
	}
}

// FuzzVERPParse reads arbitrary recipient addresses, as the bounce
// listener's RCPT TO does: never a panic, and whatever names a delivery or
// a mail is exactly the address herald made for it (up to case).
func FuzzVERPParse(f *testing.F) {
	clock := func() time.Time { return time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC) }
	cfg, err := config.Parse([]byte(`secret: "lifecycle-test-secret-0123456789abcdef"
bounces: {address: "bounces@news.example.com", listen: "127.0.0.1:2525"}
smtp: {unsubscribe_mailto: "unsubscribe@news.example.com"}
`))
	if err != nil {
		f.Fatal(err)
	}
	v, _ := lifecycle.NewVERP(cfg, clock)
	f.Add(string(v.Delivery(42)))
	f.Add(string(v.Mail(7)))
	f.Add(v.UnsubscribeMailto(3))
	f.Add("bounces@news.example.com")
	f.Add("<bounces+@news.example.com>")
	f.Fuzz(func(t *testing.T, rcpt string) {
		got := v.Parse(rcpt)
		var want string
		switch got.Kind {
		case lifecycle.ToDelivery:
			want = string(v.Delivery(got.ID))
		case lifecycle.ToMail:
			want = string(v.Mail(got.ID))
		case lifecycle.ToUnsubscribe:
			want = v.UnsubscribeMailto(got.ID)
		default:
			return
		}
		if !strings.EqualFold(strings.Trim(strings.TrimSpace(rcpt), "<>"), want) {
			t.Fatalf("%q read as %+v, which herald writes %q", rcpt, got, want)
		}
	})
}
