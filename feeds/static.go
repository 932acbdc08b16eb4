package feeds

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Summary counts what a static write did.
type Summary struct {
	Written   int // files created or replaced because their bytes changed
	Unchanged int // files left alone (their mtime is kept)
	Removed   int // files of sections and authors that no longer exist
}

func (s *Summary) add(o Summary) {
	s.Written += o.Written
	s.Unchanged += o.Unchanged
	s.Removed += o.Removed
}

// Writer writes feeds as static files under a directory, at their URL paths
// (DIR/feeds/all.rss, DIR/feeds/sections/SLUG.atom, …). Every file operation
// goes through an os.Root, so nothing is ever written outside the directory
// whatever a slug or a symlink says. Files are replaced atomically (a
// temporary file, then rename) and only when their bytes change. WriteAll
// writes everything; a Refresher keeps the files current afterwards.
type Writer struct {
	b   *Builder
	dir string
	// Workers is how many feeds WriteAll builds at once (default
	// GOMAXPROCS, at most 4: the SQLite reads do not scale much further).
	Workers int

	mu    sync.Mutex      // one write at a time; guards the fields below
	known map[FeedID]bool // feeds of the last full list written; nil before the first
	stale bool            // a refresh failed before removing gone feeds: the next must list them
	retry map[FeedID]bool // feeds a refresh failed to write: the next writes them
}

// NewWriter returns a Writer for directory dir (created if missing).
func NewWriter(b *Builder, dir string) (*Writer, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("feeds: empty output directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("feeds: output directory: %w", err)
	}
	return &Writer{b: b, dir: dir}, nil
}

// WriteAll writes every feed and removes the files of feeds that no
// longer exist.
func (w *Writer) WriteAll(ctx context.Context) (Summary, error) {
	feeds, err := w.b.Feeds(ctx)
	if err != nil {
		return Summary{}, err
	}
	wb, err := w.begin()
	if err != nil {
		return Summary{}, err
	}
	defer wb.close()
	wb.listed = true
	if err := w.writeFeeds(ctx, wb, feeds); err != nil {
		return wb.sum, err
	}
	err = wb.finish(feeds, true)
	return wb.sum, err
}

// forget makes the next refresh write every feed (and list the directories
// for stale files), as if WriteAll had never run: a Refresher calls it once
// it tracks changes, so no change made before that is missed, and after
// the output directory could not be opened.
func (w *Writer) forget() {
	w.mu.Lock()
	w.known = nil
	w.mu.Unlock()
}

// mustList reports whether the next write must see the full list of feeds:
// before the first full write, or after a failed one.
func (w *Writer) mustList() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mustListLocked()
}

func (w *Writer) mustListLocked() bool { return w.known == nil || w.stale || len(w.retry) > 0 }

// writeBatch is one write under the output directory; the Writer is
// locked from begin to close. WriteAll and the Refresher share it.
type writeBatch struct {
	w    *Writer
	root *os.Root

	mu  sync.Mutex // guards sum and the writer's retry set: WriteAll puts from several workers
	sum Summary

	listed bool // the batch sees the full list of feeds, so finish must run
	done   bool // finish ran
}

func (w *Writer) begin() (*writeBatch, error) {
	w.mu.Lock()
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		w.mu.Unlock()
		return nil, fmt.Errorf("feeds: output directory: %w", err)
	}
	return &writeBatch{w: w, root: root}, nil
}

func (wb *writeBatch) close() {
	if wb.listed && !wb.done {
		wb.w.stale = true
	}
	if len(wb.w.retry) == 0 {
		wb.w.retry = nil
	}
	wb.root.Close()
	wb.w.mu.Unlock()
}

// mustList is Writer.mustList with the Writer locked.
func (wb *writeBatch) mustList() bool { return wb.w.mustListLocked() }

// wants reports whether f must be written: t touches it, an earlier write
// of it failed, or it was not in the last list written.
func (wb *writeBatch) wants(f Feed, t Touched) bool {
	return t.Has(f.ID) || wb.w.retry[f.ID] || !wb.w.known[f.ID]
}

