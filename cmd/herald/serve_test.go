package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/testkit"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/token"
)

const (
	testSecret = "serve-test-secret-0123456789abcdef0123"
	testAdmin  = "serve-test-admin-token-0123456789abcdef"
)

func freeAddr(t *testing.T) string { return testkit.FreeAddr(t) }

// serveEnv is a running herald serve with a temporary database and an
// in-process SMTP server.
type serveEnv struct {
	dir, cfgPath, base string
	smtp               *smtptest.Server
	stop               func() int
}

func writeServeConfig(t *testing.T, dir, listen string, srv *smtptest.Server, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`site: {name: "Serve Test News", url: "https://news.example.com", postal_address: "1 Test Road"}
database: %q
secret: %q
http: {listen: %q, base_url: "http://%s", admin_token: %q, subscribe_per_hour: 50}
feeds: {refresh_interval: 100ms}
smtp: {host: %q, port: %d, tls: none, from: "Serve Test <digest@news.example.com>", max_connections: 2, timeout: 5s}
log: {level: warn}
digests:
  - {name: daily, title: "Daily", schedule: "0 7 * * *", timezone: Europe/London, lookback: 48h}
  - {name: weekly, title: "Weekly", schedule: "0 8 * * 1", timezone: America/New_York, lookback: 168h}
%s`, filepath.Join(dir, "herald.db"), testSecret, listen, listen, testAdmin, srv.Host(), srv.Port(), extra)
	p := filepath.Join(dir, "herald.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// seedStore loads the seed article (dated an hour ago) before herald starts.
func seedStore(t *testing.T, dbPath string) {
	t.Helper()
	st, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seed := strings.ReplaceAll(seedArticle, "'2019-04-25T14:30:00Z'", "'"+store.FormatTime(time.Now().Add(-time.Hour))+"'")
	seed = strings.ReplaceAll(seed, "'2019-04-25T16:05:00Z'", "NULL")
	if err := st.ExecScript(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
}

func startServe(t *testing.T) *serveEnv {
	t.Helper()
	dir := t.TempDir()
	srv := smtptest.Start(t, smtptest.Options{})
	listen := freeAddr(t)
	cfgPath := writeServeConfig(t, dir, listen, srv, "")
	seedStore(t, filepath.Join(dir, "herald.db"))
	// As a daemon that ran its slots on time: no catch-up edition at start
	// takes the digest's lease while a test calls the API.
	markSlotsRun(t, cfgPath, filepath.Join(dir, "herald.db"))

	ctx, cancel := context.WithCancel(context.Background())
	m := NewMain()
	var logs bytes.Buffer
	m.Stdout, m.Stderr = io.Discard, &logs
	m.Getenv = func(string) (string, bool) { return "", false }
	ready := make(chan net.Addr, 1)
	m.OnListen = func(a net.Addr) { ready <- a }
	done := make(chan int, 1)
	go func() { done <- m.Run(ctx, []string{"--config", cfgPath, "serve"}) }()
	select {
	case a := <-ready:
		if a.String() != listen {
			t.Fatalf("bound %s, want %s", a, listen)
		}
	case code := <-done:
		t.Fatalf("serve exited %d before listening:\n%s", code, logs.String())
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not start")
	}
	env := &serveEnv{dir: dir, cfgPath: cfgPath, base: "http://" + listen, smtp: srv}
	stopped := false
	var code int
	env.stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Error("serve did not stop")
			}
		}
		return code
	}
	t.Cleanup(func() { env.stop() })
	return env
}

