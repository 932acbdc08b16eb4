//go:build !linux

package feeds

import (
	"os"
	"syscall"
)

// syncFileData does nothing here: syncFS syncs each file.
func syncFileData(*os.File) error { return nil }

// syncFS makes the batch's files durable one fsync at a time (there is no
// syncfs(2) here).
func syncFS(_ string, files []*pendingFile) error {
	for _, p := range files {
		f, err := p.dir.OpenFile(p.tmp, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// processAlive reports whether a process with that id runs.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}
