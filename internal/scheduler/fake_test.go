package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/testkit"
)

// fakeClock is a Clock the test moves by hand. Each After call is announced
// on armed, so a test knows when the run loop is waiting again.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	armed   chan struct{}
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, armed: make(chan struct{}, 1<<16)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
	} else {
		c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	}
	c.armed <- struct{}{}
	return ch
}

// set moves the clock to t (forwards or back) and fires the timers due by
// then, returning how many fired.
func (c *fakeClock) set(t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
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

// memStore is an in-memory SlotStore.
type memStore struct {
	mu   sync.Mutex
	rows map[string]memRow
}

type memRow struct {
	key           string
	slotAt, ranAt time.Time
}

func newMemStore() *memStore { return &memStore{rows: map[string]memRow{}} }

func (m *memStore) LastSlot(_ context.Context, digest string) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rows[digest]
	return r.key, r.slotAt, nil
}

func (m *memStore) RecordSlot(_ context.Context, digest, key string, slotAt, ranAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rows[digest]; ok && slotAt.Before(r.slotAt) {
		return nil
	}
	m.rows[digest] = memRow{key, slotAt, ranAt}
	return nil
}

func (m *memStore) last(digest string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rows[digest].key
}

// run is one call of the job as a harness saw it.
type run struct {
	Slot
	began time.Time // the fake clock when the job started
}

func (r run) String() string { return fmtSlot(r.Key, r.At) }

// harness runs a Scheduler on a fake clock and records the job's calls.
type harness struct {
	t      *testing.T
	clock  *fakeClock
	store  SlotStore
	s      *Scheduler
	logs   *testkit.LogBuffer
	cancel context.CancelFunc
	done   chan error

	mu   sync.Mutex
	runs []run
}

// newHarness builds a scheduler at now; job (if not nil) runs after the
// harness has recorded the call. opts are added to its clock and logger.
func newHarness(t *testing.T, now time.Time, st SlotStore, digests []config.Digest, job Job, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(now), store: st, logs: &testkit.LogBuffer{}}
	s, err := New(st, digests, func(ctx context.Context, slot Slot) error {
		h.mu.Lock()
		h.runs = append(h.runs, run{slot, h.clock.Now()})
		h.mu.Unlock()
		if job != nil {
			return job(ctx, slot)
		}
		return nil
	}, append([]Option{WithClock(h.clock), WithLogger(slog.New(slog.NewTextHandler(h.logs, nil)))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	return h
}

// start runs the scheduler and waits until its start-up (catch-up) jobs are
// done and it waits for the clock.
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.s.Run(ctx) }()
	h.t.Cleanup(h.stop)
	h.waitArmed()
	h.s.jobs.Wait()
}

func (h *harness) waitArmed() {
	h.t.Helper()
	select {
	case <-h.clock.armed:
	case err := <-h.done:
		h.t.Fatalf("Run returned early: %v", err)
	case <-time.After(10 * time.Second):
		h.t.Fatal("scheduler never waited for the clock")
	}
}

// set moves the clock to t and, if the scheduler woke, waits until it waits
// again. With wait, it also waits for the jobs it started.
func (h *harness) set(t time.Time, wait bool) {
	h.t.Helper()
	if h.clock.set(t) > 0 {
		h.waitArmed()
	}
	if wait {
		h.s.jobs.Wait()
	}
}

// stepTo moves the clock forward to t in steps of at most five minutes,
// letting every job finish at each step.
func (h *harness) stepTo(t time.Time) {
	h.t.Helper()
	for now := h.clock.Now(); now.Before(t); {
		if now = now.Add(5 * time.Minute); now.After(t) {
			now = t
		}
		h.set(now, true)
	}
}

// stop cancels Run and waits for it; it is safe to call twice.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("Run did not return after cancel")
	}
}

func (h *harness) got() []run {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]run(nil), h.runs...)
}

func (h *harness) gotKeys() []string {
	var keys []string
	for _, r := range h.got() {
		keys = append(keys, r.String())
	}
	return keys
}

func sameList(got, want []string) bool { return fmt.Sprint(got) == fmt.Sprint(want) }

var errBoom = errors.New("boom")
