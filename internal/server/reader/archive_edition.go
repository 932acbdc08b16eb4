package reader

import (
	"net/http"
)

// archiveEdition serves GET /archive/{digest}/{edition}: an edition's
// public page, the target of its "view in browser" link.
func (h *Handler) archiveEdition(w http.ResponseWriter, r *http.Request) {
	h.serveArchive(w, r, func() (*cachedPage, error) {
		e, err := h.opt.Archive.Edition(r.Context(), r.PathValue("digest"), r.PathValue("edition"))
		if err != nil {
			return nil, err
		}
		return h.archivePage("archive-edition", e, e.Digest.NoIndex)
	})
}
