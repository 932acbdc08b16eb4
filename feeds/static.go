package feeds

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Summary counts what a static write did.
type Summary struct {
	Written   int // files created or replaced because their bytes changed
	Unchanged int // files left alone (their mtime is kept)
	Removed   int // files of sections and authors that no longer exist
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
	// GOMAXPROCS+1, at least 3 and at most 8: a worker waiting on a read
	// or a write leaves its CPU to another; each holds a reader
	// connection and its page cache).
	Workers int

	mu    sync.Mutex      // one write at a time; guards the fields below
	known map[FeedID]bool // feeds of the last full list written; nil before the first
	pages map[FeedID]int  // archive pages last written per feed
	batch int             // bytes per write batch (0: batchBytes); tests lower it
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
// longer exist. While it runs the collector is tuned for it
// (tuneGCForBuild).
func (w *Writer) WriteAll(ctx context.Context) (Summary, error) {
	start := time.Now()
	defer tuneGCForBuild()()
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
	r := w.b.newRun()
	r.recycle = true
	defer r.startPlan(ctx, feeds)()
	// The site's and the sections' feeds first, while the plan the
	// authors' feeds build from is read.
	order := slices.Clone(feeds)
	slices.SortStableFunc(order, func(a, b Feed) int { return cmp.Compare(authorLast(a), authorLast(b)) })
	if err := w.writeFeeds(ctx, wb, order, r); err != nil {
		return wb.sum, errors.Join(err, wb.flush())
	}
	if err := wb.flush(); err != nil {
		return wb.sum, err
	}
	written := time.Since(start)
	err = wb.finish(feeds, true)
	w.b.log.Debug("feeds written", "feeds", len(feeds), "articles_prepared", r.prepared.Load(),
		"articles_reused", r.reused.Load(), "written_in", written, "sync_wait", wb.syncWait, "finished_in", time.Since(start))
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

// batchBytes is how much a write batch holds before its sync and renames.
const batchBytes = 64 << 20

// writeBatch is one write under the output directory; the Writer is
// locked from begin to close. WriteAll and the Refresher share it. New
// files wait as temporary files until the batch commits them (files.go).
type writeBatch struct {
	w    *Writer
	root *os.Root

	mu        sync.Mutex // guards sum, pending and the writer's retry set: WriteAll puts from several workers
	sum       Summary
	pending   []*pendingFile
	pendBytes int
	synced    bool                // nothing renamed since the last sync
	dirs      map[string]*os.Root // directories written to, opened once
	syncWait  time.Duration       // time spent in the batches' syncs

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
	return &writeBatch{w: w, root: root, synced: true}, nil
}

func (wb *writeBatch) close() {
	_ = wb.flush() // after an error: commit what was written; failures are retried
	if !wb.synced {
		_ = syncFS(wb.w.dir, nil) // make the last renames durable; the files are complete either way
	}
	for _, d := range wb.dirs {
		d.Close()
	}
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
func (wb *writeBatch) skip(f Feed) { wb.skipID(f.ID) }

func (wb *writeBatch) skipID(id FeedID) {
	if wb.w.retry == nil {
		wb.w.retry = map[FeedID]bool{}
	}
	wb.w.retry[id] = true
}

// put writes f's files whose bytes changed, as temporary files the batch
// commits later, and says which. A feed it fails to write is retried by
// the next refresh.
func (wb *writeBatch) put(f Feed, page int, set Set) ([numFormats]bool, error) {
	var wrote [numFormats]bool
	var files []*pendingFile
	unchanged := 0
	var err error
	for _, ft := range Formats {
		var pf *pendingFile
		p := f.ID.Path(ft)
		if page > 0 {
			p = f.ID.ArchivePath(page, ft)
		}
		dirPath, name := path.Split(strings.TrimPrefix(p, "/"))
		dirPath = strings.TrimSuffix(dirPath, "/")
		var dir *os.Root
		if dir, err = wb.dir(dirPath); err != nil {
			break
		}
		if pf, err = writeTemp(dir, dirPath, name, set[ft]); err != nil {
			break
		}
		if pf == nil {
			unchanged++
			continue
		}
		pf.feed = f.ID
		files = append(files, pf)
		wrote[ft] = true
	}
	wb.mu.Lock()
	if err != nil {
		for _, p := range files {
			_ = p.dir.Remove(p.tmp)
		}
		wb.skip(f)
		wb.mu.Unlock()
		return wrote, err
	}
	wb.sum.Unchanged += unchanged
	delete(wb.w.retry, f.ID)
	wb.pending = append(wb.pending, files...)
	for _, p := range files {
		wb.pendBytes += p.size
	}
	var full []*pendingFile
	if wb.pendBytes >= wb.w.batchBytes() {
		full, wb.pending, wb.pendBytes = wb.pending, nil, 0
	}
	wb.mu.Unlock()
	return wrote, wb.commit(full)
}

// dir returns the directory at p under the output directory, created if
// missing and opened once per batch.
func (wb *writeBatch) dir(p string) (*os.Root, error) {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	if d := wb.dirs[p]; d != nil {
		return d, nil
	}
	if err := wb.root.MkdirAll(p, 0o755); err != nil {
		return nil, fmt.Errorf("feeds: create %s: %w", p, err)
	}
	d, err := wb.root.OpenRoot(p)
	if err != nil {
		return nil, fmt.Errorf("feeds: open %s: %w", p, err)
	}
	if wb.dirs == nil {
		wb.dirs = map[string]*os.Root{}
	}
	wb.dirs[p] = d
	return d, nil
}

// flush commits whatever is pending.
func (wb *writeBatch) flush() error {
	wb.mu.Lock()
	files := wb.pending
	wb.pending, wb.pendBytes = nil, 0
	wb.mu.Unlock()
	return wb.commit(files)
}

// commit syncs and renames files; the feeds of files it could not put in
// place are written again by the next refresh.
func (wb *writeBatch) commit(files []*pendingFile) error {
	start := time.Now()
	renamed, failed, err := commit(wb.w.dir, files)
	wb.mu.Lock()
	defer wb.mu.Unlock()
	wb.syncWait += time.Since(start)
	wb.sum.Written += renamed
	if renamed > 0 {
		wb.synced = false
	}
	for _, id := range failed {
		wb.skipID(id)
	}
	return err
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
		for _, sub := range []string{"feeds", "feeds/sections", "feeds/authors"} {
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
	if err := wb.finishArchives(feeds, scan || w.known == nil); err != nil {
		return err
	}
	for id := range w.retry {
		if !now[id] {
			delete(w.retry, id) // gone: nothing left to write
		}
	}
	w.known, w.stale, wb.done = now, false, true
	return nil
}

func authorLast(f Feed) int {
	if f.ID.Kind == KindAuthor {
		return 1
	}
	return 0
}

func (w *Writer) batchBytes() int {
	if w.batch > 0 {
		return w.batch
	}
	return batchBytes
}

func (w *Writer) workers() int {
	if w.Workers > 0 {
		return w.Workers
	}
	return min(max(runtime.GOMAXPROCS(0)+1, 3), 8)
}

// writeFeeds builds and writes feeds on w.Workers workers. Each file is
// independent, so the output is the same as a sequential run.
func (w *Writer) writeFeeds(ctx context.Context, wb *writeBatch, feeds []Feed, r *run) error {
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
				set, err := r.build(ctx, f)
				if err == nil {
					_, err = wb.put(f, 0, set)
					r.release(set)
				}
				if err == nil {
					err = wb.writeArchive(ctx, r, f, nil)
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
