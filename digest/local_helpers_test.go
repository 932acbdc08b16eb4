package digest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/scheduler"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
)

// newLocalEnv is newEnv with one `delivery: local` digest, daily, whose
// schedule is read in each reader's zone (tz for readers of unknown zone).
func newLocalEnv(tb testing.TB, spec, tz string, maxArticles int) *env {
	tb.Helper()
	cfg, err := config.Parse(fmt.Appendf(nil, `
site: { name: "The Herald", url: "https://news.example.com", postal_address: "1 Fleet Street, London EC4Y 1AA" }
secret: "a-test-secret-of-at-least-thirty-two-bytes"
smtp: { from: "The Herald <digest@news.example.com>", max_attempts: 3 }
digests:
  - { name: daily, title: "Morning Briefing", schedule: %q, timezone: %s, delivery: local, max_articles: %d }
`, spec, tz, maxArticles))
	if err != nil {
		tb.Fatal(err)
	}
	e := newEnv(tb, nil, func(o *digest.Options) {
		o.Config = cfg
		o.Local = o.Plans.(digest.LocalStore)
		o.MarkInterval = time.Millisecond
	})
	e.cfg = cfg
	return e
}

// reader subscribes email to daily in zone tz ("" for unknown), following
// sections (none: everything).
func (e *env) reader(email, tz string, sections ...string) model.Subscriber {
	e.t.Helper()
	sub := e.subscriber(email, "", model.SubscriberActive, sections, nil)
	e.setZone(sub, tz)
	sub.Timezone = tz
	return sub
}

func (e *env) setZone(sub model.Subscriber, tz string) {
	e.t.Helper()
	if err := e.store.SetSubscriberTimezone(context.Background(), sub.ID, tz); err != nil {
		e.t.Fatal(err)
	}
}

