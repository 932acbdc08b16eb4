package feeds

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Files are replaced atomically and durably at the cost of one sync per
// batch: each new version is written to a temporary file beside its name
// (writeback started at once, syncFileData), a batch of them is made
// durable with one call (syncFS: syncfs(2) on Linux; one fsync per file
// elsewhere), and only then renamed into place. A reader sees the old
// bytes or the new ones, never part of a file; a crash leaves complete
// files and temporary ones, which the next full write sweeps (a temporary
// file's name carries its writer's process id, so a live writer's are
// kept).

// tmpInfix marks a temporary file: ".NAME" + tmpInfix + "PID-PROCESS-RANDOM",
// where PROCESS is random per process (a restarted container's herald can
// have its predecessor's pid).
const tmpInfix = ".tmp-"

// tmpOwner is this process's part of its temporary files' names.
var tmpOwner = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}()

// pendingFile is a temporary file waiting for its batch's sync and rename:
// tmp and name are in directory dir (path: its path under the output
// directory, for messages).
type pendingFile struct {
	dir       *os.Root
	path      string
	tmp, name string
	feed      FeedID
	size      int
}

// writeTemp writes data to a new temporary file beside name in dir and
// returns it, unless name already holds exactly data (nil, nil).
func writeTemp(dir *os.Root, dirPath, name string, data []byte) (*pendingFile, error) {
	if sameFile(dir, name, data) {
		return nil, nil
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := "." + name + tmpInfix + tmpOwner + "-" + hex.EncodeToString(rnd[:])
	full := dirPath + "/" + name
	f, err := dir.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("feeds: write %s: %w", full, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = syncFileData(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = dir.Remove(tmp)
		return nil, fmt.Errorf("feeds: write %s: %w", full, err)
	}
	return &pendingFile{dir: dir, path: full, tmp: tmp, name: name, size: len(data)}, nil
}

var cmpBuf = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// sameFile reports whether name under root is a regular file holding
// exactly data, reading it in pieces.
func sameFile(root *os.Root, name string, data []byte) bool {
	f, err := root.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
		return false
	}
	bp := cmpBuf.Get().(*[]byte)
	defer cmpBuf.Put(bp)
	buf := *bp
	for off := 0; off < len(data); {
		n, err := io.ReadFull(f, buf[:min(len(buf), len(data)-off)])
		if err != nil || !bytes.Equal(buf[:n], data[off:off+n]) {
			return false
		}
		off += n
	}
	return true
}

// commit makes the pending files durable with one sync and renames them
// into place. On error every file not renamed is removed, and its feed
// is returned as not written.
func commit(dir string, files []*pendingFile) (renamed int, failed []FeedID, err error) {
	if len(files) == 0 {
		return 0, nil, nil
	}
	if err = syncFS(dir, files); err != nil {
		err = fmt.Errorf("feeds: sync %s: %w", dir, err)
	}
	for _, p := range files {
		if err == nil {
			if rerr := p.dir.Rename(p.tmp, p.name); rerr != nil {
				err = fmt.Errorf("feeds: write %s: %w", p.path, rerr)
			} else {
				renamed++
				continue
			}
		}
		_ = p.dir.Remove(p.tmp)
		failed = append(failed, p.feed)
	}
	return renamed, failed, err
}

// removeStale deletes, under root/sub, feed files keep does not list —
// only names a feed could have (a valid slug and a feed extension), so
// other files in the directory are left alone — and temporary files their
// writer left behind.
func removeStale(root *os.Root, sub string, keep map[string]bool) (int, error) {
	names, err := readDirNames(root, sub)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		p := "/" + sub + "/" + name
		if isDeadTemp(name) {
			if err := root.Remove(sub + "/" + name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, fmt.Errorf("feeds: remove %s: %w", p, err)
			}
			continue
		}
		if _, _, _, ok := ParsePath(p); !ok || keep[p] {
			continue
		}
		if err := root.Remove(sub + "/" + name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("feeds: remove %s: %w", p, err)
		}
		n++
	}
	return n, nil
}

func readDirNames(root *os.Root, sub string) ([]string, error) {
	d, err := root.Open(sub)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("feeds: list %s: %w", sub, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("feeds: list %s: %w", sub, err)
	}
	sort.Strings(names)
	return names, nil
}

// readSubdirs lists the directories in root/sub.
func readSubdirs(root *os.Root, sub string) ([]string, error) {
	d, err := root.Open(sub)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("feeds: list %s: %w", sub, err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("feeds: list %s: %w", sub, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// isDeadTemp reports whether name is a temporary file whose writer is no
// longer running.
func isDeadTemp(name string) bool {
	if !strings.HasPrefix(name, ".") {
		return false
	}
	_, rest, ok := strings.Cut(name, tmpInfix)
	if !ok {
		return false
	}
	if strings.HasPrefix(rest, tmpOwner+"-") {
		return false // this process's, in flight
	}
	pidText, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return true // an older herald's name, or this pid's previous owner
	}
	return !processAlive(pid)
}
