package feeds

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// ChangePruner deletes recorded content changes older than before.
// *store.Store implements it.
type ChangePruner interface {
	PruneChanges(ctx context.Context, before time.Time) (int64, error)
}

// RefresherOptions configure a Refresher. A Handler or a Writer belongs to
// at most one Refresher.
type RefresherOptions struct {
	// Handler, when set, has its cache and Last-Modified state kept current.
	Handler *Handler
	// Writer, when set, has its static files kept current.
	Writer *Writer
	// Interval is how often Run looks for changes (feeds.refresh_interval:
	// default 2s, at least 100ms).
	Interval time.Duration
	// Pruner, when set, has Run delete recorded changes older than a day,
	// once an hour.
	Pruner ChangePruner
	// HubClient sends the WebSub pings to the builder's Options.Hubs
	// (default: an http.Client with a 10s timeout).
	HubClient *http.Client
	// OnRefresh, when set, is called after each refresh Run makes, with
	// its result, how long it took and its error.
	OnRefresh func(res RefreshResult, took time.Duration, err error)
}

// RefreshResult says what a refresh did.
type RefreshResult struct {
	Touched Touched
	Rebuilt int      // feeds built, each once for the cache and the files
	Changed []string // absolute URLs of feed representations whose bytes changed (pinged to WebSub hubs)
	Static  Summary  // what the static writer did
}

// Refresher keeps a Handler's cache and a Writer's files current from the
// changes the store records (and embargoed articles falling due): each
// refresh reads the changes once, builds each touched feed once and hands
// the same bytes to both. It pings the WebSub hubs for the feeds whose
// bytes changed and prunes the change log. Run drives it.
type Refresher struct {
	b   *Builder
	opt RefresherOptions
	tr  *tracker
	hub *pinger // nil without hubs

	mu sync.Mutex // one refresh at a time
}

// NewRefresher starts tracking changes for opt.Handler and opt.Writer,
// which must build with b.
// It reloads the handler's routes and empties its cache, and makes the
// writer's next refresh write every feed, so nothing read before tracking
// started is kept; a WriteAll after NewRefresher (before Run) does that
// first write instead.
func NewRefresher(ctx context.Context, b *Builder, opt RefresherOptions) (*Refresher, error) {
	if opt.Interval <= 0 {
		opt.Interval = 2 * time.Second
	}
	opt.Interval = max(opt.Interval, 100*time.Millisecond)
	tr, err := newTracker(ctx, b)
	if err != nil {
		return nil, err
	}
	if opt.Handler != nil {
		if err := opt.Handler.restart(ctx); err != nil {
			return nil, err
		}
	}
	if opt.Writer != nil {
		opt.Writer.forget()
	}
	r := &Refresher{b: b, opt: opt, tr: tr}
	if len(b.opt.Hubs) > 0 {
		r.hub = newPinger(b.opt.Hubs, opt.HubClient, b.log)
	}
	return r, nil
}

// Run refreshes every Interval until ctx is done, pings WebSub hubs in the
// background and prunes the change log hourly. It returns when ctx is done
// and the ping in flight, if any, has finished.
func (r *Refresher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	if r.hub != nil {
		wg.Go(func() { r.hub.run(ctx) })
	}
	t := time.NewTicker(r.opt.Interval)
	defer t.Stop()
	pruned := r.b.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		res, err := r.Refresh(ctx)
		took := time.Since(start)
		switch {
		case err != nil && ctx.Err() == nil:
			r.b.log.Warn("feed refresh failed", "err", err)
		case res.Rebuilt > 0:
			r.b.log.Debug("feeds refreshed", "rebuilt", res.Rebuilt, "changed", len(res.Changed), "took", took)
		}
		if res.Static.Written+res.Static.Removed > 0 {
			r.b.log.Info("static feeds updated", "written", res.Static.Written, "removed", res.Static.Removed)
		}
		if r.opt.OnRefresh != nil {
			r.opt.OnRefresh(res, took, err)
		}
		if now := r.b.now(); r.opt.Pruner != nil && now.Sub(pruned) > time.Hour {
			pruned = now
			if _, err := r.opt.Pruner.PruneChanges(ctx, now.Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				r.b.log.Warn("pruning recorded changes", "err", err)
			}
		}
	}
}

// Refresh applies the changes recorded since the previous refresh (and
// embargoed articles falling due): it reloads the handler's routes when
// sections or authors changed, builds each touched feed once, replaces its
// cached entry and records its new Last-Modified, rewrites its files and
// removes the files of sections and authors that are gone. Feeds it could
// not rebuild are tried again next time. The changed URLs (also those
// found by requests filling the cache) are queued for the WebSub hubs,
// which Run pings.
func (r *Refresher) Refresh(ctx context.Context) (RefreshResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, err := r.tr.next(ctx)
	if err != nil {
		return RefreshResult{}, err
	}
	res := RefreshResult{Touched: t}
	seen := map[string]bool{}
	if r.opt.Handler != nil {
		for _, u := range r.opt.Handler.takePending() {
			res.changed(u, seen)
		}
	}
	err = r.apply(ctx, t, &res, seen)
	if r.hub != nil {
		r.hub.queue(res.Changed)
	}
	return res, err
}

func (res *RefreshResult) changed(u string, seen map[string]bool) {
	if !seen[u] {
		seen[u] = true
		res.Changed = append(res.Changed, u)
	}
}

