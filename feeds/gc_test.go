package feeds

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func memLimit() int64 { return debug.SetMemoryLimit(-1) }

// A full write raises the heap growth and caps the runtime's memory, and
// puts both back afterwards; GOGC or GOMEMLIMIT set leaves them alone.
func TestTuneGCForBuild(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	p0, l0 := gcPercent(), memLimit()
	restore := tuneGCForBuild()
	if p, l := gcPercent(), memLimit(); p != buildGCPercent || l != buildMemLimit {
		t.Errorf("during the write: GOGC %d, limit %d; want %d, %d", p, l, buildGCPercent, buildMemLimit)
	}
	restore()
	if p, l := gcPercent(), memLimit(); p != p0 || l != l0 {
		t.Errorf("after: GOGC %d, limit %d; want %d, %d", p, l, p0, l0)
	}

	// Two writes at once: the settings last until both are done.
	first, second := tuneGCForBuild(), tuneGCForBuild()
	first()
	first() // a second call changes nothing
	if p := gcPercent(); p != buildGCPercent {
		t.Errorf("one of two writes done: GOGC %d, want %d", p, buildGCPercent)
	}
	second()
	if p, l := gcPercent(), memLimit(); p != p0 || l != l0 {
		t.Errorf("both done: GOGC %d, limit %d; want %d, %d", p, l, p0, l0)
	}

	t.Setenv("GOGC", "80")
	restore = tuneGCForBuild()
	if p, l := gcPercent(), memLimit(); p != p0 || l != l0 {
		t.Errorf("with GOGC set: GOGC %d, limit %d; want them untouched (%d, %d)", p, l, p0, l0)
	}
	restore()
}

// A build that keeps most of the limit live would collect nearly all the
// time: it gets GOGC 50 and no limit as soon as the live heap shows it.
func TestTuneGCForBuildLiftsTheLimitForABigHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	p0, l0 := gcPercent(), memLimit()
	restore := tuneGCForBuild()
	defer func() {
		restore()
		if p, l := gcPercent(), memLimit(); p != p0 || l != l0 {
			t.Errorf("after: GOGC %d, limit %d; want %d, %d", p, l, p0, l0)
		}
	}()
	live := make([]byte, buildMemLimit/8*7)
	for i := range live {
		live[i] = byte(i)
	}
	deadline := time.Now().Add(5 * time.Second)
	for gcPercent() != 50 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still %d, limit %d with %d MB live", gcPercent(), memLimit(), len(live)>>20)
		}
		runtime.GC()
		time.Sleep(buildGCPoll)
	}
	if l := memLimit(); l < 1<<62 {
		t.Errorf("limit %d kept with a big live heap", l)
	}
	runtime.KeepAlive(live)
}