// articlesEvery publishes an article every step in [from, to), alternating
// world and sport, each visible from its own date (herald saw it then).
func (e *env) articlesEvery(from, to time.Time, step time.Duration) {
	e.t.Helper()
	err := e.store.WriteContent(context.Background(), func(w *store.ContentWriter) error {
		n := 0
		for at := from; at.Before(to); at = at.Add(step) {
			section := []string{"world", "sport"}[n%2]
			n++
			guid := fmt.Sprintf("a%05d", n)
			if _, err := w.Article(model.Article{GUID: guid, URL: "/" + section + "/" + guid, Title: "Story " + guid,
				Section: model.Section{ID: e.ids[section]}, PublishedAt: at, Authors: []model.Author{{ID: e.ids["ann"]}}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.W.Exec(`UPDATE herald_article_visible SET seen_at = (SELECT unixepoch(published_at) FROM articles WHERE id = article_id)`); err != nil {
		e.t.Fatal(err)
	}
}

// visibleArticles returns the ids of the articles visible in (since,
// cutoff], in section when one is given.
func (e *env) visibleArticles(since, cutoff time.Time, section ...string) map[int64]bool {
	e.t.Helper()
	q := `SELECT a.id FROM articles a JOIN sections s ON s.id = a.section_id WHERE unixepoch(a.published_at) > ? AND unixepoch(a.published_at) <= ?`
	args := []any{since.Unix(), cutoff.Unix()}
	if len(section) > 0 {
		q += ` AND s.slug = ?`
		args = append(args, section[0])
	}
	rows, err := e.store.R.Query(q, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		out[id] = true
	}
	return out
}

// got is one delivery of a reader, as the database recorded it.
type got struct {
	kind, status, slot, zone string
	messageID                string
	cutoff, since            time.Time
	articles                 []int64
}

// deliveriesOf returns every delivery of subscriber id, in edition order.
func (e *env) deliveriesOf(id int64) []got {
	e.t.Helper()
	rows, err := e.store.R.Query(`SELECT ed.kind, d.status, coalesce(ed.slot, ''), ed.zone, ed.cutoff, ed.since, d.article_ids, d.message_id
		FROM deliveries d JOIN editions ed ON ed.id = d.edition_id WHERE d.subscriber_id = ? ORDER BY ed.cutoff, ed.id`, id)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []got
	for rows.Next() {
		var (
			g             got
			cutoff, since int64
			ids           string
		)
		if err := rows.Scan(&g.kind, &g.status, &g.slot, &g.zone, &cutoff, &since, &ids, &g.messageID); err != nil {
			e.t.Fatal(err)
		}
		g.cutoff, g.since = time.Unix(cutoff, 0).UTC(), time.Unix(since, 0).UTC()
		if err := json.Unmarshal([]byte(ids), &g.articles); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// schedClock is the scheduler's clock in these tests: the env's clock,
// with timers that fire when the test moves it.
type schedClock struct {
	*testkit.Clock
	mu      sync.Mutex
	waiters []schedWaiter
	armed   chan struct{}
}

type schedWaiter struct {
	at time.Time
	ch chan time.Time
}

var _ scheduler.Clock = (*schedClock)(nil)

func (c *schedClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.Now()
	} else {
		c.waiters = append(c.waiters, schedWaiter{c.Now().Add(d), ch})
	}
	c.armed <- struct{}{}
	return ch
}

// set moves the clock to t and fires the timers due by then.
func (c *schedClock) set(t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Set(t)
	fired := 0
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
			fired++
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
	return fired
}

// daemon runs a real scheduler over the env's digest service on a
// schedClock, recording each slot it ran.
type daemon struct {
	t     testing.TB
	e     *env
	clock *schedClock
	done  chan scheduler.Slot
	stop  func()

	mu  sync.Mutex
	ran []scheduler.Slot
}

// startDaemon starts the scheduler at the env's clock, as if every slot
// before now had run (no catch-up).
func startDaemon(tb testing.TB, e *env) *daemon {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	now := e.clock.Now()
	if err := e.store.RecordSlot(ctx, "daily", "start", now, now); err != nil {
		tb.Fatal(err)
	}
	h := &daemon{t: tb, e: e, clock: &schedClock{Clock: e.clock, armed: make(chan struct{}, 1<<16)}, done: make(chan scheduler.Slot, 1024)}
	s, err := scheduler.New(e.store, e.cfg.Digests, func(ctx context.Context, slot scheduler.Slot) error {
		err := e.svc.RunScheduled(ctx, slot)
		h.mu.Lock()
		h.ran = append(h.ran, slot)
		h.mu.Unlock()
		h.done <- slot
		return err
	}, scheduler.WithClock(h.clock), scheduler.WithZones(e.store), scheduler.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		tb.Fatal(err)
	}
	finished := make(chan error, 1)
	go func() { finished <- s.Run(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-finished; err != nil {
				tb.Error(err)
			}
		})
	}
	tb.Cleanup(h.stop)
	h.waitArmed()
	return h
}

func (h *daemon) waitArmed() {
	h.t.Helper()
	select {
	case <-h.clock.armed:
	case <-time.After(20 * time.Second):
		h.t.Fatal("scheduler never waited for the clock")
	}
}

// to moves the clock to t and waits for the scheduler to wait again and for
// n slots it started to finish.
func (h *daemon) to(t time.Time, n int) {
	h.t.Helper()
	if h.clock.set(t) > 0 {
		h.waitArmed()
	}
	for range n {
		select {
		case <-h.done:
		case <-time.After(30 * time.Second):
			h.t.Fatalf("at %s: a slot did not finish", t)
		}
	}
}

// runs returns the slots run, sorted by instant and zone.
func (h *daemon) runs() []scheduler.Slot {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]scheduler.Slot(nil), h.ran...)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Zone < out[j].Zone
	})
	return out
}

// firstReading returns the first instant at which zone's clock reads
// hh:mm on day (y, m, d) or later — the rule design.md gives for slots in
// a DST gap or fold — computed by scanning, independently of the
// scheduler.
func firstReading(zone *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
	want := time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
	t0 := time.Date(y, m, d, hh, mm, 0, 0, zone)
	var best time.Time
	for k := -16; k <= 16; k++ {
		u := t0.Add(time.Duration(k) * 15 * time.Minute)
		l := u.In(zone)
		if !time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC).Before(want) && (best.IsZero() || u.Before(best)) {
			best = u
		}
	}
	return best.UTC()
}
