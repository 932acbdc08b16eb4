package admin

import (
	"net/http"
	"strconv"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/subscription"
)

type importPage struct {
	Page
	Done     bool
	File     string
	Imported int
	Bad      []subscription.BadRow
}

// importForm shows the CSV upload form.
func (h *Handler) importForm(w http.ResponseWriter, r *http.Request, rq *request) {
	h.render(w, r, rq, http.StatusOK, "admin/import", importPage{Page: h.pageOf(rq, "Import subscribers", "subscribers")})
}

// importCSV imports an uploaded CSV exactly as herald subscribers import
// does, and shows the same report: rows imported, and each bad row with
// its line and reason.
func (h *Handler) importCSV(w http.ResponseWriter, r *http.Request, rq *request) {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		h.fail(w, r, rq, &model.Error{Code: model.EINVALID, Message: "Choose a CSV file to import."})
		return
	}
	defer f.Close()
	rep, err := h.opt.Lists.Import(r.Context(), f)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.opt.Accounts.Record(r.Context(), rq.actor(), "import", hdr.Filename,
		"imported "+strconv.Itoa(rep.Imported)+", bad "+strconv.Itoa(len(rep.Bad)))
	h.render(w, r, rq, http.StatusOK, "admin/import", importPage{Page: h.pageOf(rq, "Import report", "subscribers"),
		Done: true, File: hdr.Filename, Imported: rep.Imported, Bad: rep.Bad})
}
