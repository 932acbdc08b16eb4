package reader

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldnews/herald/archive"
	"github.com/heraldnews/herald/feeds"
)

// archiveIndexOrFeed serves GET /archive/{name}: a digest's index of
// editions, or — named DIGEST.rss, .atom or .json — its feed of editions.
func (h *Handler) archiveIndexOrFeed(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, f := range feeds.Formats {
		if digest, ok := strings.CutSuffix(name, "."+f.Ext()); ok {
			h.archiveFeed(w, r, digest, f)
			return
		}
	}
	h.archiveIndex(w, r, name, 1)
}

// archiveIndexPage serves GET /archive/{digest}/page/{n}, the older
// editions (page 1 is /archive/{digest} itself).
func (h *Handler) archiveIndexPage(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 2 || strconv.Itoa(n) != r.PathValue("n") {
		h.fail(w, archive.ErrNotFound)
		return
	}
	h.archiveIndex(w, r, r.PathValue("digest"), n)
}

func (h *Handler) archiveIndex(w http.ResponseWriter, r *http.Request, digest string, n int) {
	h.serveArchive(w, r, func() (*cachedPage, error) {
		ix, err := h.opt.Archive.Index(r.Context(), digest, n)
		if err != nil {
			return nil, err
		}
		return h.archivePage("archive-index", ix, ix.Digest.NoIndex)
	})
}
