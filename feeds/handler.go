package feeds

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
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
	// OnBuild, when set, is called after each feed build (a request's or
	// a refresh's).
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

var (
	hNosniff  = []string{"nosniff"}
	hVary     = []string{"Accept-Encoding"}
	hGzip     = []string{"gzip"}
	hAllow    = []string{"GET, HEAD"}
	hTextType = []string{"text/plain; charset=utf-8"}
)

// Handler serves the feed routes (GET and HEAD of /feeds/all.{rss,atom,json},
// /feeds/sections/{slug}.*, /feeds/authors/{slug}.*) from a cache bounded
// in bytes, filled lazily (cache.go) and kept current from recorded changes
// by a Refresher. Mount it at /feeds/ (it reads the full URL path).
type Handler struct {
	b     *Builder
	state StateStore
	opt   HandlerOptions

	routes atomic.Pointer[map[string]route]

	mu    sync.Mutex // guards slots, pages and eviction
	slots map[FeedID]*slot
	pages map[pageKey]*slot // archive pages served so far
	bytes atomic.Int64
	feeds atomic.Int64
	epoch atomic.Int64 // advances on every fill: the LRU clock

	misses, builds, buildErrors, evictions atomic.Int64

	pendingMu sync.Mutex
	pending   []string // URLs whose bytes changed in a lazy fill, for the next refresh
}

// NewHandler returns a handler for b's feeds. state persists Last-Modified
// across restarts (nil keeps it in memory only). It reads the list of
// sections and authors now; give it to a Refresher to keep it current.
func NewHandler(ctx context.Context, b *Builder, state StateStore, opt HandlerOptions) (*Handler, error) {
	if state == nil {
		state = &memState{m: map[string]memEntry{}}
	}
	h := &Handler{b: b, state: state, opt: opt, slots: map[FeedID]*slot{}, pages: map[pageKey]*slot{}}
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

// ServeHTTP serves one feed request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := h.serve(w, r)
	if h.opt.OnServe != nil {
		h.opt.OnServe(status)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) int {
	// Every answer with a body says never to sniff it (as every page
	// does); a 304 has none, and a cache keeps the stored 200's.
	hdr := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr["X-Content-Type-Options"] = hNosniff
		hdr["Allow"] = hAllow
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed
	}
	rt, ok := (*h.routes.Load())[r.URL.Path]
	if !ok {
		if rt, ok = h.archiveRoute(r.Context(), r.URL.Path); !ok {
			hdr["X-Content-Type-Options"] = hNosniff
			http.NotFound(w, r)
			return http.StatusNotFound
		}
	}
	s := rt.slot
	e := s.data.Load()
	if e == nil {
		var err error
		if e, err = h.fill(r.Context(), s); err != nil {
			h.b.log.Error("feed build failed", "feed", s.feed.ID.String(), "err", err)
			hdr["X-Content-Type-Options"] = hNosniff
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
	if p.hCacheControl != nil {
		hdr["Cache-Control"] = p.hCacheControl
	}
	if notModified(r, etag, p.mod) {
		// RFC 9110 §15.4.5: a 304 carries ETag, Vary and Cache-Control,
		// and no other metadata: not Last-Modified (nothing beside an
		// ETag), not nosniff (no body; the stored 200 has it). Each header
		// is a measurable share of a 304's cost (docs/benchmarks.md).
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	hdr["X-Content-Type-Options"] = hNosniff
	hdr["Last-Modified"] = p.hLastModified
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
