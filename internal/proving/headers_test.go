package proving

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/subscription"
)

// injections are CR/LF and its look-alikes, raw and encoded, each trying
// to add an X-Injected header (or a Bcc).
var injections = map[string]string{
	"crlf":           "Evil\r\nX-Injected: crlf",
	"lf":             "Evil\nX-Injected: lf",
	"cr":             "Evil\rX-Injected: cr",
	"crlfcrlf":       "Evil\r\n\r\nX-Injected: body",
	"bcc":            "Evil\r\nBcc: injected@evil.test",
	"percent":        "Evil%0d%0aX-Injected: percent",
	"encoded-word":   "=?utf-8?q?Evil=0D=0AX-Injected:_encoded?=",
	"encoded-word-b": "=?utf-8?b?RXZpbA0KWC1JbmplY3RlZDogYjY0?=",
	"u2028":          "Evil\u2028X-Injected: u2028",
	"u2029":          "Evil\u2029X-Injected: u2029",
	"u0085":          "Evil\u0085X-Injected: u0085",
	"nul":            "Evil\x00X-Injected: nul",
	"vt-ff":          "Evil\v\fX-Injected: vtff",
}

// yamlQuote writes s as a YAML double-quoted scalar with escapes.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x85 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// composed sends one edition and one confirmation with payload in every
// field a subscriber, editor or CMS controls, and returns the raw
// messages; configRefused is set when the config loader refused the
// payload in the config's fields (then they hold a benign value).
func composed(t *testing.T, payload string) (msgs [][]byte, configRefused bool) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	srv := smtptest.Start(t, smtptest.Options{})
	cfgFor := func(p string) string {
		return writeConfig(t, cfgOpts{dir: dir, smtp: srv, site: "Proving News",
			digests: fmt.Sprintf(`  - {name: daily, title: %s, subject: %s, schedule: "0 7 * * *", timezone: UTC, lookback: 48h, catch_up: 1s}`,
				yamlQuote("Daily "+p), yamlQuote("{{.Site}}: {{.Title}} "+p))})
	}
	noEnv := func(string) (string, bool) { return "", false }
	cfg, err := config.Load(cfgFor(payload), noEnv)
	if err != nil {
		configRefused = true
		if cfg, err = config.Load(cfgFor(""), noEnv); err != nil {
			t.Fatal(err)
		}
	}
	// Site name and postal address set past the loader: the composition
	// must hold even if validation let them through.
	cfg.Site.Name += " " + payload
	cfg.Site.PostalAddress += " " + payload
	st := openStore(t, filepath.Join(dir, "herald.db"))
	defer st.Close()
	q := func(s string) string { return sqlQuote(s) }
	script := fmt.Sprintf(`
INSERT INTO sections (id, slug, name, description) VALUES (1, 'world', %s, %s);
INSERT INTO authors (id, slug, name, bio) VALUES (1, 'ann', %s, %s), (2, 'bob', %s, '');
INSERT INTO articles (id, guid, url, title, summary, body_html, section_id, published_at)
  VALUES (1, 'g1', '/a/1', %s, %s, '<p>x</p>', 1, %s);
INSERT INTO article_authors (article_id, author_id, position) VALUES (1, 1, 0), (1, 2, 1);`,
		q("World "+payload), q(payload), q("Ann "+payload), q(payload), q(payload+" Bob"),
		q("Title "+payload), q("Summary "+payload), q(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)))
	if err := st.ExecScript(ctx, script); err != nil {
		t.Fatal(err)
	}
	// A subscriber whose name came in unsanitised (an import, a CMS).
	sub, _, err := st.UpsertSubscriber(ctx, model.Address("reader@example.com"), "Reader "+payload, model.SubscriberActive)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, model.SubscriptionActive); err != nil {
		t.Fatal(err)
	}
	m, err := mailer.New(cfg.SMTP, mailer.WithLogger(quietLog()))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	svc := newDigests(t, cfg, st, m, nil)
	subs, err := subscription.New(subscription.Options{Config: cfg, Store: st, Content: st, Mailer: m, Log: quietLog()})
	if err != nil {
		t.Fatalf("subscription.New: %v", err)
	}
	// A subscriber typing the payload in the form's name field.
	if _, _, err := subs.Subscribe(ctx, subscription.Request{Email: "new@example.com", Name: payload}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	// The email field: every variant with a control or separator
	// character is refused as an address (an encoded word in a local part
	// is just characters: no mail reader decodes it there).
	for _, addr := range []string{"x" + payload + "@example.com", "x@example.com" + payload, payload + "@example.com"} {
		if _, err := model.ParseAddress(addr); err == nil && strings.ContainsAny(payload, "\r\n\x00\v\f\u2028\u2029\u0085%") {
			t.Errorf("ParseAddress accepted %q", addr)
		}
	}
	res, err := svc.SendNow(ctx, digest.SendNowRequest{})
	if err != nil || res.Sent != 1 {
		t.Fatalf("send-now: %+v %v", res, err)
	}
	for _, msg := range srv.Messages() {
		msgs = append(msgs, msg.Data)
	}
	return msgs, configRefused
}

