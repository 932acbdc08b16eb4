package digest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// slowRecorder records groups after a pause, as a journal write that
// takes a while would, and can be told to fail from some group on.
type slowRecorder struct {
	mu      sync.Mutex
	seen    map[int64]int // delivery id: times recorded
	groups  []int         // each group's size
	inside  int           // record calls running at once
	overlap bool          // two ever ran at once
	failAt  int           // the group (1-based) from which record fails; 0: never
	closed  bool
}

func (r *slowRecorder) record(batch []outcome) error {
	r.mu.Lock()
	r.inside++
	if r.inside > 1 {
		r.overlap = true
	}
	n := len(r.groups) + 1
	r.mu.Unlock()
	time.Sleep(200 * time.Microsecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inside--
	if r.failAt > 0 && n >= r.failAt {
		return errors.New("disk full")
	}
	r.groups = append(r.groups, len(batch))
	for _, o := range batch {
		r.seen[o.d.ID]++
	}
	return nil
}

func (r *slowRecorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

func (r *slowRecorder) recorded(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id] > 0
}

func testMarks(rec recorder, stop context.CancelCauseFunc, p *Progress) *marks {
	s := &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil)), opt: Options{MarkInterval: time.Hour}}
	mk := &marks{s: s, stop: stop, editionID: 1, p: p, rec: rec}
	mk.turn = sync.NewCond(&mk.mu)
	return mk
}

// Results added from many goroutines at once (connections, renderers)
// are each recorded exactly once, before add returns, by one recorder
// call at a time; those that come while a group is being recorded go
// together in the next group (group commit); and the progress counts
// them all.
func TestMarksGroupCommit(t *testing.T) {
	rec := &slowRecorder{seen: map[int64]int{}}
	var p Progress
	mk := testMarks(rec, func(error) { t.Error("stopped without a failure") }, &p)
	const goroutines, each = 8, 150
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				id := int64(g*each + i + 1)
				o := outcome{d: model.Delivery{ID: id, Status: model.DeliverySent}}
				if i%10 == 0 {
					o.d.Status, o.retry = model.DeliveryPending, true
				}
				if err := mk.add(o); err != nil {
					t.Errorf("add %d: %v", id, err)
					return
				}
				if !rec.recorded(id) {
					t.Errorf("add %d returned before its result was recorded", id)
				}
			}
		})
	}
	wg.Wait()
	if err := mk.close(); err != nil || !rec.closed {
		t.Fatalf("close: %v (recorder closed %v)", err, rec.closed)
	}
	if len(rec.seen) != goroutines*each {
		t.Fatalf("%d results recorded, want %d", len(rec.seen), goroutines*each)
	}
	for id, n := range rec.seen {
		if n != 1 {
			t.Fatalf("delivery %d recorded %d times", id, n)
		}
	}
	if rec.overlap {
		t.Error("two groups were recorded at once")
	}
	biggest := 0
	for _, n := range rec.groups {
		biggest = max(biggest, n)
	}
	if biggest < 2 || len(rec.groups) >= goroutines*each {
		t.Errorf("%d groups for %d results, the biggest %d: results that waited were not recorded together", len(rec.groups), goroutines*each, biggest)
	}
	if p.Sent != goroutines*each*9/10 || p.Retry != goroutines*each/10 {
		t.Errorf("progress %+v", p)
	}
}

// Once recording fails, the pass is stopped with the error, the group's
// adds and every later one return it, and close reports it: those
// deliveries stay pending for a later run.
func TestMarksFailureStopsThePass(t *testing.T) {
	rec := &slowRecorder{seen: map[int64]int{}, failAt: 3}
	var p Progress
	var stopped error
	var smu sync.Mutex
	mk := testMarks(rec, func(err error) { smu.Lock(); stopped = err; smu.Unlock() }, &p)
	var failures int
	for i := range 6 {
		if err := mk.add(outcome{d: model.Delivery{ID: int64(i + 1), Status: model.DeliverySent}}); err != nil {
			failures++
		}
	}
	if failures != 4 {
		t.Errorf("%d adds failed, want 4 (the third group on)", failures)
	}
	if stopped == nil {
		t.Error("the pass was not stopped")
	}
	if err := mk.close(); err == nil {
		t.Error("close reported no failure")
	}
	if p.Sent != 2 {
		t.Errorf("progress counted %d sent, want the 2 recorded", p.Sent)
	}
}