// skip records that f, wanted, was not written: the next refresh writes it.
func (wb *writeBatch) skip(f Feed) {
	if wb.w.retry == nil {
		wb.w.retry = map[FeedID]bool{}
	}
	wb.w.retry[f.ID] = true
}

// put writes f's files, those whose bytes changed, and says which. A
// feed it fails to write is retried by the next refresh.
func (wb *writeBatch) put(f Feed, set Set) ([numFormats]bool, error) {
	var wrote [numFormats]bool
	var sum Summary
	var err error
	for _, ft := range Formats {
		if wrote[ft], err = writeFile(wb.root, strings.TrimPrefix(f.ID.Path(ft), "/"), set[ft]); err != nil {
			break
		}
		if wrote[ft] {
			sum.Written++
		} else {
			sum.Unchanged++
		}
	}
	wb.mu.Lock()
	wb.sum.add(sum)
	if err != nil {
		wb.skip(f)
	} else {
		delete(wb.w.retry, f.ID)
	}
	wb.mu.Unlock()
	return wrote, err
}

// finish removes the files of feeds not in feeds, the full list, and
// remembers it. With scan (or before the first full write) it looks for
// them in the directories, which also finds files earlier runs left;
// otherwise it removes the files of the feeds the last list had.
func (wb *writeBatch) finish(feeds []Feed, scan bool) error {
	w := wb.w
	now := make(map[FeedID]bool, len(feeds))
	for _, f := range feeds {
		now[f.ID] = true
	}
	if scan || w.known == nil {
		keep := make(map[string]bool, len(feeds)*int(numFormats))
		for _, f := range feeds {
			for _, ft := range Formats {
				keep[f.ID.Path(ft)] = true
			}
		}
		for _, sub := range []string{"feeds/sections", "feeds/authors"} {
			n, err := removeStale(wb.root, sub, keep)
			wb.sum.Removed += n
			if err != nil {
				return err
			}
		}
	} else {
		for id := range w.known {
			if now[id] {
				continue
			}
			for _, ft := range Formats {
				err := wb.root.Remove(strings.TrimPrefix(id.Path(ft), "/"))
				if err == nil {
					wb.sum.Removed++
				} else if !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("feeds: remove %s: %w", id.Path(ft), err)
				}
			}
		}
	}
	for id := range w.retry {
		if !now[id] {
			delete(w.retry, id) // gone: nothing left to write
		}
	}
	w.known, w.stale, wb.done = now, false, true
	return nil
}

func (w *Writer) workers() int {
	if w.Workers > 0 {
		return w.Workers
	}
	return min(runtime.GOMAXPROCS(0), 4)
}

// writeFeeds builds and writes feeds on w.Workers workers. Each file is
// independent, so the output is the same as a sequential run.
func (w *Writer) writeFeeds(ctx context.Context, wb *writeBatch, feeds []Feed) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	work := make(chan Feed)
	for range max(1, min(w.workers(), len(feeds))) {
		wg.Go(func() {
			for f := range work {
				set, err := w.b.Build(ctx, f)
				if err == nil {
					_, err = wb.put(f, set)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, f := range feeds {
		if ctx.Err() != nil {
			break
		}
		work <- f
	}
	close(work)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// writeFile replaces name under root with data unless it already holds
// exactly data. It reports whether it wrote.
func writeFile(root *os.Root, name string, data []byte) (bool, error) {
	if old, err := root.ReadFile(name); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	dir := path.Dir(name)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("feeds: create %s: %w", dir, err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, "."+path.Base(name)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return false, fmt.Errorf("feeds: write %s: %w", name, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return false, fmt.Errorf("feeds: write %s: %w", name, err)
	}
	return true, nil
}

// removeStale deletes feed files under root/sub that keep does not list:
// only names a feed could have (a valid slug and a feed extension), so
// other files in the directory are left alone.
func removeStale(root *os.Root, sub string, keep map[string]bool) (int, error) {
	d, err := root.Open(sub)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("feeds: list %s: %w", sub, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return 0, fmt.Errorf("feeds: list %s: %w", sub, err)
	}
	sort.Strings(names)
	n := 0
	for _, name := range names {
		p := "/" + sub + "/" + name
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
