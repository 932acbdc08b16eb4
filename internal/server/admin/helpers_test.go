package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/admin"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
	"github.com/heraldnews/herald/subscription"
)

const (
	adminEmail  = "chief@example.com"
	editorEmail = "desk@example.com"
	password    = "correct horse battery"
)

// env is the editors' pages over a real store, digest service (mail as
// .eml files), subscription service and editor service, on httptest.
type env struct {
	t       testing.TB
	cfg     *config.Config
	st      *store.Store
	clock   *testkit.Clock
	eds     *editor.Service
	digests *digest.Service
	h       *admin.Handler
	srv     *httptest.Server
	mux     *http.ServeMux
}

type envOptions struct {
	baseURL string
	yaml    string // extra config
	dbPath  string // an existing database (default: a new one)
}

func newEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if o.baseURL == "" {
		o.baseURL = "http://127.0.0.1"
	}
	cfg, err := config.Parse([]byte(`
site: { name: "The Herald", url: "https://news.example.com" }
secret: "test-secret"
http: { base_url: "` + o.baseURL + `" }
smtp: { from: "The Herald <digest@news.example.com>", transport: file, file_dir: "` + tb.TempDir() + `" }
digests: [ { name: daily, schedule: "0 7 * * *", timezone: Europe/London, lookback: 48h } ]
` + o.yaml))
	if err != nil {
		tb.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	if o.dbPath == "" {
		o.dbPath = tb.TempDir() + "/herald.db"
	}
	st, err := store.Open(context.Background(), o.dbPath, store.Options{Logger: quiet, Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	m, err := mailer.New(cfg.SMTP, mailer.WithLogger(quiet))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	svc, err := digest.New(digest.Options{Config: cfg, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st, Leases: st, Mailer: m, Log: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	subs, err := subscription.New(subscription.Options{Config: cfg, Store: st, Content: st, Mailer: m, Log: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	pages, err := web.LoadAdminPages(cfg, quiet)
	if err != nil {
		tb.Fatal(err)
	}
	eds := editor.New(st, clock.Now, quiet)
	h := admin.New(admin.Options{Config: cfg, Pages: pages, Digests: svc, Accounts: eds, Lists: subs, Editions: st,
		Subscribers: st, Sessions: st.Sessions(), Log: quiet, Now: clock.Now})
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	tb.Cleanup(h.StopStreams)
	e := &env{t: tb, cfg: cfg, st: st, clock: clock, eds: eds, digests: svc, h: h, srv: srv, mux: mux}
	if existing, _ := eds.List(context.Background()); len(existing) > 0 {
		return e
	}
	for _, a := range []editor.NewAccount{{Email: adminEmail, Role: model.RoleAdmin, Password: password},
		{Email: editorEmail, Role: model.RoleEditor, Password: password}} {
		if _, err := eds.Add(context.Background(), a, editor.CLI); err != nil {
			tb.Fatal(err)
		}
	}
	return e
}

// seed writes a section, an author, an article visible an hour ago and n
// active subscribers r0@example.com... of daily following everything.
func (e *env) seed(n int) {
	e.t.Helper()
	ctx := context.Background()
	err := e.st.WriteContent(ctx, func(w *store.ContentWriter) error {
		sec, err := w.Section(model.Section{Slug: "world", Name: "World"})
		if err != nil {
			return err
		}
		au, err := w.Author(model.Author{Slug: "ann", Name: "Ann"})
		if err != nil {
			return err
		}
		_, err = w.Article(model.Article{GUID: "a1", URL: "/a1", Title: "Breaking", Section: model.Section{ID: sec},
			Authors: []model.Author{{ID: au}}, PublishedAt: e.clock.Now().Add(-time.Hour)})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range n {
		sub, _, err := e.st.UpsertSubscriber(ctx, model.Address(fmt.Sprintf("r%d@example.com", i)), "", model.SubscriberActive)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.st.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, ""); err != nil {
			e.t.Fatal(err)
		}
	}
}

// browser is a client with its own cookie jar that does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var (
	tokenRE = regexp.MustCompile(`name="token" value="([^"]+)"`)
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// get fetches path and returns the status, body and headers.
func (b *browser) get(path string) (int, string, http.Header) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body), resp.Header
}

// post sends a form (with the page's CSRF token unless form has one).
func (b *browser) post(path string, form url.Values, hdr ...string) (int, string, http.Header) {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body), resp.Header
}

// login signs in and returns the final status (303 on success).
func (b *browser) login(email, pw string) (int, string) {
	b.e.t.Helper()
	_, page, _ := b.get("/admin/login")
	m := tokenRE.FindStringSubmatch(page)
	if m == nil {
		b.e.t.Fatalf("login page has no token:\n%s", page)
	}
	code, body, _ := b.post("/admin/login", url.Values{"token": {m[1]}, "email": {email}, "password": {pw}})
	if code == http.StatusSeeOther {
		b.get("/admin/") // picks up the CSRF token
	}
	return code, body
}

// mustLogin signs in or fails the test.
func (b *browser) mustLogin(email string) *browser {
	b.e.t.Helper()
	if code, body := b.login(email, password); code != http.StatusSeeOther {
		b.e.t.Fatalf("login %s: %d\n%s", email, code, body)
	}
	return b
}

// cookie returns the value of the session cookie the jar holds.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.e.srv.URL + "/admin/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "herald_admin" {
			return c.Value
		}
	}
	return ""
}