// apply rebuilds what t touches (and what the writer has still to
// write). A build error requeues the touched feeds left; a write error
// leaves the cache's work going on and the unwritten feeds to the writer's
// next refresh.
func (r *Refresher) apply(ctx context.Context, t Touched, res *RefreshResult, seen map[string]bool) error {
	h, w := r.opt.Handler, r.opt.Writer
	wList := w != nil && w.mustList()
	if t.Empty() && !wList {
		return nil
	}
	var wb *writeBatch
	var werr error // the first write error: no more writes this time
	if w != nil {
		if wb, werr = w.begin(); werr != nil {
			w.forget() // write everything once the directory is back
			wList = false
		} else {
			defer func() { res.Static = wb.sum; wb.close() }()
			wList = wb.mustList()
		}
	}
	listed := t.Everything || len(t.Sections) > 0 || len(t.Authors) > 0 || wList
	feeds := []Feed{r.b.siteFeed()}
	if listed {
		var err error
		if feeds, err = r.b.Feeds(ctx); err != nil {
			r.tr.requeue(t)
			return errors.Join(err, werr)
		}
		if h != nil {
			h.setRoutes(feeds)
		}
		if wb != nil {
			wb.listed = true
		}
	}
	ps := &pass{wb: wb, res: res, seen: seen, run: r.b.newRun(), t: t}
	var todo []Feed
	for _, f := range feeds {
		if (h != nil && t.Has(f.ID)) || (wb != nil && wb.wants(f, t)) {
			todo = append(todo, f)
		}
	}
	if len(todo) >= planMin {
		if err := ps.run.plan(ctx, todo); err != nil {
			r.tr.requeue(t)
			return errors.Join(err, werr)
		}
	}
	for i, f := range feeds {
		forH := h != nil && t.Has(f.ID)
		forW := wb != nil && wb.wants(f, t)
		if forW && werr != nil {
			wb.skip(f)
			forW = false
		}
		if !forH && !forW {
			continue
		}
		err := r.refreshFeed(ctx, f, forH, forW, ps)
		var we *writeError
		if errors.As(err, &we) {
			werr = we.err
			continue
		}
		if err != nil {
			r.tr.requeue(rest(feeds[i:], t))
			return errors.Join(err, werr)
		}
	}
	if wb != nil {
		if err := wb.flush(); err != nil && werr == nil {
			werr = err
		}
	}
	if wb != nil && listed && werr == nil {
		werr = wb.finish(feeds, t.Everything || wList) // on error the writer lists again next time
	}
	return werr
}

// writeError is a refreshed feed that was built but not written.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// planMin is how many feeds a refresh builds before it reads which
// articles each holds in one pass (as a full build does) rather than
// feed by feed.
const planMin = 64

// pass is one refresh's state: the write batch, the result so far and the
// run whose prepared articles the refreshed feeds share.
type pass struct {
	wb   *writeBatch
	res  *RefreshResult
	seen map[string]bool
	run  *run
	t    Touched
}

// refreshFeed builds f once and hands the bytes to the cache (forH) and the
// files (forW).
func (r *Refresher) refreshFeed(ctx context.Context, f Feed, forH, forW bool, ps *pass) error {
	var (
		set     Set
		changed [numFormats]bool
		err     error
		before  int // archive pages the cache knew
	)
	if forH {
		before = r.opt.Handler.archivePages(f)
		set, changed, err = r.opt.Handler.rebuild(ctx, f, ps.run)
	} else {
		set, err = ps.run.build(ctx, f)
	}
	if err != nil {
		return err
	}
	ps.res.Rebuilt++
	if forW {
		var wrote [numFormats]bool
		if wrote, err = ps.wb.put(f, 0, set); err != nil {
			err = &writeError{err}
		}
		if r.opt.Handler == nil {
			changed = wrote // without a cache, the files say what changed
		}
	}
	// Even when the write failed: the cache's state has moved on, so a
	// retry would not see these changes again.
	for _, ft := range Formats {
		if changed[ft] {
			ps.res.changed(r.b.URL(f.ID, ft), ps.seen)
		}
	}
	if err == nil {
		err = r.refreshArchive(ctx, f, forH, forW, before, ps)
	}
	return err
}

// refreshArchive brings feed f's archive pages up to date in the cache
// (forH: the touched pages are forgotten, to be rebuilt on request) and
// the files (forW: the touched pages rewritten, every page the first time).
func (r *Refresher) refreshArchive(ctx context.Context, f Feed, forH, forW bool, before int, ps *pass) error {
	if !r.b.opt.Archives || r.b.arch == nil {
		return nil
	}
	arc, err := ps.run.archive(ctx, f)
	if err != nil {
		return err
	}
	if forH {
		r.opt.Handler.refreshArchive(f, arc, before, ps.t)
	}
	if !forW {
		return nil
	}
	var pages []int // nil: every page
	if ps.wb.knowsPages(f) {
		ps.wb.mu.Lock()
		written := ps.wb.w.pages[f.ID]
		ps.wb.mu.Unlock()
		pages = touchedPages(arc, written, ps.t)
	}
	if err := ps.wb.writeArchive(ctx, ps.run, f, pages); err != nil {
		return &writeError{err}
	}
	return nil
}

// rest is what a failed refresh hands back: the touched feeds from the
// failed one on. (The writer keeps its own list of what it has still to
// write.)
func rest(feeds []Feed, t Touched) Touched {
	out := Touched{ChangeSet: model.ChangeSet{ArchiveKeys: t.ArchiveKeys, ArchiveAll: t.ArchiveAll}}
	for _, f := range feeds {
		if t.Has(f.ID) {
			out.add(f.ID)
		}
	}
	return out
}
