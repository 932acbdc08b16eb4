package reader_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/reader"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
	"github.com/heraldnews/herald/subscription"
)

// env is the reader pages over a real store, the subscription service and
// the real mailer sending to an in-process SMTP server, served by httptest.
type env struct {
	t     testing.TB
	clock *testkit.Clock
	store *store.Store
	svc   *subscription.Service
	smtp  *smtptest.Server
	srv   *httptest.Server
}

func newEnv(tb testing.TB) *env { return newEnvWith(tb, "") }

// newEnvWith is newEnv with more config (such as an http: mapping).
func newEnvWith(tb testing.TB, extra string) *env { return newEnvTweak(tb, extra, nil) }

// newEnvTweak is newEnvWith whose config tweak changes before anything
// is built (the site's language, more digests).
func newEnvTweak(tb testing.TB, extra string, tweak func(*config.Config)) *env {
	tb.Helper()
	c := testkit.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Parse([]byte(extra + `
site: { name: "The Herald", url: "https://news.example.com" }
secret: "test-secret-0123456789abcdef0123456789"
smtp: { from: "The Herald <digest@news.example.com>", tls: none }
digests:
  - { name: daily, title: "Morning Briefing", schedule: "0 7 * * *", timezone: Europe/London }
`))
	if err != nil {
		tb.Fatal(err)
	}
	if tweak != nil {
		tweak(cfg)
	}
	st, err := store.Open(context.Background(), tb.TempDir()+"/herald.db", store.Options{Logger: quiet, Now: c.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	e := &env{t: tb, clock: c, store: st, smtp: smtptest.Start(tb, smtptest.Options{})}
	cfg.SMTP.Host, cfg.SMTP.Port = e.smtp.Host(), e.smtp.Port()
	m, err := mailer.New(cfg.SMTP, mailer.WithLogger(quiet))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	if e.svc, err = subscription.New(subscription.Options{Config: cfg, Store: st, Content: st, Mailer: m, Log: quiet, Now: c.Now}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.svc.Wait)
	pages, err := web.LoadPages(cfg, quiet)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := reader.New(reader.Options{Config: cfg, Subscriptions: e.svc, Pages: pages, Log: quiet, Now: c.Now,
		TrustedProxies: web.ParsePrefixes(cfg.HTTP.TrustedProxies)})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	e.srv = httptest.NewServer(mux)
	tb.Cleanup(e.srv.Close)
	err = st.WriteContent(context.Background(), func(w *store.ContentWriter) error {
		if _, err := w.Section(model.Section{Slug: "world", Name: "World News"}); err != nil {
			return err
		}
		_, err := w.Author(model.Author{Slug: "ann", Name: "Ann Lee"})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// subscriber adds a subscriber with status and follows to daily.
func (e *env) subscriber(email, status string) model.Subscriber {
	e.t.Helper()
	ctx := context.Background()
	sub, _, err := e.store.UpsertSubscriber(ctx, model.Address(email), "", status)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, ""); err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// do sends a request; a non-empty body goes as a form.
func (e *env) do(method, path, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
