// Package gcfloor keeps the Go collector from running on a small heap
// more often than a floor allows: a long-running process whose live heap
// is a few megabytes gets a heap goal of at least Floor bytes, and one
// whose live heap is bigger keeps the usual goal (GOGC's growth).
//
// Why: the runtime's own floor is 4 MB. herald serve keeps about 4 MB
// live (templates, compiled patterns, the feed cache's index), so each
// request's few kilobytes of net/http garbage made the collector run
// every 35 ms under load, marking the whole live heap each time: 6 % of
// a core at 65,000 requests a second, against 2 % for a bare server whose
// 1 MB sits under the runtime's floor (docs/benchmarks.md). With a 16 MB
// goal it runs a quarter as often; the price is at most Floor bytes of
// garbage resident between collections.
//
// It works by raising GOGC while the live heap is small and putting it
// back as the heap grows, so a big send or build collects as it would
// without it. It stands aside while anyone else holds a memory limit (a
// full feed build sets one) or has changed GOGC since its last look, and
// entirely when the operator set GOGC or GOMEMLIMIT.
package gcfloor

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Floor is the heap goal herald serve keeps at least.
const Floor = 16 << 20

// poll is how often the live heap is read.
const poll = 500 * time.Millisecond

// Start keeps the heap goal at least floor bytes until ctx is done or stop
// is called; stop waits for the watcher to end and puts back the GOGC it
// found, if what it set is still in force. The GOGC in force now is the
// base it never goes below: call it before anything tunes the collector
// for a while (a build).
func Start(ctx context.Context, floor uint64) (stop func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || floor == 0 {
		return func() {}
	}
	w := &watcher{floor: floor, last: -1}
	_, w.base, _, _ = w.read()
	if w.base <= 0 { // GOGC off, or not reported: nothing to raise
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				w.restore()
				return
			case <-t.C:
				w.adjust()
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// watcher is the floor's state between polls.
type watcher struct {
	floor uint64
	base  int64 // GOGC when the watcher started
	last  int64 // GOGC it last set (-1: none)
	s     [3]metrics.Sample
}

// read returns the live heap, GOGC and the memory limit; ok is false when
// the runtime does not report them.
func (w *watcher) read() (live uint64, gogc int64, limit uint64, ok bool) {
	w.s[0].Name, w.s[1].Name, w.s[2].Name = "/gc/heap/live:bytes", "/gc/gogc:percent", "/gc/gomemlimit:bytes"
	metrics.Read(w.s[:])
	for _, s := range w.s {
		if s.Value.Kind() != metrics.KindUint64 {
			return 0, 0, 0, false
		}
	}
	return w.s[0].Value.Uint64(), int64(w.s[1].Value.Uint64()), w.s[2].Value.Uint64(), true
}

// adjust sets GOGC for the live heap just measured.
func (w *watcher) adjust() {
	live, gogc, limit, ok := w.read()
	if !ok || live == 0 {
		return
	}
	// Someone else is tuning the collector: a memory limit is theirs, and
	// so is a GOGC that is neither the base nor what was last set here.
	// (GOGC off reads as a huge number; it is someone's choice too.)
	if limit != math.MaxInt64 || (gogc != w.last && gogc != w.base) {
		return
	}
	want := percent(live, w.floor, w.base)
	// Move only for a change of a tenth or more: no churn as the heap
	// breathes.
	if d := want - gogc; d*10 > gogc || -d*10 > gogc {
		debug.SetGCPercent(int(want))
		w.last = want
	}
}

// restore puts back the base GOGC, unless someone else changed it since.
func (w *watcher) restore() {
	if w.last < 0 {
		return
	}
	if _, gogc, _, ok := w.read(); ok && gogc == w.last {
		debug.SetGCPercent(int(w.base))
	}
}

// percent is the GOGC that makes the heap goal (live × (1 + GOGC/100))
// at least floor, and never below base.
func percent(live, floor uint64, base int64) int64 {
	if live == 0 || live >= floor {
		return base
	}
	p := int64((floor - live) * 100 / live)
	return max(p, base)
}
