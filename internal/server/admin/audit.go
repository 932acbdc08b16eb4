package admin

import (
	"net/http"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

type auditRow struct {
	model.AuditEntry
	When string
}

type auditPage struct {
	Page
	Rows []auditRow
	Next int64
}

const auditPerPage = 50

// audit shows who did what, when, newest first, a page at a time.
func (h *Handler) audit(w http.ResponseWriter, r *http.Request, rq *request) {
	es, err := h.opt.Accounts.Audit(r.Context(), time.Time{}, cursor(r, "before"), auditPerPage+1)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	data := auditPage{Page: h.pageOf(rq, "Audit log", "audit")}
	if len(es) > auditPerPage {
		es = es[:auditPerPage]
		data.Next = es[len(es)-1].ID
	}
	loc := zone(rq.ed)
	for _, e := range es {
		data.Rows = append(data.Rows, auditRow{AuditEntry: e, When: when(e.At, loc)})
	}
	h.render(w, r, rq, http.StatusOK, "admin/audit", data)
}
