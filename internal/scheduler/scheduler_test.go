package scheduler

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/store"
)

var _ SlotStore = (*store.Store)(nil)

func digestOf(spec, tz string) config.Digest {
	return config.Digest{Name: "daily", Schedule: spec, Timezone: tz}
}

// recordDue records the slot due at now as run, so a harness starting at
// now has nothing to catch up.
func recordDue(t *testing.T, st SlotStore, d config.Digest, now time.Time) {
	t.Helper()
	s, ok := PreviousSlot(mustSched(t, d.Schedule), mustLoc(t, d.Timezone), now.Add(time.Nanosecond))
	if !ok {
		return
	}
	if err := st.RecordSlot(context.Background(), d.Name, s.Key, s.At, s.At); err != nil {
		t.Fatal(err)
	}
}

// TestOneRunPerSlotAcrossDST drives the scheduler through each DST case in
// five-minute steps: every slot runs once, at its instant, and no other.
func TestOneRunPerSlotAcrossDST(t *testing.T) {
	for _, tt := range dstCases {
		t.Run(tt.name, func(t *testing.T) {
			d := digestOf(tt.spec, tt.tz)
			st := newMemStore()
			recordDue(t, st, d, tt.from)
			h := newHarness(t, tt.from, st, []config.Digest{d}, nil)
			h.start()
			h.stepTo(tt.to)
			h.stop()
			if got := h.gotKeys(); !sameList(got, tt.want) {
				t.Fatalf("runs:\n got %q\nwant %q", got, tt.want)
			}
			runs := h.got()
			for i, r := range runs {
				if !r.began.Equal(r.At) {
					t.Errorf("%s began at %v, want %v", r.Key, r.began, r.At)
				}
				if i > 0 && !r.Previous.Equal(runs[i-1].At) {
					t.Errorf("%s: previous %v, want %v", r.Key, r.Previous, runs[i-1].At)
				}
			}
			if last := runs[len(runs)-1].Key; st.last("daily") != last {
				t.Errorf("recorded %q, want %q", st.last("daily"), last)
			}
		})
	}
}

func TestCatchUpAtStart(t *testing.T) {
	london := "Europe/London"
	thu7 := "2026-11-26T07:00 Europe/London at 2026-11-26 07:00Z"
	tests := []struct {
		name     string
		spec, tz string
		catchUp  time.Duration
		recorded time.Time // the last slot recorded as run (zero: none)
		now      time.Time
		stepTo   time.Time // then run the clock to here
		want     []string
	}{
		{"missed slot within the window runs once", "0 7 * * *", london, 0,
			utc(2026, 11, 25, 7, 0), utc(2026, 11, 26, 9, 0), utc(2026, 11, 26, 12, 0), []string{thu7}},
		{"missed slot outside the window does not", "0 7 * * *", london, 0,
			utc(2026, 11, 25, 7, 0), utc(2026, 11, 26, 19, 30), utc(2026, 11, 26, 23, 0), nil},
		{"only the most recent of several missed", "0 7 * * *", london, 0,
			utc(2026, 11, 23, 7, 0), utc(2026, 11, 26, 8, 0), utc(2026, 11, 26, 12, 0), []string{thu7}},
		{"recorded slot is not run again", "0 7 * * *", london, 0,
			utc(2026, 11, 26, 7, 0), utc(2026, 11, 26, 8, 0), utc(2026, 11, 26, 12, 0), nil},
		{"no record: the most recent slot within the window", "0 7 * * *", london, 0,
			time.Time{}, utc(2026, 11, 26, 8, 0), utc(2026, 11, 26, 12, 0), []string{thu7}},
		{"no record, slot outside the window", "0 7 * * *", london, 0,
			time.Time{}, utc(2026, 11, 26, 20, 0), utc(2026, 11, 26, 23, 0), nil},
		{"catch_up 1h", "0 7 * * *", london, time.Hour,
			utc(2026, 11, 25, 7, 0), utc(2026, 11, 26, 8, 30), utc(2026, 11, 26, 12, 0), nil},
		{"slot due exactly at start", "0 7 * * *", london, 0,
			utc(2026, 11, 25, 7, 0), utc(2026, 11, 26, 7, 0), utc(2026, 11, 26, 12, 0), []string{thu7}},
		{"caught up, then the next slot on time", "0 7 * * *", london, 0,
			utc(2026, 11, 25, 7, 0), utc(2026, 11, 26, 18, 0), utc(2026, 11, 27, 8, 0),
			[]string{thu7, "2026-11-27T07:00 Europe/London at 2026-11-27 07:00Z"}},
		{"autumn: started in the second 01:xx, first-occurrence slot caught up once", "30 1 * * *", london, 0,
			utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 1, 10), utc(2026, 10, 25, 6, 0),
			[]string{"2026-10-25T01:30 Europe/London at 2026-10-25 00:30Z"}},
		{"New York: missed spring gap slot caught up", "30 2 * * *", "America/New_York", 0,
			utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 9, 0), utc(2026, 3, 8, 12, 0),
			[]string{"2026-03-08T02:30 America/New_York at 2026-03-08 07:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := digestOf(tt.spec, tt.tz)
			d.CatchUp = config.Duration(tt.catchUp)
			st := newMemStore()
			if !tt.recorded.IsZero() {
				recordDue(t, st, d, tt.recorded)
			}
			h := newHarness(t, tt.now, st, []config.Digest{d}, nil)
			h.start()
			runs := h.got()
			if len(tt.want) > 0 && (len(runs) == 0 || !runs[0].began.Equal(tt.now)) {
				t.Errorf("catch-up did not run at start: %v", runs)
			}
			h.stepTo(tt.stepTo)
			h.stop()
			if got := h.gotKeys(); !sameList(got, tt.want) {
				t.Errorf("runs:\n got %q\nwant %q", got, tt.want)
			}
			if len(tt.want) > 0 {
				if got := st.last("daily"); got != strings.Split(tt.want[len(tt.want)-1], " at ")[0] {
					t.Errorf("recorded %q", got)
				}
			}
		})
	}
}

