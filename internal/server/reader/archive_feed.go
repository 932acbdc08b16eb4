package reader

import (
	"net/http"

	"github.com/heraldnews/herald/feeds"
)

// archiveFeed serves a digest's feed of editions in format f
// (/archive/{digest}.{rss,atom,json}), with conditional GET.
func (h *Handler) archiveFeed(w http.ResponseWriter, r *http.Request, digest string, f feeds.Format) {
	h.serveArchive(w, r, func() (*cachedPage, error) {
		set, mod, err := h.opt.Archive.Feed(r.Context(), digest)
		if err != nil {
			return nil, err
		}
		d, _ := h.opt.Config.Digest(digest)
		return &cachedPage{body: set[f], ctype: f.ContentType(), modified: mod, noindex: d.ArchiveNoindex}, nil
	})
}
