package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// HandlerOptions tune the HTTP handler.
type HandlerOptions struct {
	// CacheControl is sent with every feed response ("" sends none).
	CacheControl string
	// CacheBytes bounds the encoded feeds kept in memory (plain and gzip
	// bodies). 0 keeps none: every request builds its feed.
	CacheBytes int64
	// OnServe, when set, is called after each feed response with the
	// status sent (200, 304, 404, 405, 500). Keep it cheap.
	OnServe func(status int)
	// OnBuild, when set, is called after each feed build.
	OnBuild func(id FeedID, took time.Duration, err error)
}

// Stats are the handler's counters, for metrics.
type Stats struct {
	Misses      int64 // requests that found their feed not cached
	Builds      int64 // feeds built (misses and refreshes)
	BuildErrors int64
	Evictions   int64 // feeds dropped from the cache to stay within CacheBytes
	CachedBytes int64 // bytes held now
	CachedFeeds int64 // feeds held now
	Routes      int64 // feed URLs served
}

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

// slot holds one feed's cached entry; routes point at slots.
type slot struct {
	feed    Feed
	data    atomic.Pointer[entry]
	lastUse atomic.Int64
	fill    sync.Mutex // one build per feed at a time
}

type route struct {
	slot   *slot
	format Format
}

var (
	hVary     = []string{"Accept-Encoding"}
	hGzip     = []string{"gzip"}
	hAllow    = []string{"GET, HEAD"}
	hTextType = []string{"text/plain; charset=utf-8"}
)

// Handler serves the feed routes (GET and HEAD of /feeds/all.{rss,atom,json},
// /feeds/sections/{slug}.*, /feeds/authors/{slug}.*) from a cache bounded
// in bytes, filled lazily and refreshed by Refresh from recorded changes.
// Mount it at /feeds/ (it reads the full URL path).
type Handler struct {
	b     *Builder
	state StateStore
	opt   HandlerOptions
	tr    *Tracker

	routes atomic.Pointer[map[string]route]

	mu    sync.Mutex // guards slots and eviction
	slots map[FeedID]*slot
	bytes atomic.Int64
	feeds atomic.Int64
	epoch atomic.Int64 // advances on every fill: the LRU clock

	misses, builds, buildErrors, evictions atomic.Int64

	pendingMu sync.Mutex
	pending   []string // URLs whose bytes changed in a lazy fill, for the next Refresh
}