// TestSlotNeverRunsTwice fires one slot twice in several ways: a clock that
// steps back, a restart after the slot ran, a restart in the autumn's
// second 01:xx. Each phase is a new scheduler on the same store, started at
// the first time given and moved through the others.
func TestSlotNeverRunsTwice(t *testing.T) {
	tests := []struct {
		name     string
		spec, tz string
		phases   [][]time.Time
		want     []string
	}{
		{"clock steps back over the slot", "0 7 * * *", "UTC", [][]time.Time{
			{utc(2026, 11, 26, 6, 55), utc(2026, 11, 26, 7, 0), utc(2026, 11, 26, 6, 50), utc(2026, 11, 26, 7, 10)},
		}, []string{"2026-11-26T07:00 UTC at 2026-11-26 07:00Z"}},
		{"restart after the slot ran", "0 7 * * *", "Europe/London", [][]time.Time{
			{utc(2026, 11, 26, 6, 55), utc(2026, 11, 26, 7, 5)},
			{utc(2026, 11, 26, 7, 6), utc(2026, 11, 26, 9, 0)},
		}, []string{"2026-11-26T07:00 Europe/London at 2026-11-26 07:00Z"}},
		{"restart in the repeated hour", "30 1 * * *", "Europe/London", [][]time.Time{
			{utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 40)},
			{utc(2026, 10, 25, 1, 20), utc(2026, 10, 25, 3, 0)},
		}, []string{"2026-10-25T01:30 Europe/London at 2026-10-25 00:30Z"}},
		{"restart in New York's repeated hour", "*/30 1 * * *", "America/New_York", [][]time.Time{
			{utc(2026, 11, 1, 4, 50), utc(2026, 11, 1, 5, 45)},
			{utc(2026, 11, 1, 6, 5), utc(2026, 11, 1, 8, 0)},
		}, []string{
			"2026-11-01T01:00 America/New_York at 2026-11-01 05:00Z",
			"2026-11-01T01:30 America/New_York at 2026-11-01 05:30Z",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := digestOf(tt.spec, tt.tz)
			st := newMemStore()
			recordDue(t, st, d, tt.phases[0][0])
			var got []string
			for _, times := range tt.phases {
				h := newHarness(t, times[0], st, []config.Digest{d}, nil)
				h.start()
				for _, at := range times[1:] {
					if at.Before(h.clock.Now()) {
						h.set(at, true)
					} else {
						h.stepTo(at)
					}
				}
				h.stop()
				got = append(got, h.gotKeys()...)
			}
			if !sameList(got, tt.want) {
				t.Errorf("runs:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestFailingJobDoesNotStopLaterSlots(t *testing.T) {
	tests := []struct {
		name      string
		job       Job
		wantLog   string
		recorded  string // the last slot recorded
		wantCalls int
	}{
		{"panic on the first slot", func(_ context.Context, s Slot) error {
			if s.Key == "2026-11-26T07:00 UTC" {
				panic("template exploded")
			}
			return nil
		}, "job panicked", "2026-11-26T07:45 UTC", 4},
		{"panic on every slot", func(context.Context, Slot) error { panic("always") }, "job panicked", "", 4},
		{"error on the last slot", func(_ context.Context, s Slot) error {
			if s.Key == "2026-11-26T07:45 UTC" {
				return errBoom
			}
			return nil
		}, "slot failed", "2026-11-26T07:30 UTC", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := digestOf("*/15 * * * *", "UTC")
			st := newMemStore()
			start := utc(2026, 11, 26, 6, 50)
			recordDue(t, st, d, start)
			h := newHarness(t, start, st, []config.Digest{d}, tt.job)
			h.start()
			h.stepTo(utc(2026, 11, 26, 7, 50))
			h.stop()
			if n := len(h.got()); n != tt.wantCalls {
				t.Errorf("job called %d times, want %d: %v", n, tt.wantCalls, h.gotKeys())
			}
			if !strings.Contains(h.logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, h.logs)
			}
			want := tt.recorded
			if want == "" {
				want = "2026-11-26T06:45 UTC" // the seed: nothing succeeded
			}
			if got := st.last("daily"); got != want {
				t.Errorf("recorded %q, want %q", got, want)
			}
		})
	}
}

// TestSlotWaitsForRunningJob: a digest's slot due while its previous run is
// still going waits for it; of several such slots only the latest runs.
func TestSlotWaitsForRunningJob(t *testing.T) {
	d := digestOf("*/15 * * * *", "UTC")
	st := newMemStore()
	start := utc(2026, 11, 26, 6, 55)
	recordDue(t, st, d, start)
	release := make(chan struct{})
	var running, maxRunning atomic.Int32
	started := make(chan string, 10)
	h := newHarness(t, start, st, []config.Digest{d}, func(_ context.Context, s Slot) error {
		n := running.Add(1)
		defer running.Add(-1)
		if n > maxRunning.Load() {
			maxRunning.Store(n)
		}
		started <- s.Key
		if s.Key == "2026-11-26T07:00 UTC" {
			<-release
		}
		return nil
	})
	h.start()
	h.set(utc(2026, 11, 26, 7, 0), false)
	if k := <-started; k != "2026-11-26T07:00 UTC" {
		t.Fatalf("first run %q", k)
	}
	h.set(utc(2026, 11, 26, 7, 15), false) // queued
	h.set(utc(2026, 11, 26, 7, 30), false) // supersedes 07:15
	select {
	case k := <-started:
		t.Fatalf("%s started while 07:00 was running", k)
	default:
	}
	close(release)
	h.s.jobs.Wait()
	h.stop()
	want := []string{"2026-11-26T07:00 UTC at 2026-11-26 07:00Z", "2026-11-26T07:30 UTC at 2026-11-26 07:30Z"}
	if got := h.gotKeys(); !sameList(got, want) {
		t.Errorf("runs:\n got %q\nwant %q", got, want)
	}
	if r := h.got()[1]; !r.began.Equal(utc(2026, 11, 26, 7, 30)) || !r.Previous.Equal(utc(2026, 11, 26, 7, 15)) {
		t.Errorf("queued run began %v, previous %v", r.began, r.Previous)
	}
	if maxRunning.Load() != 1 {
		t.Errorf("%d runs of one digest at once", maxRunning.Load())
	}
	if got := st.last("daily"); got != "2026-11-26T07:30 UTC" {
		t.Errorf("recorded %q", got)
	}
}

func TestDigestsRunIndependently(t *testing.T) {
	ds := []config.Digest{
		{Name: "london", Schedule: "0 7 * * 1-5", Timezone: "Europe/London"},
		{Name: "newyork", Schedule: "0 7 * * 1-5", Timezone: "America/New_York"},
	}
	st := newMemStore()
	start := utc(2026, 11, 28, 12, 0) // Saturday
	for _, d := range ds {
		recordDue(t, st, d, start)
	}
	var mu sync.Mutex
	lookback := map[string]time.Duration{}
	h := newHarness(t, start, st, ds, func(_ context.Context, s Slot) error {
		mu.Lock()
		defer mu.Unlock()
		lookback[s.Digest] = s.At.Sub(s.Previous)
		return nil
	})
	h.start()
	if got, want := h.s.Next("london"), utc(2026, 11, 30, 7, 0); !got.Equal(want) {
		t.Errorf("Next(london) = %v, want %v", got, want)
	}
	if got, want := h.s.Next("newyork"), utc(2026, 11, 30, 12, 0); !got.Equal(want) {
		t.Errorf("Next(newyork) = %v, want %v", got, want)
	}
	if got := h.s.Next("nope"); !got.IsZero() {
		t.Errorf("Next(unknown) = %v", got)
	}
	h.set(utc(2026, 11, 30, 6, 55), true)
	h.stepTo(utc(2026, 11, 30, 12, 30))
	h.stop()
	want := []string{
		"2026-11-30T07:00 Europe/London at 2026-11-30 07:00Z",
		"2026-11-30T07:00 America/New_York at 2026-11-30 12:00Z",
	}
	if got := h.gotKeys(); !sameList(got, want) {
		t.Errorf("runs:\n got %q\nwant %q", got, want)
	}
	for _, name := range []string{"london", "newyork"} {
		if lookback[name] != 72*time.Hour {
			t.Errorf("%s: Monday lookback %v, want 72h", name, lookback[name])
		}
	}
}

// TestStopWaitsForRunningJob: Run returns only after the running job does;
// a job cut short is not recorded, so the next start catches its slot up.
func TestStopWaitsForRunningJob(t *testing.T) {
	d := digestOf("0 7 * * *", "Europe/London")
	st := newMemStore()
	start := utc(2026, 11, 26, 6, 55)
	recordDue(t, st, d, start)
	inJob := make(chan struct{})
	var finished atomic.Bool
	h := newHarness(t, start, st, []config.Digest{d}, func(ctx context.Context, _ Slot) error {
		close(inJob)
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond) // a graceful stop takes a moment
		finished.Store(true)
		return ctx.Err()
	})
	h.start()
	h.set(utc(2026, 11, 26, 7, 0), false)
	<-inJob
	h.stop()
	if !finished.Load() {
		t.Fatal("Run returned before the job finished")
	}
	if got := st.last("daily"); got != "2026-11-25T07:00 Europe/London" {
		t.Errorf("interrupted slot recorded: %q", got)
	}
	h2 := newHarness(t, utc(2026, 11, 26, 7, 2), st, []config.Digest{d}, nil)
	h2.start()
	h2.stop()
	if got, want := h2.gotKeys(), []string{"2026-11-26T07:00 Europe/London at 2026-11-26 07:00Z"}; !sameList(got, want) {
		t.Errorf("after restart: got %q, want %q", got, want)
	}
}

func TestNewRejects(t *testing.T) {
	job := func(context.Context, Slot) error { return nil }
	tests := []struct {
		name    string
		digests []config.Digest
		opts    []Option
		want    string
	}{
		{"bad schedule", []config.Digest{{Name: "d", Schedule: "0 7 * *", Timezone: "UTC"}}, nil, `digest "d": schedule`},
		{"CRON_TZ prefix", []config.Digest{{Name: "d", Schedule: "CRON_TZ=Europe/London 0 7 * * *"}}, nil, "CRON_TZ"},
		{"bad timezone", []config.Digest{{Name: "d", Schedule: "0 7 * * *", Timezone: "Mars/Olympus"}}, nil, `digest "d": timezone`},
		{"repeated name", []config.Digest{{Name: "d", Schedule: "0 7 * * *"}, {Name: "d", Schedule: "0 8 * * *"}}, nil, "repeated"},
		{"nil clock", nil, []Option{WithClock(nil)}, "nil clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(newMemStore(), tt.digests, job, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestWithSQLiteStore runs a slot, restarts on the same database and sees
// it recorded there.
func TestWithSQLiteStore(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/herald.db"
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := digestOf("0 7 * * *", "Europe/London")
	h := newHarness(t, utc(2026, 11, 26, 9, 0), st, []config.Digest{d}, nil) // no record: catch up 07:00
	h.start()
	h.stop()
	key, at, err := st.LastSlot(ctx, "daily")
	if err != nil || key != "2026-11-26T07:00 Europe/London" || !at.Equal(utc(2026, 11, 26, 7, 0)) {
		t.Fatalf("recorded %q %v %v", key, at, err)
	}
	h2 := newHarness(t, utc(2026, 11, 26, 9, 5), st, []config.Digest{d}, nil)
	h2.start()
	h2.stepTo(utc(2026, 11, 27, 7, 0))
	h2.stop()
	if got, want := h2.gotKeys(), []string{"2026-11-27T07:00 Europe/London at 2026-11-27 07:00Z"}; !sameList(got, want) {
		t.Errorf("after restart: got %q, want %q", got, want)
	}
}
