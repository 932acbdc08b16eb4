package subscription_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
	"github.com/heraldnews/herald/subscription"
)

// start is the fixed clock every test begins at.
var start = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// env is a subscription service over a real SQLite store, mailing through
// the real mailer to an in-process SMTP server.
type env struct {
	t     testing.TB
	store *store.Store
	svc   *subscription.Service
	smtp  *smtptest.Server
	clock *testkit.Clock
	cfg   *config.Config
}

func testConfig(tb testing.TB) *config.Config {
	tb.Helper()
	cfg, err := config.Parse([]byte(`
site: { name: "The Herald", url: "https://news.example.com", postal_address: "1 Fleet Street, London EC4Y 1AA" }
smtp: { from: "The Herald <digest@news.example.com>", unsubscribe_mailto: "unsubscribe@news.example.com", max_attempts: 3 }
digests:
  - { name: daily, title: "Morning Briefing", schedule: "0 7 * * *", timezone: Europe/London, max_articles: 3,
      subject: "{{.Site}}: {{.Title}} for {{.Date}} — {{.Top}}" }
`))
	if err != nil {
		tb.Fatal(err)
	}
	// Set past Validate (which wants 32 bytes): the golden files' tokens
	// were signed with this key.
	cfg.Secret = "test-secret"
	return cfg
}

func newEnv(tb testing.TB) *env { return newEnvTweak(tb, nil) }

// newEnvTweak is newEnv whose config tweak changes before the service is
// built (the site's language).
func newEnvTweak(tb testing.TB, tweak func(*config.Config)) *env {
	tb.Helper()
	c := testkit.NewClock(start)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), tb.TempDir()+"/herald.db", store.Options{Logger: quiet, Now: c.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	e := &env{t: tb, store: st, clock: c, cfg: testConfig(tb), smtp: smtptest.Start(tb, smtptest.Options{})}
	e.cfg.SMTP.Host, e.cfg.SMTP.Port, e.cfg.SMTP.TLS = e.smtp.Host(), e.smtp.Port(), "none"
	if tweak != nil {
		tweak(e.cfg)
	}
	m, err := mailer.New(e.cfg.SMTP, mailer.WithLogger(quiet), mailer.WithClock(c.Now))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	e.svc, err = subscription.New(subscription.Options{Config: e.cfg, Store: st, Content: st, Mailer: m, Log: quiet, Now: c.Now})
	if err != nil {
		tb.Fatal(err)
	}
	err = st.WriteContent(context.Background(), func(w *store.ContentWriter) error {
		for _, s := range []model.Section{{Slug: "world", Name: "World News"}, {Slug: "sport", Name: "Sport"}} {
			if _, err := w.Section(s); err != nil {
				return err
			}
		}
		for _, a := range []model.Author{{Slug: "ann", Name: "Ann Lee"}, {Slug: "bob", Name: "Bob Roe"}} {
			if _, err := w.Author(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// subscriber adds a subscriber with status and follows to daily.
func (e *env) subscriber(email, name, status string, sections, authors []string) model.Subscriber {
	e.t.Helper()
	ctx := context.Background()
	sub, _, err := e.store.UpsertSubscriber(ctx, model.Address(email), name, status)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.UpsertSubscription(ctx, sub.ID, "daily", sections, authors, ""); err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// mailTo returns the raw messages the SMTP server got for addr.
func (e *env) mailTo(addr string) [][]byte {
	var out [][]byte
	for _, m := range e.smtp.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m.Data)
			}
		}
	}
	return out
}
