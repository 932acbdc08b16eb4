package feeds

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// A full write allocates gigabytes of short-lived bytes at a million
// articles while it keeps a small live heap (about 6 MB at 100k articles,
// 23 MB at 1M). With the default heap growth the collector runs a few
// hundred times a second at 100k; at GOGC 50 (what WriteAll used) a
// tenth of the build's CPU was the collector's and as much again the
// kernel's, freeing and faulting the same pages back. So WriteAll lets the
// heap grow 150 % over what is live, and caps the Go runtime's memory at
// buildMemLimit, so a big site's peak stays what GOGC 50 kept it at
// (under 100 MB resident at 1M articles, docs/benchmarks.md).
//
// A soft limit near the live heap makes the collector run nearly
// continuously. A site whose build keeps so much live (several million
// articles) that the limit would collect more often than GOGC 50 did gets
// GOGC 50 and no limit instead, the moment that is seen.
const (
	buildGCPercent = 150
	buildMemLimit  = 48 << 20
	buildGCPoll    = 50 * time.Millisecond
)

// gcTune counts the full writes in progress: the first sets the
// collector, the last puts it back.
var gcTune struct {
	sync.Mutex
	writes  int
	restore func()
}

// tuneGCForBuild sets the collector for a full write, unless GOGC or
// GOMEMLIMIT is set (the operator's choice wins), and returns the func
// that restores the previous settings once no other write needs them.
func tuneGCForBuild() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gcTune.Lock()
	defer gcTune.Unlock()
	if gcTune.writes++; gcTune.writes == 1 {
		gcTune.restore = setBuildGC()
	}
	return sync.OnceFunc(func() {
		gcTune.Lock()
		defer gcTune.Unlock()
		if gcTune.writes--; gcTune.writes == 0 {
			gcTune.restore()
		}
	})
}

// setBuildGC applies the write's settings and watches the live heap.
func setBuildGC() (restore func()) {
	oldPercent := debug.SetGCPercent(buildGCPercent)
	oldLimit := debug.SetMemoryLimit(buildMemLimit)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		heap := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"}}
		t := time.NewTicker(buildGCPoll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			metrics.Read(heap)
			if heap[0].Value.Kind() != metrics.KindUint64 || heap[1].Value.Kind() != metrics.KindUint64 {
				continue
			}
			// The goal GOGC 50 would set is 1.5 times the live heap.
			if live, goal := heap[0].Value.Uint64(), heap[1].Value.Uint64(); live > 0 && goal < live/2*3 {
				debug.SetGCPercent(50)
				debug.SetMemoryLimit(math.MaxInt64)
				return
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(oldPercent)
	}
}
