package gcfloor

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		live, floor uint64
		base, want  int64
	}{
		{live: 4 << 20, floor: 16 << 20, base: 100, want: 300},
		{live: 2 << 20, floor: 16 << 20, base: 100, want: 700},
		{live: 10 << 20, floor: 16 << 20, base: 100, want: 100}, // 2× live is over the floor
		{live: 32 << 20, floor: 16 << 20, base: 100, want: 100},
		{live: 4 << 20, floor: 16 << 20, base: 400, want: 400}, // never below the base
		{live: 16 << 20, floor: 16 << 20, base: 50, want: 50},
		{live: 0, floor: 16 << 20, base: 100, want: 100},
	} {
		if got := percent(c.live, c.floor, c.base); got != c.want {
			t.Errorf("percent(live %d, floor %d, base %d) = %d, want %d", c.live, c.floor, c.base, got, c.want)
		}
		// The goal it gives is at least the floor, or the base's goal.
		if c.live > 0 {
			goal := c.live + c.live*uint64(percent(c.live, c.floor, c.base))/100
			if goal < c.floor && goal < c.live+c.live*uint64(c.base)/100 {
				t.Errorf("live %d: goal %d under both the floor and the base's", c.live, goal)
			}
		}
	}
}

// gogc reads GOGC without changing it.
func gogc() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// keepGC puts the collector's settings back after a test that moves them.
func keepGC(t *testing.T) {
	t.Helper()
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	l := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(p)
		debug.SetMemoryLimit(l)
	})
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
}

func newWatcher(t *testing.T, floor uint64) *watcher {
	t.Helper()
	w := &watcher{floor: floor, last: -1}
	if _, w.base, _, _ = w.read(); w.base != 100 {
		t.Fatalf("base GOGC %d, want 100", w.base)
	}
	runtime.GC() // a live heap to read
	return w
}

func TestRaisesGOGCForASmallHeapAndPutsItBack(t *testing.T) {
	keepGC(t)
	w := newWatcher(t, 1<<30) // any test binary's heap is small next to 1 GiB
	w.adjust()
	live, _, _, _ := w.read()
	got := gogc()
	if got <= 100 {
		t.Fatalf("GOGC %d with %d bytes live and a 1 GiB floor, want it raised", got, live)
	}
	if goal := live + live*uint64(got)/100; goal < 1<<30*9/10 {
		t.Errorf("heap goal %d, want about the 1 GiB floor", goal)
	}
	w.restore()
	if got := gogc(); got != 100 {
		t.Errorf("GOGC after restore = %d, want 100", got)
	}
}

func TestLeavesABigHeapAlone(t *testing.T) {
	keepGC(t)
	w := newWatcher(t, 1) // every heap is over a 1-byte floor
	w.adjust()
	if got := gogc(); got != 100 {
		t.Errorf("GOGC %d, want 100", got)
	}
}

func TestStandsAsideForAMemoryLimitOrAnotherGOGC(t *testing.T) {
	keepGC(t)
	w := newWatcher(t, 1<<30)
	debug.SetMemoryLimit(256 << 20) // a build's
	w.adjust()
	if got := gogc(); got != 100 {
		t.Errorf("under a memory limit: GOGC %d, want 100 untouched", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	debug.SetGCPercent(150) // someone else's
	w.adjust()
	if got := gogc(); got != 150 {
		t.Errorf("after another GOGC: GOGC %d, want their 150", got)
	}
	w.restore() // never set anything: leaves it
	if got := gogc(); got != 150 {
		t.Errorf("restore changed another's GOGC to %d", got)
	}
	// Once theirs is put back, the floor applies again.
	debug.SetGCPercent(100)
	w.adjust()
	if got := gogc(); got <= 100 {
		t.Errorf("after theirs was put back: GOGC %d, want it raised", got)
	}
}

// Start's watcher raises GOGC on its own within a few polls and stop puts
// it back; with GOGC set by the operator it changes nothing.
func TestStartAndStop(t *testing.T) {
	keepGC(t)
	t.Setenv("GOGC", "")
	runtime.GC()
	stop := Start(context.Background(), 1<<30)
	deadline := time.Now().Add(5 * poll)
	for gogc() <= 100 && time.Now().Before(deadline) {
		time.Sleep(poll / 10)
	}
	if got := gogc(); got <= 100 {
		t.Errorf("GOGC %d after %v, want it raised", got, 5*poll)
	}
	stop()
	if got := gogc(); got != 100 {
		t.Errorf("GOGC after stop = %d, want 100", got)
	}

	t.Setenv("GOGC", "100")
	stop = Start(context.Background(), 1<<30)
	time.Sleep(3 * poll)
	if got := gogc(); got != 100 {
		t.Errorf("with GOGC set by the operator: GOGC %d, want 100", got)
	}
	stop()
}