// headerKeys parses a message and its MIME parts and returns each header
// block's sorted keys, failing on any value that decodes to a line break.
func headerKeys(t *testing.T, name string, raw []byte) []string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: parse: %v", name, err)
	}
	var out []string
	dec := &mime.WordDecoder{}
	check := func(where string, h map[string][]string) {
		keys := make([]string, 0, len(h))
		for k, vs := range h {
			keys = append(keys, k)
			for _, v := range vs {
				// RFC 2047 section 5: an encoded word inside a quoted
				// string is not one; decode only the rest.
				d, err := dec.DecodeHeader(outsideQuotes(v))
				if err != nil {
					d = v
				}
				if strings.ContainsAny(d, "\r\n\x00\u2028\u2029\u0085") {
					t.Errorf("%s: %s header %s decodes to a line break or NUL: %q", name, where, k, d)
				}
			}
		}
		sort.Strings(keys)
		out = append(out, where+": "+strings.Join(keys, ","))
	}
	check("message", msg.Header)
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return out
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: part %d: %v", name, i, err)
		}
		check(fmt.Sprintf("part %d", i), p.Header)
	}
	return out
}

// TestHeaderInjection is issue 7, item 9.
func TestHeaderInjection(t *testing.T) {
	base, _ := composed(t, "")
	var want [][]string
	for i, m := range base {
		want = append(want, headerKeys(t, fmt.Sprintf("baseline %d", i), m))
	}
	names := make([]string, 0, len(injections))
	for k := range injections {
		names = append(names, k)
	}
	sort.Strings(names)
	refused := 0
	checked := 0
	for _, name := range names {
		msgs, cfgRefused := composed(t, injections[name])
		if cfgRefused {
			refused++
		}
		if len(msgs) != len(base) {
			t.Fatalf("%s: %d messages, want %d", name, len(msgs), len(base))
		}
		for i, m := range msgs {
			got := headerKeys(t, fmt.Sprintf("%s message %d", name, i), m)
			if !slices.Equal(got, want[i]) {
				t.Errorf("%s: message %d header set changed:\n got %q\nwant %q", name, i, got, want[i])
			}
			hdr, _, _ := bytes.Cut(m, []byte("\r\n\r\n"))
			for _, line := range strings.Split(string(hdr), "\r\n") {
				if l := strings.ToLower(line); strings.HasPrefix(l, "x-injected") || strings.HasPrefix(l, "bcc") {
					t.Errorf("%s: message %d has an injected header line %q", name, i, line)
				}
			}
			checked++
		}
	}
	figure(t, "%d injection variants (CR, LF, CRLF, CRLFCRLF, %%0d%%0a, RFC 2047 Q and B encoded CRLF, U+2028, U+2029, U+0085, NUL, VT/FF) in subscriber name (form and import), article title and summary, section and author names, site name, postal address, digest title and subject: %d messages parsed, header sets identical to the baseline, no injected header; the config loader refused %d of the variants in digest title/subject at start (the others went through composition)",
		len(injections), checked, refused)
}

// outsideQuotes replaces each quoted string of a header value with "Q".
func outsideQuotes(v string) string {
	var b strings.Builder
	in, esc := false, false
	for _, r := range v {
		switch {
		case esc:
			esc = false
		case in && r == '\\':
			esc = true
		case r == '"':
			if in {
				b.WriteString("Q")
			}
			in = !in
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}
