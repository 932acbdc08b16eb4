package batchsched

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Enter moves every thread of the process that runs under SCHED_OTHER to
// SCHED_BATCH, nice value unchanged, and reports how many it moved. A
// thread the runtime starts later is cloned from one of them and inherits
// the class; the threads are listed again until a pass finds none left
// to move, so one started during a pass is not missed.
func Enter() (int, error) {
	moved := 0
	for pass := 0; pass < 10; pass++ {
		n, err := enterPass()
		moved += n
		if err != nil || n == 0 {
			return moved, err
		}
	}
	return moved, nil
}

// enterPass moves the threads listed now that are still under SCHED_OTHER.
func enterPass() (int, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, fmt.Errorf("batchsched: %w", err)
	}
	moved := 0
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		attr, err := unix.SchedGetAttr(tid, 0)
		if errors.Is(err, unix.ESRCH) {
			continue // the thread ended meanwhile
		}
		if err != nil {
			return moved, fmt.Errorf("batchsched: thread %d: %w", tid, err)
		}
		if attr.Policy != unix.SCHED_NORMAL {
			continue // batch already, or a class someone chose
		}
		attr.Policy = unix.SCHED_BATCH
		attr.Flags = 0
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil {
			if errors.Is(err, unix.ESRCH) {
				continue
			}
			return moved, fmt.Errorf("batchsched: thread %d: %w", tid, err)
		}
		moved++
	}
	return moved, nil
}
