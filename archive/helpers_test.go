package archive_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/archive"
	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
)

// env is a digest sent for real (the mailer to an in-process SMTP server,
// a SQLite store) and the archive over the same store.
type env struct {
	t       testing.TB
	cfg     *config.Config
	clock   *testkit.Clock
	store   *store.Store
	smtp    *smtptest.Server
	digests *digest.Service
	arch    *archive.Service
	pages   *web.Pages
	ids     map[string]int64 // article guid -> id
}

const testYAML = `
site: { name: "The Herald", url: "https://news.example.com", language: %s, postal_address: "1 Fleet Street" }
http: { base_url: "https://read.example.com" }
secret: "archive-test-secret-0123456789abcdef"
smtp: { from: "The Herald <digest@news.example.com>", tls: none }
digests:
  - { name: daily, title: "Morning Briefing", description: "The day's news.", schedule: "0 7 * * *", timezone: Europe/London, lookback: 24h }
  - { name: private, title: "Insiders", schedule: "0 7 * * *", timezone: Europe/London, lookback: 24h, archive: false }
`

func newEnv(tb testing.TB, lang string) *env { return newEnvTweak(tb, lang, nil) }

// newEnvTweak is newEnv whose config tweak changes before anything is
// built (a digest's archive settings).
func newEnvTweak(tb testing.TB, lang string, tweak func(*config.Config)) *env {
	tb.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Parse([]byte(strings.Replace(testYAML, "%s", lang, 1)))
	if err != nil {
		tb.Fatal(err)
	}
	if tweak != nil {
		tweak(cfg)
	}
	e := &env{t: tb, cfg: cfg, clock: testkit.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)), ids: map[string]int64{}}
	e.smtp = smtptest.Start(tb, smtptest.Options{})
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.Transport = e.smtp.Host(), e.smtp.Port(), "smtp"
	if e.store, err = store.Open(context.Background(), filepath.Join(tb.TempDir(), "herald.db"), store.Options{Logger: quiet, Now: e.clock.Now}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.store.Close() })
	m, err := mailer.New(cfg.SMTP, mailer.WithLogger(quiet))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	st := e.store
	if e.digests, err = digest.New(digest.Options{Config: cfg, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st,
		Leases: st, Local: st, Mailer: m, Log: quiet, Now: e.clock.Now, Sleep: e.clock.Sleep}); err != nil {
		tb.Fatal(err)
	}
	if e.pages, err = web.LoadPages(cfg, quiet); err != nil {
		tb.Fatal(err)
	}
	if e.arch, err = archive.New(archive.Options{Config: cfg, Store: st, Catalog: e.pages.Catalog(), Log: quiet}); err != nil {
		tb.Fatal(err)
	}
	err = st.WriteContent(context.Background(), func(w *store.ContentWriter) error {
		world, err := w.Section(model.Section{Slug: "world", Name: "World News"})
		if err != nil {
			return err
		}
		sport, err := w.Section(model.Section{Slug: "sport", Name: "Sport"})
		if err != nil {
			return err
		}
		ann, err := w.Author(model.Author{Slug: "ann", Name: "Ann Lee"})
		if err != nil {
			return err
		}
		for i, a := range []model.Article{
			{GUID: "w1", Title: "Summit ends with a pledge", Section: model.Section{ID: world}, ImageURL: "https://cdn.example.com/w1.jpg",
				Authors: []model.Author{{ID: ann}}},
			{GUID: "w2", Title: "Floods along the Danube", Section: model.Section{ID: world}},
			{GUID: "s1", Title: "Late goal settles the derby", Section: model.Section{ID: sport}},
		} {
			a.URL = "/" + a.GUID
			a.Summary = "Summary of " + a.Title
			a.PublishedAt = e.clock.Now().Add(-time.Duration(i+1) * time.Hour)
			id, err := w.Article(a)
			if err != nil {
				return err
			}
			e.ids[a.GUID] = id
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.seen()
	return e
}

// seen says herald saw every article when it was published (the change
// trigger used the real clock, not the test's).
func (e *env) seen() {
	e.t.Helper()
	if _, err := e.store.W.Exec(`UPDATE herald_article_visible SET seen_at =
		(SELECT unixepoch(published_at) FROM articles a WHERE a.id = article_id)`); err != nil {
		e.t.Fatal(err)
	}
}

// reader subscribes a confirmed reader to digest, following sections.
func (e *env) reader(email, name, digestName string, sections ...string) model.Subscriber {
	e.t.Helper()
	ctx := context.Background()
	sub, _, err := e.store.UpsertSubscriber(ctx, model.Address(email), name, model.SubscriberActive)
	if err == nil {
		_, err = e.store.UpsertSubscription(ctx, sub.ID, digestName, sections, nil, model.SubscriptionActive)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// send runs a send-now of digest and returns the messages the SMTP server got.
func (e *env) send(digestName string) []smtptest.Message {
	e.t.Helper()
	e.clock.Add(time.Minute)
	before := len(e.smtp.Messages())
	res, err := e.digests.SendNow(context.Background(), digest.SendNowRequest{Digest: digestName})
	if err != nil || res.Failed > 0 {
		e.t.Fatalf("send-now %s: %+v %v", digestName, res, err)
	}
	return e.smtp.Messages()[before:]
}

// parts returns a raw message's headers, text and HTML.
func parts(t testing.TB, raw []byte) (mail.Header, string, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	mr := multipart.NewReader(m.Body, params["boundary"])
	var text, html string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			html = string(b)
		} else {
			text = string(b)
		}
	}
	return m.Header, text, html
}

// tool finds a validator: jing, or a node tool installed next to axe-core
// (.ci/run). Without it the check is skipped, except in CI.
func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache/herald-axe/node_modules/.bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found: CI installs it (.ci/run)", name)
	}
	t.Skipf("%s not found: install it to run this check", name)
	return ""
}
