package feeds

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// rep is one representation of a feed with every header value precomputed,
// so serving it allocates nothing beyond what net/http does.
type rep struct {
	body, gz       []byte
	mod            time.Time // whole seconds
	etag, gzETag   string
	hETag, hGzETag []string
	hLen, hGzLen   []string
	hLastModified  []string
	hContentType   []string
	hCacheControl  []string
}

// entry is a built feed: the three representations.
type entry struct {
	reps [numFormats]rep
	size int64
}

// slot holds one document's cached entry: a feed's subscription document,
// or (page > 0) one of its archive pages; routes point at slots.
type slot struct {
	feed    Feed
	page    int   // 0: the subscription document
	parent  *slot // an archive page's feed slot
	data    atomic.Pointer[entry]
	lastUse atomic.Int64
	fill    sync.Mutex              // one build per document at a time
	arc     atomic.Pointer[archive] // a feed slot's archive as last read (archives on)
}

type route struct {
	slot   *slot
	format Format
}

// loadRoutes lists the feeds and replaces the route table with them. It
// returns the feeds.
func (h *Handler) loadRoutes(ctx context.Context) ([]Feed, error) {
	feeds, err := h.b.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	h.setRoutes(feeds)
	return feeds, nil
}

// setRoutes replaces the route table with feeds, keeping the cached
// entries of feeds that still exist with the same channel data.
func (h *Handler) setRoutes(feeds []Feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	slots := make(map[FeedID]*slot, len(feeds))
	routes := make(map[string]route, len(feeds)*int(numFormats))
	for _, f := range feeds {
		s := h.slots[f.ID]
		if s == nil {
			s = &slot{feed: f}
		} else if !sameFeed(s.feed, f) {
			// The channel data (name, description) changed: a fresh slot.
			h.drop(s)
			s = &slot{feed: f}
		}
		slots[f.ID] = s
		for _, ft := range Formats {
			routes[f.ID.Path(ft)] = route{slot: s, format: ft}
		}
	}
	for id, s := range h.slots {
		if slots[id] != s {
			h.drop(s)
		}
	}
	h.slots = slots
	for k, s := range h.pages {
		if slots[k.feed] != s.parent {
			h.drop(s)
			delete(h.pages, k)
		}
	}
	h.routes.Store(&routes)
}

// sameFeed reports whether a and b carry the same channel data.
func sameFeed(a, b Feed) bool {
	if a.ID != b.ID || a.Title != b.Title || a.Description != b.Description || a.Link != b.Link {
		return false
	}
	if (a.Author == nil) != (b.Author == nil) || (a.Author != nil && *a.Author != *b.Author) {
		return false
	}
	return (a.Section == nil) == (b.Section == nil) && (a.Section == nil || *a.Section == *b.Section)
}

// drop forgets s's cached entry. h.mu must be held.
func (h *Handler) drop(s *slot) {
	if e := s.data.Swap(nil); e != nil {
		h.bytes.Add(-e.size)
		h.feeds.Add(-1)
	}
}

// restart reloads the routes and empties the cache: a Refresher calls it
// once it tracks changes, so nothing served was read before that.
func (h *Handler) restart(ctx context.Context) error {
	if _, err := h.loadRoutes(ctx); err != nil {
		return err
	}
	h.mu.Lock()
	slots := make([]*slot, 0, len(h.slots))
	for _, s := range h.slots {
		s.arc.Store(nil)
		slots = append(slots, s)
	}
	for k, s := range h.pages {
		slots = append(slots, s)
		delete(h.pages, k)
	}
	h.mu.Unlock()
	for _, s := range slots {
		s.fill.Lock() // a fill in flight finishes first (lock order: fill, then mu)
		h.mu.Lock()
		h.drop(s)
		h.mu.Unlock()
		s.fill.Unlock()
	}
	return nil
}

// fill builds s's feed if no one has meanwhile, caches it and returns it.
func (h *Handler) fill(ctx context.Context, s *slot) (*entry, error) {
	h.misses.Add(1)
	s.fill.Lock()
	defer s.fill.Unlock()
	if e := s.data.Load(); e != nil {
		return e, nil
	}
	_, e, changed, first, err := h.build(ctx, s, h.b.newRun())
	if err != nil {
		return nil, err
	}
	if s.page > 0 {
		h.store(s, e)
		return e, nil // archive pages are not pinged to WebSub hubs
	}
	// A request can see a change before the Refresher does: keep the news
	// for it to report, so no WebSub ping is lost. A feed's first build on
	// a fresh database is not news.
	var urls []string
	for _, ft := range Formats {
		if changed[ft] && !first[ft] {
			urls = append(urls, h.b.URL(s.feed.ID, ft))
		}
	}
	if len(urls) > 0 {
		h.pendingMu.Lock()
		h.pending = append(h.pending, urls...)
		h.pendingMu.Unlock()
	}
	h.store(s, e)
	return e, nil
}

// takePending returns and forgets the URLs lazy fills found changed.
func (h *Handler) takePending() []string {
	h.pendingMu.Lock()
	defer h.pendingMu.Unlock()
	p := h.pending
	h.pending = nil
	return p
}

// rebuild builds f for a refresh, records its Last-Modified state and
// replaces its cached entry if one is held. It returns the bytes and which
// formats changed. The build runs under the slot's fill lock: a request
// filling the slot meanwhile may have read the rows before this change,
// and must not store its older entry after this one.
func (h *Handler) rebuild(ctx context.Context, f Feed, r *run) (Set, [numFormats]bool, error) {
	h.mu.Lock()
	s := h.slots[f.ID]
	h.mu.Unlock()
	if s != nil {
		s.fill.Lock()
		defer s.fill.Unlock()
	} else {
		s = &slot{feed: f} // not routed (yet): build without caching
	}
	set, e, changed, _, err := h.build(ctx, s, r)
	if err != nil {
		return Set{}, changed, err
	}
	if s != nil && s.data.Load() != nil {
		h.store(s, e)
	}
	return set, changed, nil
}

// store caches e in s (if s is still routed) and evicts least recently
// used feeds beyond the byte budget.
func (h *Handler) store(s *slot, e *entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.routed(s) || e.size > h.opt.CacheBytes {
		return // renamed or deleted meanwhile, or too big to cache
	}
	if old := s.data.Swap(e); old != nil {
		h.bytes.Add(e.size - old.size)
	} else {
		h.bytes.Add(e.size)
		h.feeds.Add(1)
	}
	s.lastUse.Store(h.epoch.Add(1))
	for h.bytes.Load() > h.opt.CacheBytes {
		var victim *slot
		for _, c := range h.slots {
			if c != s && c.data.Load() != nil && (victim == nil || c.lastUse.Load() < victim.lastUse.Load()) {
				victim = c
			}
		}
		for _, c := range h.pages {
			if c != s && c.data.Load() != nil && (victim == nil || c.lastUse.Load() < victim.lastUse.Load()) {
				victim = c
			}
		}
		if victim == nil {
			break
		}
		h.drop(victim)
		h.evictions.Add(1)
	}
}