// NewHandler returns a handler for b's feeds. state persists Last-Modified
// across restarts (nil keeps it in memory only). It reads the list of
// sections and authors now; call Refresh periodically afterwards.
func NewHandler(ctx context.Context, b *Builder, state StateStore, opt HandlerOptions) (*Handler, error) {
	if state == nil {
		state = &memState{m: map[string]memEntry{}}
	}
	h := &Handler{b: b, state: state, opt: opt, slots: map[FeedID]*slot{}}
	tr, err := NewTracker(ctx, b)
	if err != nil {
		return nil, err
	}
	h.tr = tr
	if _, err := h.loadRoutes(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// Stats returns the handler's counters.
func (h *Handler) Stats() Stats {
	return Stats{
		Misses: h.misses.Load(), Builds: h.builds.Load(), BuildErrors: h.buildErrors.Load(),
		Evictions: h.evictions.Load(), CachedBytes: h.bytes.Load(), CachedFeeds: h.feeds.Load(),
		Routes: int64(len(*h.routes.Load())),
	}
}

// loadRoutes lists the feeds and replaces the route table, keeping the
// cached entries of feeds that still exist. It returns the feeds.
func (h *Handler) loadRoutes(ctx context.Context) ([]Feed, error) {
	feeds, err := h.b.Feeds(ctx)
	if err != nil {
		return nil, err
	}
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
	h.routes.Store(&routes)
	return feeds, nil
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

// ServeHTTP serves one feed request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := h.serve(w, r)
	if h.opt.OnServe != nil {
		h.opt.OnServe(status)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) int {
	hdr := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr["Allow"] = hAllow
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed
	}
	rt, ok := (*h.routes.Load())[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	s := rt.slot
	e := s.data.Load()
	if e == nil {
		var err error
		if e, err = h.fill(r.Context(), s); err != nil {
			h.b.log.Error("feed build failed", "feed", s.feed.ID.String(), "err", err)
			hdr["Content-Type"] = hTextType
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("feed unavailable\n"))
			return http.StatusInternalServerError
		}
	}
	if ep := h.epoch.Load(); s.lastUse.Load() != ep {
		s.lastUse.Store(ep)
	}
	p := &e.reps[rt.format]
	gz := acceptsGzip(r.Header["Accept-Encoding"])
	etag, hETag, hLen, body := p.etag, p.hETag, p.hLen, p.body
	if gz {
		etag, hETag, hLen, body = p.gzETag, p.hGzETag, p.hGzLen, p.gz
	}
	hdr["Vary"] = hVary
	hdr["Etag"] = hETag
	hdr["Last-Modified"] = p.hLastModified
	if p.hCacheControl != nil {
		hdr["Cache-Control"] = p.hCacheControl
	}
	if notModified(r, etag, p.mod) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	hdr["Content-Type"] = p.hContentType
	hdr["Content-Length"] = hLen
	if gz {
		hdr["Content-Encoding"] = hGzip
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return http.StatusOK
}

// notModified applies If-None-Match, else If-Modified-Since (RFC 9110 §13.2.2).
func notModified(r *http.Request, etag string, mod time.Time) bool {
	if inm := r.Header["If-None-Match"]; len(inm) > 0 {
		for _, v := range inm {
			if etagListMatch(v, etag) {
				return true
			}
		}
		return false
	}
	if ims := r.Header["If-Modified-Since"]; len(ims) > 0 {
		t, err := http.ParseTime(ims[0])
		return err == nil && !mod.After(t)
	}
	return false
}

// etagListMatch reports whether the If-None-Match list v contains etag,
// compared weakly (a W/ prefix is ignored), or is "*".
func etagListMatch(v, etag string) bool {
	if v == etag {
		return true
	}
	for v != "" {
		v = strings.TrimLeft(v, " \t,")
		if v == "" {
			break
		}
		if v[0] == '*' {
			return true
		}
		v = strings.TrimPrefix(v, "W/")
		if v == "" || v[0] != '"' {
			return false
		}
		end := strings.IndexByte(v[1:], '"')
		if end < 0 {
			return false
		}
		if v[:end+2] == etag {
			return true
		}
		v = v[end+2:]
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (not
// refused with q=0).
func acceptsGzip(vals []string) bool {
	for _, v := range vals {
		for v != "" {
			var part string
			part, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(part, ";")
			name = strings.TrimSpace(name)
			if !strings.EqualFold(name, "gzip") && name != "*" && !strings.EqualFold(name, "x-gzip") {
				continue
			}
			params = strings.ReplaceAll(params, " ", "")
			if q, ok := strings.CutPrefix(strings.ToLower(params), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// fill builds s's feed if no one has meanwhile, caches it and returns it.
func (h *Handler) fill(ctx context.Context, s *slot) (*entry, error) {
	h.misses.Add(1)
	s.fill.Lock()
	defer s.fill.Unlock()
	if e := s.data.Load(); e != nil {
		return e, nil
	}
	e, changed, first, err := h.buildFirst(ctx, s.feed)
	if err != nil {
		return nil, err
	}
	// A request can see a change before Refresh does: keep the news for
	// Refresh to report, so no WebSub ping is lost. A feed's first build
	// on a fresh database is not news.
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

// store caches e in s (if s is still routed) and evicts least recently
// used feeds beyond the byte budget.
func (h *Handler) store(s *slot, e *entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.slots[s.feed.ID] != s || e.size > h.opt.CacheBytes {
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
			if c == s || c.data.Load() == nil {
				continue
			}
			if victim == nil || c.lastUse.Load() < victim.lastUse.Load() {
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

// build encodes feed f and works out each representation's Last-Modified
// from the recorded state: unchanged bytes keep their time; changed bytes
// get now (or one second past the recorded time, never earlier). changed
// lists the formats whose bytes differ from the recorded ones.
func (h *Handler) build(ctx context.Context, f Feed) (*entry, [numFormats]bool, error) {
	e, changed, _, err := h.buildFirst(ctx, f)
	return e, changed, err
}

// buildFirst is build, also saying which formats were never recorded before.
func (h *Handler) buildFirst(ctx context.Context, f Feed) (_ *entry, changed, first [numFormats]bool, _ error) {
	start := time.Now()
	set, err := h.b.Build(ctx, f)
	h.builds.Add(1)
	if err != nil {
		h.buildErrors.Add(1)
	}
	if h.opt.OnBuild != nil {
		h.opt.OnBuild(f.ID, time.Since(start), err)
	}
	if err != nil {
		return nil, changed, first, err
	}
	e := &entry{}
	now := h.b.now().UTC().Truncate(time.Second)
	for _, ft := range Formats {
		body := set[ft]
		sum := sha256.Sum256(body)
		sumHex := hex.EncodeToString(sum[:])
		p := f.ID.Path(ft)
		old, mod, err := h.state.FeedState(ctx, p)
		if err != nil {
			return nil, changed, first, fmt.Errorf("feeds: %s: %w", p, err)
		}
		if old != sumHex {
			changed[ft] = true
			if old == "" {
				first[ft] = true
			}
			nm := now
			if !nm.After(mod) {
				nm = mod.Add(time.Second)
			}
			if mod, err = h.state.SaveFeedState(ctx, p, sumHex, nm); err != nil {
				return nil, changed, first, fmt.Errorf("feeds: %s: %w", p, err)
			}
		}
		gz, err := gzipBytes(body)
		if err != nil {
			return nil, changed, first, err
		}
		e.reps[ft] = h.newRep(ft, body, gz, sumHex, mod)
		e.size += int64(len(body) + len(gz) + 512)
	}
	return e, changed, first, nil
}

func (h *Handler) newRep(ft Format, body, gz []byte, sumHex string, mod time.Time) rep {
	etag := `"` + sumHex[:32] + `"`
	gzETag := `"` + sumHex[:32] + `-gz"`
	r := rep{
		body: body, gz: gz, mod: mod.UTC().Truncate(time.Second),
		etag: etag, gzETag: gzETag,
		hETag: []string{etag}, hGzETag: []string{gzETag},
		hLen: []string{strconv.Itoa(len(body))}, hGzLen: []string{strconv.Itoa(len(gz))},
		hLastModified: []string{mod.UTC().Format(http.TimeFormat)},
		hContentType:  []string{ft.ContentType()},
	}
	if h.opt.CacheControl != "" {
		r.hCacheControl = []string{h.opt.CacheControl}
	}
	return r
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b)/4 + 64)
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RefreshResult says what a Refresh did.
type RefreshResult struct {
	Touched Touched
	Rebuilt int      // feeds rebuilt
	Changed []string // absolute URLs of feed representations whose bytes changed (for WebSub pings)
}

// Refresh applies the changes recorded since the previous call (and
// embargoed articles falling due): it reloads the route table when
// sections or authors changed, and rebuilds only the touched feeds,
// replacing their cached entries and recording their new Last-Modified.
// The daemon calls it on a ticker (feeds.refresh_interval).
func (h *Handler) Refresh(ctx context.Context) (RefreshResult, error) {
	t, err := h.tr.Next(ctx)
	if err != nil {
		return RefreshResult{}, err
	}
	res := RefreshResult{Touched: t}
	h.pendingMu.Lock()
	pending := h.pending
	h.pending = nil
	h.pendingMu.Unlock()
	seen := map[string]bool{}
	for _, u := range pending {
		if !seen[u] {
			seen[u] = true
			res.Changed = append(res.Changed, u)
		}
	}
	if t.Empty() {
		return res, nil
	}
	var feeds []Feed
	if t.Everything || len(t.Sections) > 0 || len(t.Authors) > 0 {
		if feeds, err = h.loadRoutes(ctx); err != nil {
			h.tr.Requeue(t)
			return res, err
		}
	} else {
		feeds = []Feed{h.b.siteFeed()}
	}
	for i, f := range feeds {
		if !t.Has(f.ID) {
			continue
		}
		// Build under the slot's fill lock: a request filling the slot
		// meanwhile may have read the rows before this change, and must
		// not store its older entry after this one.
		h.mu.Lock()
		s := h.slots[f.ID]
		h.mu.Unlock()
		if s != nil {
			s.fill.Lock()
		}
		e, changed, err := h.build(ctx, f)
		if err == nil && s != nil && s.data.Load() != nil {
			h.store(s, e)
		}
		if s != nil {
			s.fill.Unlock()
		}
		if err != nil {
			// Try the rest again next time.
			rest := Touched{ChangeSet: model.ChangeSet{Sections: map[int64]bool{}, Authors: map[int64]bool{}}}
			for _, g := range feeds[i:] {
				if !t.Has(g.ID) {
					continue
				}
				switch g.ID.Kind {
				case KindAll:
					rest.All = true
				case KindSection:
					rest.Sections[g.ID.ID] = true
				case KindAuthor:
					rest.Authors[g.ID.ID] = true
				}
			}
			h.tr.Requeue(rest)
			return res, err
		}
		res.Rebuilt++
		for _, ft := range Formats {
			if u := h.b.URL(f.ID, ft); changed[ft] && !seen[u] {
				seen[u] = true
				res.Changed = append(res.Changed, u)
			}
		}
	}
	return res, nil
}

// memState is a StateStore in memory, for a handler without a database.
type memState struct {
	mu sync.Mutex
	m  map[string]memEntry
}

type memEntry struct {
	sum string
	mod time.Time
}

func (m *memState) FeedState(_ context.Context, path string) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.m[path]
	return e.sum, e.mod, nil
}

func (m *memState) SaveFeedState(_ context.Context, path, sum string, mod time.Time) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.m[path]; old.mod.After(mod) {
		mod = old.mod
	}
	m.m[path] = memEntry{sum, mod}
	return mod, nil
}
