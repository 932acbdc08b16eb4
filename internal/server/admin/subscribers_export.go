package admin

import (
	"net/http"
	"time"
)

// exportCSV writes every subscription as CSV (herald subscribers export's
// format), however long that takes: the server's write timeout is lifted
// for it.
func (h *Handler) exportCSV(w http.ResponseWriter, r *http.Request, rq *request) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Content-Disposition", `attachment; filename="subscribers-`+h.now().UTC().Format("20060102")+`.csv"`)
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	h.opt.Accounts.Record(r.Context(), rq.actor(), "export", "subscribers", "")
	if err := h.opt.Lists.Export(r.Context(), w); err != nil {
		// The header is gone: the download ends short, and the log says why.
		h.log.Error("subscriber export failed", "err", err)
	}
}
