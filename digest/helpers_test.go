package digest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/journal"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
)

// start is the fixed clock every test begins at.
var start = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// fakeSender records messages; script decides a result per attempt. It
// is a digest.Mailer with workers connections: Send waits for a free one,
// and the result is reported from another goroutine, as the real mailer
// does.
type fakeSender struct {
	mu      sync.Mutex
	workers int
	msgs    []*model.Message
	script  func(msg *model.Message, n int) model.SendResult // n: attempts to this address so far, from 1
	tries   map[model.Address]int

	slotsOnce sync.Once
	slots     chan struct{}
}

var _ digest.Mailer = (*fakeSender)(nil)

func (f *fakeSender) Send(ctx context.Context, msg *model.Message, record func(model.SendResult)) error {
	f.slotsOnce.Do(func() { f.slots = make(chan struct{}, max(f.workers, 1)) })
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	go func() {
		defer func() { <-f.slots }() // the connection is free once the result is recorded
		record(f.deliver(msg))
	}()
	return nil
}

func (f *fakeSender) deliver(msg *model.Message) model.SendResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tries == nil {
		f.tries = map[model.Address]int{}
	}
	f.tries[msg.ToAddr]++
	res := model.SendResult{Outcome: model.Accepted, Code: 250, Reply: "250 2.0.0 OK"}
	if f.script != nil {
		res = f.script(msg, f.tries[msg.ToAddr]) // under f.mu: scripts run one at a time
	}
	if res.Outcome == model.Accepted {
		f.msgs = append(f.msgs, msg)
	}
	return res
}

func (f *fakeSender) to(addr string) []*model.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*model.Message
	for _, m := range f.msgs {
		if strings.EqualFold(string(m.ToAddr), addr) {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeSender) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.msgs) }

// env is a digest service over a real SQLite store.
type env struct {
	t      testing.TB
	store  *store.Store
	svc    *digest.Service
	sender digest.Mailer
	fake   *fakeSender
	clock  *testkit.Clock
	cfg    *config.Config
	ids    map[string]int64 // content ids by slug
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

func newEnv(tb testing.TB, sender digest.Mailer, tweak func(*digest.Options)) *env {
	tb.Helper()
	c := testkit.NewClock(start)
	dbPath := tb.TempDir() + "/herald.db"
	st, err := store.Open(context.Background(), dbPath, store.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: c.Now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	e := &env{t: tb, store: st, clock: c, cfg: testConfig(tb), ids: map[string]int64{}}
	if sender == nil {
		e.fake = &fakeSender{workers: 2}
		sender = e.fake
	}
	e.sender = sender
	opt := digest.Options{
		Config: e.cfg, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st, Leases: st,
		Mailer: sender, Now: c.Now, Sleep: c.Sleep,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Backoff:      func(int) time.Duration { return time.Minute },
		MarkInterval: 5 * time.Millisecond,
		PageSize:     7, // small pages exercise paging
		// As herald runs: results go through the journal; small segments
		// exercise rotation.
		Journal:    journal.At(dbPath + ".journal"),
		ApplyBatch: 5,
	}
	if tweak != nil {
		tweak(&opt)
	}
	if e.svc, err = digest.New(opt); err != nil {
		tb.Fatal(err)
	}
	e.seedContent()
	return e
}

// seedContent writes two sections, three authors and no articles.
func (e *env) seedContent() {
	err := e.store.WriteContent(context.Background(), func(w *store.ContentWriter) error {
		for _, s := range []model.Section{{Slug: "world", Name: "World News"}, {Slug: "sport", Name: "Sport"}} {
			id, err := w.Section(s)
			if err != nil {
				return err
			}
			e.ids[s.Slug] = id
		}
		for _, a := range []model.Author{{Slug: "ann", Name: "Ann Lee"}, {Slug: "bob", Name: "Bob Roe"}, {Slug: "cat", Name: "Cat Poe"}} {
			id, err := w.Author(a)
			if err != nil {
				return err
			}
			e.ids[a.Slug] = id
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// article publishes an article ago before now in section by authors.
func (e *env) article(guid, title, section string, ago time.Duration, authors ...string) int64 {
	e.t.Helper()
	var id int64
	err := e.store.WriteContent(context.Background(), func(w *store.ContentWriter) error {
		a := model.Article{GUID: guid, URL: "/" + section + "/" + guid, Title: title, Summary: "<p>Summary of " + title + "</p>",
			Section: model.Section{ID: e.ids[section]}, PublishedAt: e.clock.Now().Add(-ago)}
		for _, s := range authors {
			a.Authors = append(a.Authors, model.Author{ID: e.ids[s]})
		}
		var err error
		id, err = w.Article(a)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	// herald saw it when it was published (the trigger used the real clock).
	if _, err := e.store.W.Exec(`UPDATE herald_article_visible SET seen_at = ? WHERE article_id = ?`,
		e.clock.Now().Add(-ago).Unix(), id); err != nil {
		e.t.Fatal(err)
	}
	return id
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

func (e *env) sendNow(req digest.SendNowRequest) digest.SendNowResult {
	e.t.Helper()
	res, err := e.svc.SendNow(context.Background(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// carries reports which of titles the message's text part holds.
func carries(m *model.Message, titles ...string) []string {
	var out []string
	for _, t := range titles {
		if strings.Contains(m.Text, t) {
			out = append(out, t)
		}
	}
	return out
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
