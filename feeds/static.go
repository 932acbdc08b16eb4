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
// temporary file, then rename) and only when their bytes change.
type Writer struct {
	b   *Builder
	dir string
	// Workers is how many feeds are built at once (default GOMAXPROCS, at
	// most 4: the SQLite reads do not scale much further).
	Workers int

	mu    sync.Mutex
	tr    *Tracker
	known map[FeedID]bool // feeds written by the last WriteAll/Refresh, to remove renamed or deleted ones
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

// WriteAll writes every feed, removes the files of feeds that no longer
// exist, and starts tracking changes for Refresh.
func (w *Writer) WriteAll(ctx context.Context) (Summary, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tr, err := NewTracker(ctx, w.b) // before reading, so no change is missed
	if err != nil {
		return Summary{}, err
	}
	feeds, err := w.b.Feeds(ctx)
	if err != nil {
		return Summary{}, err
	}
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		return Summary{}, fmt.Errorf("feeds: output directory: %w", err)
	}
	defer root.Close()
	keep := make(map[string]bool, len(feeds)*int(numFormats))
	known := make(map[FeedID]bool, len(feeds))
	for _, f := range feeds {
		known[f.ID] = true
		for _, ft := range Formats {
			keep[f.ID.Path(ft)] = true
		}
	}
	sum, err := w.writeFeeds(ctx, root, feeds)
	if err != nil {
		return sum, err
	}
	for _, sub := range []string{"feeds/sections", "feeds/authors"} {
		n, err := removeStale(root, sub, keep)
		sum.Removed += n
		if err != nil {
			return sum, err
		}
	}
	w.tr, w.known = tr, known
	return sum, nil
}

// Refresh rewrites only the feeds touched by changes recorded since the
// previous WriteAll or Refresh (and removes the files of deleted or renamed
// sections and authors). The first call does a WriteAll.
func (w *Writer) Refresh(ctx context.Context) (Summary, error) {
	w.mu.Lock()
	tr := w.tr
	w.mu.Unlock()
	if tr == nil {
		return w.WriteAll(ctx)
	}
	t, err := tr.Next(ctx)
	if err != nil {
		return Summary{}, err
	}
	return w.Apply(ctx, t)
}

// Apply rewrites the feeds t touches; a section or author that is gone (or
// whose slug changed) has its old files removed.
func (w *Writer) Apply(ctx context.Context, t Touched) (Summary, error) {
	if t.Empty() {
		return Summary{}, nil
	}
	if t.Everything {
		return w.WriteAll(ctx)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	feeds, err := w.b.Feeds(ctx)
	if err != nil {
		return Summary{}, err
	}
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		return Summary{}, fmt.Errorf("feeds: output directory: %w", err)
	}
	defer root.Close()
	var sum Summary
	now := make(map[FeedID]bool, len(feeds))
	for _, f := range feeds {
		now[f.ID] = true
		if !t.Has(f.ID) && w.known[f.ID] {
			continue
		}
		s, err := w.writeFeed(ctx, root, f)
		sum.add(s)
		if err != nil {
			return sum, err
		}
	}
	for id := range w.known {
		if now[id] {
			continue
		}
		for _, ft := range Formats {
			err := root.Remove(strings.TrimPrefix(id.Path(ft), "/"))
			if err == nil {
				sum.Removed++
			} else if !errors.Is(err, fs.ErrNotExist) {
				return sum, fmt.Errorf("feeds: remove %s: %w", id.Path(ft), err)
			}
		}
	}
	w.known = now
	return sum, nil
}

func (w *Writer) workers() int {
	if w.Workers > 0 {
		return w.Workers
	}
	return min(runtime.GOMAXPROCS(0), 4)
}

// writeFeeds builds and writes feeds on w.Workers workers. Each file is
// independent, so the output is the same as a sequential run.
func (w *Writer) writeFeeds(ctx context.Context, root *os.Root, feeds []Feed) (Summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		sum   Summary
		first error
		wg    sync.WaitGroup
	)
	work := make(chan Feed)
	for range max(1, min(w.workers(), len(feeds))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				s, err := w.writeFeed(ctx, root, f)
				mu.Lock()
				sum.add(s)
				if err != nil && first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}()
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
	return sum, first
}

func (w *Writer) writeFeed(ctx context.Context, root *os.Root, f Feed) (Summary, error) {
	var sum Summary
	set, err := w.b.Build(ctx, f)
	if err != nil {
		return sum, err
	}
	for _, ft := range Formats {
		wrote, err := writeFile(root, strings.TrimPrefix(f.ID.Path(ft), "/"), set[ft])
		if err != nil {
			return sum, err
		}
		if wrote {
			sum.Written++
		} else {
			sum.Unchanged++
		}
	}
	return sum, nil
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
