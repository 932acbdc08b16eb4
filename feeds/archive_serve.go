package feeds

import (
	"context"
	"slices"
)

// pageKey names a cached archive page.
type pageKey struct {
	feed FeedID
	page int
}

// archiveRoute resolves an archive page's path, or reports false: not an
// archive path, archives off, no such feed or no such page.
func (h *Handler) archiveRoute(ctx context.Context, p string) (route, bool) {
	if !h.b.opt.Archives || h.b.arch == nil {
		return route{}, false
	}
	kind, slug, page, ft, ok := ParseArchivePath(p)
	if !ok {
		return route{}, false
	}
	rt, ok := (*h.routes.Load())[FeedID{Kind: kind, Slug: slug}.Path(RSS)]
	if !ok {
		return route{}, false
	}
	arc := rt.slot.arc.Load()
	if arc == nil {
		var err error
		if arc, err = h.b.readArchive(ctx, rt.slot.feed); err != nil || arc == nil {
			if err != nil {
				h.b.log.Error("feed archive read failed", "feed", rt.slot.feed.ID.String(), "err", err)
			}
			return route{}, false
		}
		rt.slot.arc.Store(arc)
	}
	if page > arc.pages() {
		return route{}, false
	}
	return route{slot: h.pageSlot(rt.slot, page), format: ft}, true
}

// pageSlot returns the slot of archive page p of the feed in fs.
func (h *Handler) pageSlot(fs *slot, p int) *slot {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := pageKey{fs.feed.ID, p}
	if s := h.pages[k]; s != nil && s.parent == fs {
		return s
	}
	s := &slot{feed: fs.feed, page: p, parent: fs}
	h.pages[k] = s
	return s
}

// routed reports whether s is still the slot its document is served from.
func (h *Handler) routed(s *slot) bool {
	if s.page > 0 {
		return h.pages[pageKey{s.feed.ID, s.page}] == s && h.slots[s.feed.ID] == s.parent
	}
	return h.slots[s.feed.ID] == s
}

// archivePages is how many archive pages feed f had when last read.
func (h *Handler) archivePages(f Feed) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if fs := h.slots[f.ID]; fs != nil {
		if a := fs.arc.Load(); a != nil {
			return a.pages()
		}
	}
	return 0
}

// refreshArchive takes feed f's archive as a refresh read it, and forgets
// the cached pages t touched (they are rebuilt on their next request);
// before is how many pages the feed had.
func (h *Handler) refreshArchive(f Feed, arc *archive, before int, t Touched) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fs := h.slots[f.ID]
	if fs == nil {
		return
	}
	fs.arc.Store(arc)
	pages := touchedPages(arc, before, t)
	for k, s := range h.pages {
		if k.feed == f.ID && (pages == nil || slices.Contains(pages, k.page) || arc == nil || k.page > arc.pages()) {
			h.drop(s)
			delete(h.pages, k)
		}
	}
}