func (e *serveEnv) do(t *testing.T, method, path, ctype, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// textPart returns the text/plain part of a raw message.
func textPart(t *testing.T, raw []byte) (string, *mail.Message) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(p)
			return string(b), msg
		}
	}
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+/(confirm|unsubscribe|preferences)\?token=[A-Za-z0-9._~-]+`)

func TestServeEndpoints(t *testing.T) {
	e := startServe(t)
	signer, _ := token.NewSigner([]byte(testSecret), nil)

	t.Run("health and metrics", func(t *testing.T) {
		if r, body := e.do(t, "GET", "/healthz", "", ""); r.StatusCode != 200 || body != "ok\n" {
			t.Errorf("healthz = %d %q", r.StatusCode, body)
		}
		e.do(t, "GET", "/feeds/all.rss", "", "")
		r, body := e.do(t, "GET", "/metrics", "", "")
		if r.StatusCode != 200 || !strings.Contains(body, `herald_feed_requests_total{code="200"}`) {
			t.Errorf("metrics = %d, lacks the feed counter:\n%.500s", r.StatusCode, body)
		}
		for _, name := range []string{"herald_feed_not_modified_total", "herald_subscribe_requests_total", "go_goroutines"} {
			if !strings.Contains(body, name) && name != "herald_subscribe_requests_total" {
				t.Errorf("metrics lack %s", name)
			}
		}
	})

	t.Run("feeds", func(t *testing.T) {
		cases := []struct {
			method, path string
			code         int
			ctype        string
		}{
			{"GET", "/feeds/all.rss", 200, "application/rss+xml; charset=utf-8"},
			{"GET", "/feeds/all.atom", 200, "application/atom+xml; charset=utf-8"},
			{"GET", "/feeds/all.json", 200, "application/feed+json; charset=utf-8"},
			{"GET", "/feeds/sections/world-news.rss", 200, "application/rss+xml; charset=utf-8"},
			{"GET", "/feeds/authors/robert-overtone.json", 200, "application/feed+json; charset=utf-8"},
			{"HEAD", "/feeds/all.atom", 200, "application/atom+xml; charset=utf-8"},
			{"GET", "/feeds/sections/no-such-section.rss", 404, ""},
			{"GET", "/feeds/authors/nobody.atom", 404, ""},
			{"GET", "/feeds/sections/..%2f..%2fetc%2fpasswd.rss", 404, ""},
			{"GET", "/feeds/sections/%2e%2e.rss", 404, ""},
			{"GET", "/feeds/all.xml", 404, ""},
			{"GET", "/feeds/sections/" + strings.Repeat("a", 5000) + ".rss", 404, ""},
			{"POST", "/feeds/all.rss", 405, ""},
		}
		for _, tc := range cases {
			r, _ := e.do(t, tc.method, tc.path, "", "")
			if r.StatusCode != tc.code {
				t.Errorf("%s %.80s = %d, want %d", tc.method, tc.path, r.StatusCode, tc.code)
			}
			if tc.ctype != "" && r.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("%s content type %q", tc.path, r.Header.Get("Content-Type"))
			}
		}
		r, _ := e.do(t, "GET", "/feeds/all.rss", "", "")
		etag := r.Header.Get("ETag")
		if r2, _ := e.do(t, "GET", "/feeds/all.rss", "", "", "If-None-Match", etag); r2.StatusCode != 304 {
			t.Errorf("If-None-Match: %d", r2.StatusCode)
		}
	})

	t.Run("subscribe form and validation", func(t *testing.T) {
		r, body := e.do(t, "GET", "/subscribe", "", "")
		if r.StatusCode != 200 || !strings.Contains(body, `name="email"`) {
			t.Errorf("form = %d", r.StatusCode)
		}
		form := "application/x-www-form-urlencoded"
		bad := []struct {
			name, ctype, body string
			code              int
		}{
			{"no email", form, "name=x", 400},
			{"not an address", form, "email=not-an-address", 400},
			{"header injection", form, "email=" + url.QueryEscape("a@example.com\r\nBcc: b@example.com"), 400},
			{"name with newline", form, "email=a@example.com&name=" + url.QueryEscape("A\r\nBcc: x"), 400},
			{"unknown digest", form, "email=a@example.com&digest=monthly", 400},
			{"unknown section", form, "email=a@example.com&section=nope", 400},
			{"bad json", "application/json", "{", 400},
			{"unknown json field", "application/json", `{"email":"a@example.com","admin":true}`, 400},
			{"text body", "text/plain", "email=a@example.com", 400},
			{"oversized", form, "email=a@example.com&name=" + strings.Repeat("x", 64<<10), 413},
		}
		for _, tc := range bad {
			if r, body := e.do(t, "POST", "/subscribe", tc.ctype, tc.body); r.StatusCode != tc.code {
				t.Errorf("%s: %d, want %d: %.200s", tc.name, r.StatusCode, tc.code, body)
			}
		}
		if n := len(e.smtp.Messages()); n != 0 {
			t.Errorf("%d mails sent for invalid requests", n)
		}
	})

	var confirmURL string
	t.Run("subscribe and confirm", func(t *testing.T) {
		r1, body1 := e.do(t, "POST", "/subscribe", "application/x-www-form-urlencoded", "email=Reader@Example.com&name=Ada+Reader")
		if r1.StatusCode != 202 {
			t.Fatalf("subscribe = %d %s", r1.StatusCode, body1)
		}
		waitFor(t, "confirmation mail", func() bool { return e.smtp.CountFor("reader@example.com") == 1 })
		text, msg := textPart(t, e.smtp.Messages()[0].Data)
		if !strings.Contains(msg.Header.Get("Subject"), "onfirm") {
			t.Errorf("subject %q", msg.Header.Get("Subject"))
		}
		confirmURL = linkRE.FindString(text)
		if !strings.HasPrefix(confirmURL, e.base+"/confirm?token=") {
			t.Fatalf("no confirm link in:\n%s", text)
		}
		// The same answer for an address that already exists (JSON this time).
		r2, _ := e.do(t, "POST", "/subscribe", "application/json", `{"email":"reader@example.com","name":"Ada Reader"}`)
		if r2.StatusCode != 202 {
			t.Errorf("repeat subscribe = %d", r2.StatusCode)
		}
		// A pending address gets one confirmation per ConfirmEvery, however
		// often (and from wherever) it is submitted.
		for i := 0; i < 3; i++ {
			e.do(t, "POST", "/subscribe", "application/x-www-form-urlencoded", "email=reader@example.com")
		}
		time.Sleep(300 * time.Millisecond)
		if n := e.smtp.CountFor("reader@example.com"); n != 1 {
			t.Errorf("%d confirmation emails for one pending address", n)
		}
		path := strings.TrimPrefix(confirmURL, e.base)
		tok := strings.TrimPrefix(path, "/confirm?token=")
		if r, body := e.do(t, "GET", path, "", ""); r.StatusCode != 200 || !strings.Contains(body, "<form") {
			t.Errorf("confirm GET = %d", r.StatusCode)
		}
		id, err := signer.Verify(tok, token.Confirm)
		if err != nil {
			t.Fatal(err)
		}
		forged := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
		refused := map[string]string{
			"forged":        forged,
			"wrong purpose": signer.Make(token.Unsubscribe, id, time.Hour),
			"expired":       signer.Make(token.Confirm, id, -time.Minute),
			"other key": func() string {
				s, _ := token.NewSigner([]byte("other"), nil)
				return s.Make(token.Confirm, id, time.Hour)
			}(),
			"garbage": "%00%0d%0a';DROP TABLE subscribers;--",
			"empty":   "",
		}
		for name, bad := range refused {
			if r, _ := e.do(t, "POST", "/confirm?token="+url.QueryEscape(bad), "", ""); r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Errorf("confirm with %s token = %d", name, r.StatusCode)
			}
		}
		if r, _ := e.do(t, "POST", path, "application/x-www-form-urlencoded", ""); r.StatusCode != 200 {
			t.Errorf("confirm POST = %d", r.StatusCode)
		}
	})

	t.Run("admin api", func(t *testing.T) {
		auth := []string{"Authorization", "Bearer " + testAdmin}
		if r, _ := e.do(t, "POST", "/api/send-now", "application/json", `{}`); r.StatusCode != 401 {
			t.Errorf("no token: %d", r.StatusCode)
		}
		if r, _ := e.do(t, "POST", "/api/send-now", "application/json", `{}`, "Authorization", "Bearer wrong"); r.StatusCode != 401 {
			t.Errorf("wrong token: %d", r.StatusCode)
		}
		if r, _ := e.do(t, "GET", "/api/editions", "", "", "Authorization", "bearer "+testAdmin); r.StatusCode != 200 {
			t.Errorf("lower-case scheme: %d", r.StatusCode)
		}
		if r, _ := e.do(t, "POST", "/api/send-now?token="+testAdmin, "application/json", `{}`); r.StatusCode != 400 {
			t.Errorf("token in query: %d", r.StatusCode)
		}
		if r, _ := e.do(t, "GET", "/api/editions", "", "", "Authorization", "Basic "+testAdmin); r.StatusCode != 401 {
			t.Errorf("basic auth: %d", r.StatusCode)
		}
		if r, _ := e.do(t, "POST", "/api/send-now", "application/json", `{"digest":"nope"}`, auth...); r.StatusCode != 400 {
			t.Errorf("unknown digest: %d", r.StatusCode)
		}
		if r, _ := e.do(t, "POST", "/api/send-now", "application/json", `{"sektion":["x"]}`, auth...); r.StatusCode != 400 {
			t.Errorf("unknown field: %d", r.StatusCode)
		}
		if r, body := e.do(t, "POST", "/api/send-now", "application/json", `{"section":["no-such-section"]}`, auth...); r.StatusCode != 400 || !strings.Contains(body, "no-such-section") {
			t.Errorf("the CLI's flag name, unknown section: %d %s", r.StatusCode, body)
		}
		if r, _ := e.do(t, "POST", "/api/send-now", "application/json", `{"since":"yesterday"}`, auth...); r.StatusCode != 400 {
			t.Errorf("bad since: %d", r.StatusCode)
		}
		// While another process holds the digest's lease: 409.
		st, err := store.Open(context.Background(), filepath.Join(e.dir, "herald.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := st.AcquireLease(context.Background(), "daily", "someone-else", 0, time.Minute)
		if err != nil || !ok {
			t.Fatalf("lease: %v %v", ok, err)
		}
		if r, body := e.do(t, "POST", "/api/send-now", "application/json", `{"digest":"daily"}`, auth...); r.StatusCode != 409 {
			t.Errorf("lease held: %d %s", r.StatusCode, body)
		}
		st.ReleaseLease(context.Background(), "daily", "someone-else")
		st.Close()

		before := e.smtp.CountFor("reader@example.com")
		r, body := e.do(t, "POST", "/api/send-now", "application/json", `{"digest":"daily"}`, auth...)
		if r.StatusCode != 202 {
			t.Fatalf("send-now = %d %s", r.StatusCode, body)
		}
		var res struct {
			EditionID int64 `json:"edition_id"`
		}
		json.Unmarshal([]byte(body), &res)
		if res.EditionID == 0 {
			t.Fatalf("no edition id: %s", body)
		}
		waitFor(t, "the digest", func() bool { return e.smtp.CountFor("reader@example.com") == before+1 })
		waitFor(t, "edition done", func() bool {
			_, b := e.do(t, "GET", "/api/editions", "", "", auth...)
			var out struct {
				Editions []struct {
					ID     int64
					Status string
					Counts map[string]int
				}
			}
			json.Unmarshal([]byte(b), &out)
			for _, ed := range out.Editions {
				if ed.ID == res.EditionID {
					return ed.Status == model.EditionDone && ed.Counts[model.DeliverySent] == 1
				}
			}
			return false
		})
		msgs := e.smtp.Messages()
		digestRaw := msgs[len(msgs)-1].Data
		text, msg := textPart(t, digestRaw)
		if !strings.Contains(text, "Putin accepts") {
			t.Errorf("digest lacks the article:\n%s", text)
		}
		lu := msg.Header.Get("List-Unsubscribe")
		unsub := linkRE.FindString(lu)
		if unsub == "" || msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("unsubscribe headers: %q / %q", lu, msg.Header.Get("List-Unsubscribe-Post"))
		}
		// A second send-now straight after sends nothing new.
		r, _ = e.do(t, "POST", "/api/send-now", "application/json", `{"digest":"daily"}`, auth...)
		if r.StatusCode != 202 && r.StatusCode != 409 {
			t.Errorf("second send-now = %d", r.StatusCode)
		}
		time.Sleep(300 * time.Millisecond)
		if n := e.smtp.CountFor("reader@example.com"); n != before+1 {
			t.Errorf("second send-now mailed again (%d)", n)
		}

		// Preferences through the link in the digest.
		if pref := linkRE.FindString(text); pref != "" && strings.Contains(pref, "/preferences") {
			if r, _ := e.do(t, "GET", strings.TrimPrefix(pref, e.base), "", ""); r.StatusCode != 200 {
				t.Errorf("preferences = %d", r.StatusCode)
			}
		}
		// An unsubscribe token for another subscription is refused.
		uid, err := signer.Verify(strings.TrimPrefix(unsub, e.base+"/unsubscribe?token="), token.Unsubscribe)
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := e.do(t, "POST", "/unsubscribe?token="+signer.Make(token.Unsubscribe, uid+1000, time.Hour), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); r.StatusCode != 404 {
			t.Errorf("unsubscribe of a missing subscription = %d", r.StatusCode)
		}
		// RFC 8058 one-click.
		if r, _ := e.do(t, "POST", strings.TrimPrefix(unsub, e.base), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); r.StatusCode != 200 {
			t.Errorf("one-click = %d", r.StatusCode)
		}
		st, _ = store.Open(context.Background(), filepath.Join(e.dir, "herald.db"), store.Options{})
		sub, err := st.SubscriptionByID(context.Background(), uid)
		st.Close()
		if err != nil || sub.Status != model.SubscriptionUnsubscribed {
			t.Errorf("subscription after one-click: %+v %v", sub, err)
		}
	})

	t.Run("subscribe rate limit", func(t *testing.T) {
		var last int
		for i := 0; i < 60; i++ {
			r, _ := e.do(t, "POST", "/subscribe", "application/x-www-form-urlencoded", fmt.Sprintf("email=flood%d@example.com", i))
			last = r.StatusCode
			if last == 429 {
				if r.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
				break
			}
		}
		if last != 429 {
			t.Errorf("no 429 after a flood")
		}
		if n := len(e.smtp.Messages()); n > 52 {
			t.Errorf("flood produced %d mails", n)
		}
	})

	if code := e.stop(); code != 0 {
		t.Errorf("serve exited %d after cancel", code)
	}
}

var httpClient = http.Client{Timeout: 5 * time.Second}
