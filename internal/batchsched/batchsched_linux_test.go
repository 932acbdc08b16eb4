package batchsched_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/heraldnews/herald/internal/batchsched"
)

// statField reads field n (1-based, as proc(5) numbers them) of a
// thread's /proc stat line: policy is 41, nice 19.
func statField(t *testing.T, path string, n int) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // the name may hold spaces
	v, err := strconv.Atoi(fields[n-3])
	if err != nil {
		t.Fatalf("%s field %d: %v", path, n, err)
	}
	return v
}

// onThread runs f on a thread of its own, which ends with it (the
// goroutine exits locked), so nothing a test does to it outlives the test.
func onThread(f func()) (stop func()) {
	ready, quit, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		f()
		close(ready)
		<-quit
	}()
	<-ready
	return func() { close(quit); <-done }
}

// TestEnter: every thread under SCHED_OTHER moves to SCHED_BATCH with its
// nice value, a thread under another class stays in it, and a thread
// started afterwards is born under SCHED_BATCH (proc(5)'s own account of
// each thread, not the library's).
func TestEnter(t *testing.T) {
	niceTID, idleTID := 0, 0
	stopNice := onThread(func() {
		niceTID = unix.Gettid()
		if err := unix.Setpriority(unix.PRIO_PROCESS, niceTID, 3); err != nil {
			t.Error(err)
		}
	})
	defer stopNice()
	stopIdle := onThread(func() {
		idleTID = unix.Gettid()
		attr, err := unix.SchedGetAttr(0, 0)
		if err != nil {
			t.Error(err)
			return
		}
		attr.Policy = unix.SCHED_IDLE
		if err := unix.SchedSetAttr(0, attr, 0); err != nil {
			t.Error(err)
		}
	})
	defer stopIdle()
	if t.Failed() {
		t.FailNow()
	}

	moved, err := batchsched.Enter()
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	existed := map[int]bool{}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		existed[tid] = true
		path := "/proc/self/task/" + task.Name() + "/stat"
		want := unix.SCHED_BATCH
		if task.Name() == strconv.Itoa(idleTID) {
			want = unix.SCHED_IDLE
		}
		if got := statField(t, path, 41); got != want {
			t.Errorf("thread %s: policy %d, want %d", task.Name(), got, want)
		}
	}
	if got := statField(t, "/proc/self/task/"+strconv.Itoa(niceTID)+"/stat", 19); got != 3 {
		t.Errorf("the thread at nice 3 is at nice %d after Enter", got)
	}

	// A thread the runtime starts now (a locked goroutine holds one, so
	// several at once need new ones) inherits the class.
	var stops []func()
	policies, tids := make([]int, len(existed)+2), make([]int, len(existed)+2)
	for i := range policies {
		stops = append(stops, onThread(func() {
			tids[i] = unix.Gettid()
			policies[i] = statField(t, "/proc/thread-self/stat", 41)
		}))
	}
	for _, stop := range stops {
		stop()
	}
	started := 0
	for i, p := range policies {
		if !existed[tids[i]] {
			started++
		}
		if p != unix.SCHED_BATCH {
			t.Errorf("thread %d (new: %v): policy %d, want SCHED_BATCH (%d)", tids[i], !existed[tids[i]], p, unix.SCHED_BATCH)
		}
	}
	if started == 0 {
		t.Fatal("no thread was started after Enter: the test shows nothing about inheritance")
	}
	t.Logf("%d threads moved; %d started afterwards, all under SCHED_BATCH", moved, started)

	// Again: nothing left to move.
	if moved, err := batchsched.Enter(); err != nil || moved != 0 {
		t.Errorf("second Enter moved %d threads (%v), want 0", moved, err)
	}
}
