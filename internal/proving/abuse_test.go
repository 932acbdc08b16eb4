package proving

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/token"
)

const twoDigests = `  - {name: daily, title: "Daily", schedule: "0 7 * * *", timezone: UTC, lookback: 48h, catch_up: 1s}
  - {name: weekly, title: "Weekly", schedule: "0 8 * * 1", timezone: UTC, lookback: 168h, catch_up: 1s}`

// abuseEnv is a serve child behind a "proxy": 127.0.0.1 is trusted, so
// X-Forwarded-For names the client and each test can be its own address.
type abuseEnv struct {
	d    *daemon
	smtp *smtptest.Server
	db   string
	st   *store.Store
	c    *http.Client // never follows redirects
}

func startAbuseEnv(t *testing.T, perHour int) *abuseEnv {
	t.Helper()
	dir := t.TempDir()
	srv := smtptest.Start(t, smtptest.Options{})
	db := filepath.Join(dir, "herald.db")
	st := openStore(t, db)
	seedContent(t, st, 4)
	st.Close()
	listen := freeAddr(t)
	cfg := writeConfig(t, cfgOpts{dir: dir, listen: listen, smtp: srv, perHour: perHour, digests: twoDigests,
		httpExtra: `, trusted_proxies: ["127.0.0.1"]`})
	d := startServe(t, cfg, listen, "serve.log")
	e := &abuseEnv{d: d, smtp: srv, db: db, st: openStore(t, db),
		c: &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	t.Cleanup(func() { e.st.Close() })
	return e
}

// do sends a request as client ip and returns the status, body and
// response; it fails the test on a transport error or a 5xx.
func (e *abuseEnv) do(t *testing.T, ip, method, path, ctype string, body io.Reader, hdr ...string) (int, string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, e.d.base+path, body)
	if err != nil {
		t.Fatalf("%s %q: %v", method, path, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.c.Do(req)
	if err != nil {
		t.Fatalf("%s %.80q: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Errorf("%s %.120q: %d %s", method, path, resp.StatusCode, b)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err != nil || u.Host != "" || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
			t.Errorf("%s %.120q redirects off-site: Location %q", method, path, loc)
		}
	}
	return resp.StatusCode, string(b), resp
}

func (e *abuseEnv) subscribe(t *testing.T, ip string, form url.Values) int {
	t.Helper()
	code, _, _ := e.do(t, ip, "POST", "/subscribe", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	return code
}

// digestsTo counts digest messages (with List-Unsubscribe) and
// confirmation messages (Auto-Submitted, a subject asking to confirm) the
// server has for rcpt; other transactional mail (the link to the
// preferences page an active reader gets) counts as neither.
func digestsTo(srv *smtptest.Server, rcpt string) (digests, confirms int) {
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			if !strings.EqualFold(to, rcpt) {
				continue
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			switch {
			case err != nil:
			case msg.Header.Get("List-Unsubscribe") != "":
				digests++
			case msg.Header.Get("Auto-Submitted") != "" && strings.Contains(msg.Header.Get("Subject"), "onfirm"):
				confirms++
			}
		}
	}
	return
}

// TestSubscribeAbuse is issue 7, item 7.
func TestSubscribeAbuse(t *testing.T) {
	const perHour = 5
	e := startAbuseEnv(t, perHour)
	ctx := context.Background()

	// A flood of 200 requests from one address, each for a different
	// victim: perHour accepted, the rest 429, no more mail than accepted.
	accepted, limited := 0, 0
	for i := range 200 {
		switch code := e.subscribe(t, "203.0.113.7", url.Values{"email": {fmt.Sprintf("victim%03d@example.org", i)}}); code {
		case http.StatusAccepted:
			accepted++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Errorf("flood request %d: %d", i, code)
		}
	}
	time.Sleep(200 * time.Millisecond)
	mails := len(e.smtp.Messages())
	if accepted > perHour || mails > perHour {
		t.Errorf("flood of 200 from one address: %d accepted, %d mails; want at most %d", accepted, mails, perHour)
	}
	// Oversized bodies are refused before any work.
	big := strings.Repeat("a", 1<<20)
	bodies := []struct{ ctype, body string }{
		{"application/x-www-form-urlencoded", "email=big%40example.org&name=" + big},
		{"application/json", `{"email":"big@example.org","name":"` + big + `"}`},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + big + "\r\n--x--\r\n"},
	}
	oversized := 0
	for i, b := range bodies {
		code, _, _ := e.do(t, fmt.Sprintf("198.51.100.%d", 10+i), "POST", "/subscribe", b.ctype, strings.NewReader(b.body))
		if code != http.StatusRequestEntityTooLarge && code != http.StatusBadRequest {
			t.Errorf("1 MiB %s body: %d, want 413 or 400", b.ctype, code)
		} else {
			oversized++
		}
	}
	if _, ok, _ := e.st.FindSubscriber(ctx, model.Address("big@example.org")); ok {
		t.Error("an oversized request created a subscriber")
	}

	// Subscribing someone else makes a pending subscriber who gets one
	// confirmation email and no digest, even when an edition goes out.
	const victim = "someone.else@example.org"
	if code := e.subscribe(t, "198.51.100.20", url.Values{"email": {victim}, "name": {"Mallory's victim"}}); code != http.StatusAccepted {
		t.Fatalf("subscribe victim: %d", code)
	}
	// An active subscriber with follows, and an unsubscribed weekly.
	sub, _, err := e.st.UpsertSubscriber(ctx, model.Address("active@example.org"), "Active Reader", model.SubscriberActive)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.UpsertSubscription(ctx, sub.ID, "daily", []string{"world"}, nil, model.SubscriptionActive); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.UpsertSubscription(ctx, sub.ID, "weekly", nil, nil, model.SubscriptionUnsubscribed); err != nil {
		t.Fatal(err)
	}
	// A stranger's unconfirmed requests for that address change nothing.
	for i, f := range []url.Values{
		{"email": {"active@example.org"}, "digest": {"daily"}, "section": {"tech"}, "name": {"Renamed"}},
		{"email": {"ACTIVE@example.org"}, "digest": {"weekly"}},
	} {
		if code := e.subscribe(t, fmt.Sprintf("198.51.100.%d", 30+i), f); code != http.StatusAccepted {
			t.Errorf("subscribe active %d: %d (the answer must not reveal who subscribes)", i, code)
		}
	}
	subs, err := e.st.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	altered := 0
	for _, s := range subs {
		switch {
		case s.Digest == "daily" && (s.Status != model.SubscriptionActive || strings.Join(s.Sections, ",") != "world"):
			t.Errorf("an unconfirmed request changed an active subscriber's daily follows: %+v", s)
			altered++
		case s.Digest == "weekly" && s.Status != model.SubscriptionUnsubscribed:
			t.Errorf("an unconfirmed request re-subscribed an active subscriber to weekly: %+v", s)
			altered++
		}
	}

	code, body, _ := e.do(t, "", "POST", "/api/send-now", "application/json", strings.NewReader(`{"digest":"daily"}`), "Authorization", "Bearer "+testAdmin)
	if code != http.StatusAccepted {
		t.Fatalf("send-now: %d %s", code, body)
	}
	waitUntil(t, 30*time.Second, "the edition's digest to the active subscriber", func() bool {
		n, _ := digestsTo(e.smtp, "active@example.org")
		return n >= 1
	})
	time.Sleep(300 * time.Millisecond)
	vd, vc := digestsTo(e.smtp, victim)
	if vd != 0 || vc != 1 {
		t.Errorf("a pending subscriber got %d digests and %d confirmations; want 0 and 1", vd, vc)
	}
	if v, ok, _ := e.st.FindSubscriber(ctx, model.Address(victim)); !ok || v.Status != model.SubscriberPending {
		t.Errorf("the victim is %q, want pending until they confirm", v.Status)
	}
	ad, ac := digestsTo(e.smtp, "active@example.org")
	if ad != 1 || ac != 0 {
		t.Errorf("the active subscriber got %d digests and %d confirmations, want 1 and 0", ad, ac)
	}
	figure(t, "flood of 200 subscribe requests from one address (subscribe_per_hour %d): %d accepted, %d answered 429, %d emails sent; oversized (1 MiB) bodies refused %d/%d; pending subscriber after an edition: %d digests, %d confirmation; unconfirmed requests that altered an active subscriber's subscriptions: %d",
		perHour, accepted, limited, mails, oversized, len(bodies), vd, vc, altered)
}

// TestAdminAndPathAbuse is issue 7, item 8 (but for the timing test,
// TestAdminTokenTiming, and the static writer, TestStaticWriterHostileSlugs).
func TestAdminAndPathAbuse(t *testing.T) {
	e := startAbuseEnv(t, 1000)
	ctx := context.Background()
	tally := map[string]int{}
	check := func(what string, got int, want ...int) {
		t.Helper()
		for _, w := range want {
			if got == w {
				tally[what]++
				return
			}
		}
		t.Errorf("%s: status %d, want %v", what, got, want)
	}

	// Admin API.
	auth := func(v string) []string { return []string{"Authorization", v} }
	for _, p := range []string{"/api/send-now", "/api/editions"} {
		m := "POST"
		if p == "/api/editions" {
			m = "GET"
		}
		c, _, _ := e.do(t, "", m, p, "", nil)
		check("admin: no token", c, 401)
		c, _, _ = e.do(t, "", m, p, "", nil, auth("Bearer wrong")...)
		check("admin: wrong token", c, 401)
		c, _, _ = e.do(t, "", m, p, "", nil, auth("Bearer "+testAdmin+"x")...)
		check("admin: token plus a character", c, 401)
		c, _, _ = e.do(t, "", m, p, "", nil, auth("Bearer "+testAdmin[:len(testAdmin)-1])...)
		check("admin: token less a character", c, 401)
		c, _, _ = e.do(t, "", m, p, "", nil, auth("Basic "+testAdmin)...)
		check("admin: token as Basic", c, 401)
		c, _, _ = e.do(t, "", m, p, "", nil, auth("Bearer ")...)
		check("admin: empty bearer", c, 401)
		for _, q := range []string{"token", "admin_token", "access_token"} {
			c, _, _ = e.do(t, "", m, p+"?"+q+"="+testAdmin, "", nil)
			check("admin: token in the query string", c, 400)
			c, _, _ = e.do(t, "", m, p+"?"+q+"="+testAdmin, "", nil, auth("Bearer "+testAdmin)...)
			check("admin: token in the query string even with the header", c, 400)
		}
	}
	eds, _ := e.st.Editions(ctx, "", 10)
	for _, ed := range eds {
		if ed.Kind == model.EditionManual {
			t.Errorf("a refused admin request started edition %d", ed.ID)
		}
	}

	// Feed routes with traversal, encodings, NUL bytes and long names.
	long := strings.Repeat("a", 5000)
	for _, p := range []string{
		"/feeds/../../etc/passwd", "/feeds/sections/../../../etc/passwd", "/feeds/%2e%2e/%2e%2e/etc/passwd",
		"/feeds/sections/%2e%2e%2f%2e%2e%2fetc%2fpasswd.rss", "/feeds/sections/..%2f..%2f..%2fetc%2fpasswd",
		"/feeds/sections/%252e%252e%252fetc%252fpasswd.rss", "/feeds/sections/..%5c..%5cetc%5cpasswd.rss",
		"/feeds/sections/world%00.rss", "/feeds/sections/world.rss%00.json", "/feeds/%00", "/feeds/sections/%c0%ae%c0%ae/passwd",
		"/feeds/authors/" + long + ".rss", "/feeds/sections/" + long + "/" + long + ".atom", "/feeds/all.rss/../../../etc/passwd",
		"/feeds/sections/world'%20OR%20'1'='1.rss", "/feeds/authors/x%22;DROP%20TABLE%20articles;--.json",
		"/feeds/sections/WORLD.rss", "/feeds//etc/passwd", "/feeds/sections/.rss", "/feeds/sections/world.rss.bak",
	} {
		c, body, _ := e.do(t, "", "GET", p, "", nil)
		if strings.Contains(body, "root:") {
			t.Errorf("GET %.80q served /etc/passwd", p)
		}
		check("feeds: hostile path", c, 404, 400, 301, 307, 308)
	}
	c, _, _ := e.do(t, "", "GET", "/feeds/sections/world.rss", "", nil)
	check("feeds: the real feed still answers", c, 200)

	// SQL metacharacters in every parameter.
	sqlish := []string{`' OR '1'='1`, `"; DROP TABLE subscribers; --`, `world'); DELETE FROM articles; --`, `%' --`, `\'; SELECT 1;`, "1 UNION SELECT secret FROM settings"}
	for i, s := range sqlish {
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		c := e.subscribe(t, ip, url.Values{"email": {fmt.Sprintf("sql%d@example.org", i)}, "name": {s}})
		check("sql: in the name (stored literally)", c, 202)
		c = e.subscribe(t, ip, url.Values{"email": {s + "@example.org"}})
		check("sql: in the email", c, 400)
		c = e.subscribe(t, ip, url.Values{"email": {fmt.Sprintf("sqld%d@example.org", i)}, "digest": {s}})
		check("sql: in the digest", c, 400)
		c = e.subscribe(t, ip, url.Values{"email": {fmt.Sprintf("sqls%d@example.org", i)}, "section": {s}, "author": {s}})
		check("sql: in section and author", c, 400)
		for _, page := range []string{"/confirm", "/unsubscribe", "/preferences"} {
			c, _, _ = e.do(t, ip, "GET", page+"?token="+url.QueryEscape(s), "", nil)
			check("sql: in a page token", c, 400)
			c, _, _ = e.do(t, ip, "POST", page+"?token="+url.QueryEscape(s), "application/x-www-form-urlencoded", strings.NewReader("digest="+url.QueryEscape(s)))
			check("sql: in a page token (POST)", c, 400)
		}
		c, _, _ = e.do(t, ip, "GET", "/api/editions?limit="+url.QueryEscape("1;"+s), "", nil, auth("Bearer "+testAdmin)...)
		check("sql: in the editions limit", c, 400)
		js := fmt.Sprintf(`{"digest":%q,"sections":[%q],"authors":[%q],"since":%q}`, s, s, s, s)
		c, _, _ = e.do(t, ip, "POST", "/api/send-now", "application/json", strings.NewReader(js), auth("Bearer "+testAdmin)...)
		check("sql: in the send-now body", c, 400)
		// The 202 only records the request; the daemon's intake worker
		// stores the reader a moment later (on a loaded machine, later
		// than the requests above take).
		addr := model.Address(fmt.Sprintf("sql%d@example.org", i))
		waitUntil(t, 10*time.Second, "the intake worker to store "+string(addr), func() bool {
			_, ok, _ := e.st.FindSubscriber(ctx, addr)
			return ok
		})
		if sub, _, _ := e.st.FindSubscriber(ctx, addr); sub.Name != strings.TrimSpace(s) {
			t.Errorf("the name %q was not stored literally: %q", s, sub.Name)
		}
	}
	arts, err := e.st.Articles(ctx, store.ArticleQuery{Limit: 100})
	if err != nil || len(arts) != 4 {
		t.Errorf("articles after the SQL payloads: %d (%v), want 4", len(arts), err)
	}

	// Tokens: purpose, id, digest and expiry are all checked.
	signer, _ := token.NewSigner([]byte(testSecret), nil)
	mk := func(email string) (model.Subscriber, []model.Subscription) {
		sub, _, err := e.st.UpsertSubscriber(ctx, model.Address(email), "", model.SubscriberActive)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"daily", "weekly"} {
			if _, err := e.st.UpsertSubscription(ctx, sub.ID, d, nil, nil, model.SubscriptionActive); err != nil {
				t.Fatal(err)
			}
		}
		subs, _ := e.st.SubscriptionsOf(ctx, sub.ID)
		return sub, subs
	}
	a, aSubs := mk("alice@example.org")
	b, bSubs := mk("bob@example.org")
	post := func(page, tok string) int {
		c, _, _ := e.do(t, "", "POST", page+"?token="+url.QueryEscape(tok), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		return c
	}
	c = post("/unsubscribe", signer.Make(token.Confirm, aSubs[0].ID, time.Hour))
	check("token: a confirm token at /unsubscribe", c, 400)
	c = post("/unsubscribe", signer.Make(token.Manage, aSubs[0].ID, time.Hour))
	check("token: a manage token at /unsubscribe", c, 400)
	c = post("/confirm", signer.Make(token.Unsubscribe, a.ID, time.Hour))
	check("token: an unsubscribe token at /confirm", c, 400)
	// Alice's token with Bob's subscription id swapped in.
	tok := signer.Make(token.Unsubscribe, aSubs[0].ID, time.Hour)
	p64, mac, _ := strings.Cut(tok, ".")
	payload := strings.Replace(mustB64(t, p64), "."+itoa36(aSubs[0].ID)+".", "."+itoa36(bSubs[0].ID)+".", 1)
	c = post("/unsubscribe", b64(payload)+"."+mac)
	check("token: another subscriber's id under a valid signature", c, 400)
	// An expired token.
	old, _ := token.NewSigner([]byte(testSecret), func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) })
	c = post("/unsubscribe", old.Make(token.Unsubscribe, aSubs[0].ID, 7*24*time.Hour))
	check("token: expired", c, 403)
	c, _, _ = e.do(t, "", "GET", "/confirm?token="+url.QueryEscape(old.Make(token.Confirm, a.ID, time.Hour)), "", nil)
	check("token: expired (GET)", c, 403)
	c = post("/unsubscribe", strings.Repeat("A", 5000))
	check("token: very long", c, 400)
	// Alice's daily token ends Alice's daily only.
	c = post("/unsubscribe", signer.Make(token.Unsubscribe, aSubs[0].ID, time.Hour))
	check("token: the right one works", c, 200)
	after := func(id int64) map[string]string {
		subs, _ := e.st.SubscriptionsOf(ctx, id)
		m := map[string]string{}
		for _, s := range subs {
			m[s.Digest] = s.Status
		}
		return m
	}
	if got := after(a.ID); got[aSubs[0].Digest] != model.SubscriptionUnsubscribed || got[aSubs[1].Digest] != model.SubscriptionActive {
		t.Errorf("alice after her %s unsubscribe: %v", aSubs[0].Digest, got)
	}
	if got := after(b.ID); got["daily"] != model.SubscriptionActive || got["weekly"] != model.SubscriptionActive {
		t.Errorf("bob after the forged and misused tokens: %v", got)
	}

	// Redirects: e.do fails any Location with a host.
	for _, p := range []string{"/", "//evil.example/", "/\\evil.example/", "/feeds/..//evil.example/x", "/%2f%2fevil.example/", "/subscribe/..//evil.example", "/.//evil.example"} {
		c, _, _ := e.do(t, "", "GET", p, "", nil)
		tally[fmt.Sprintf("redirect probe %d", c)]++
	}
	n := 0
	for _, v := range tally {
		n += v
	}
	figure(t, "%d hostile requests answered as intended, no 5xx, no off-site redirect, /etc/passwd never served, content and subscriber tables intact: %s", n, fmtCounts(tally))
}

func mustB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func itoa36(n int64) string { return strconv.FormatInt(n, 36) }
