package reader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/heraldnews/herald/archive"
	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/server/web"
)

// Archive is what the archive's pages ask of package archive.
type Archive interface {
	Index(ctx context.Context, digest string, n int) (archive.Index, error)
	Edition(ctx context.Context, digest, slug string) (archive.Edition, error)
	Feed(ctx context.Context, digest string) (feeds.Set, time.Time, error)
}

// registerArchive mounts the archive's routes. /archive/{name} is a
// digest's index or, with a feed's extension, its feed of editions.
func (h *Handler) registerArchive(mux web.Mux) {
	h.archived = newPageCache(h.opt.Config.Feeds.RefreshInterval.D(), h.opt.Now)
	mux.HandleFunc("GET /archive/{name}", h.archiveIndexOrFeed)
	mux.HandleFunc("GET /archive/{digest}/page/{n}", h.archiveIndexPage)
	mux.HandleFunc("GET /archive/{digest}/{edition}", h.archiveEdition)
}

// checkArchive renders the archive's pages once with sample data.
func (h *Handler) checkArchive() error {
	p := archive.Page{Site: h.opt.Pages.Site(), SiteName: "S", Heading: "H", Title: "T", IndexURL: "/archive/d",
		Digest: archive.Digest{Name: "d", Title: "T", Description: "D", NoIndex: true}, Feeds: []archive.FeedLink{{Path: "/archive/d.rss", Type: "t", Name: "RSS"}}}
	if err := h.opt.Pages.Check("archive-index", archive.Index{Page: p, Editions: []archive.EditionLink{{Path: "/p", Date: "d"}},
		NewerURL: "/n", OlderURL: "/o"}); err != nil {
		return err
	}
	return h.opt.Pages.Check("archive-edition", archive.Edition{Page: p, Date: "d", Count: 1, Withdrawn: true,
		Sections: []archive.Section{{Name: "S", Articles: []archive.Article{{Title: "T", URL: "https://x", ImageURL: "https://x/i.jpg", Byline: "B", SummaryHTML: "<p>s</p>"}}}}})
}

// cachedPage is one answer of the archive, kept for a short while.
type cachedPage struct {
	body      []byte
	ctype     string
	etag      string
	modified  time.Time
	noindex   bool
	createdAt time.Time
}

// pageCache keeps the archive's answers for ttl (feeds.refresh_interval),
// so a "view in browser" link clicked by every reader at once costs a few
// queries, and a retracted article is gone at the next refresh.
type pageCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*cachedPage
}

// maxCachedPages bounds the cache; past it, it starts again.
const maxCachedPages = 1024

func newPageCache(ttl time.Duration, now func() time.Time) *pageCache {
	return &pageCache{ttl: ttl, now: now, m: map[string]*cachedPage{}}
}

func (c *pageCache) get(key string) *cachedPage {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.m[key]
	if p == nil || c.now().Sub(p.createdAt) >= c.ttl {
		return nil
	}
	return p
}

func (c *pageCache) put(key string, p *cachedPage) {
	p.createdAt = c.now()
	sum := sha256.Sum256(p.body)
	p.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedPages {
		clear(c.m)
	}
	c.m[key] = p
}

// serveArchive answers r from the cache, or builds the answer with build
// (a page or a feed) and caches it. A failure is the page its error maps to.
func (h *Handler) serveArchive(w http.ResponseWriter, r *http.Request, build func() (*cachedPage, error)) {
	key := r.URL.Path
	p := h.archived.get(key)
	if p == nil {
		var err error
		if p, err = build(); err != nil {
			h.fail(w, err)
			return
		}
		h.archived.put(key, p)
	}
	hd := w.Header()
	if strings.HasPrefix(p.ctype, "text/html") {
		web.SetPageHeaders(hd)
		hd.Set("Content-Language", h.cat.Lang())
	} else {
		hd.Set("X-Content-Type-Options", "nosniff")
	}
	hd.Set("Content-Type", p.ctype)
	hd.Set("Cache-Control", "public, max-age=60")
	hd.Set("ETag", p.etag)
	if p.noindex {
		hd.Set("X-Robots-Tag", "noindex")
	}
	http.ServeContent(w, r, "", p.modified, strings.NewReader(string(p.body)))
}

// archivePage renders a page of the archive for the cache.
func (h *Handler) archivePage(name string, data any, noindex bool) (*cachedPage, error) {
	b, err := h.opt.Pages.Bytes(name, data)
	if err != nil {
		return nil, err
	}
	return &cachedPage{body: b, ctype: "text/html; charset=utf-8", noindex: noindex}, nil
}
