package admin

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

type suppressionRow struct {
	Entry, Reason, Note, Since string
	SubscriberID               int64
	Removable                  bool // not an erased address's hash: only the reader's double opt-in lifts that
}

type suppressionsPage struct {
	Page
	Reason  string
	Reasons []statusLink
	Rows    []suppressionRow
	NextURL string
	// The check of one address: every entry that keeps it from mail.
	Check   string
	Checked bool
	Matches []suppressionRow
	// The add form, kept after a problem.
	Entry, Note, Problem string
}

const suppressionsPerPage = 50

// suppressionReasons are the list's parts, one page each, with what each
// holds.
var suppressionReasons = []struct{ Name, Label string }{
	{model.SuppressedOperator, "added by an admin"},
	{model.SuppressedBounced, "bounced"},
	{model.SuppressedComplained, "complained"},
	{model.SuppressedErased, "erased"},
}

// suppressions shows the suppression list, one reason at a time and a
// page at a time (keyset: the list of bounced addresses grows with the
// list of subscribers), with a check of one address and a form to add an
// address or a domain.
func (h *Handler) suppressions(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	data := suppressionsPage{Reason: q.Get("reason"), Check: strings.TrimSpace(q.Get("check"))}
	status := http.StatusOK
	if data.Check != "" {
		addr, err := model.ParseAddress(data.Check)
		if err != nil {
			data.Problem, status = model.ErrorMessage(err), http.StatusBadRequest
		} else {
			if data.Matches, err = h.suppressionsOf(r, rq, addr); err != nil {
				h.fail(w, r, rq, err)
				return
			}
			data.Checked = true
		}
	}
	h.showSuppressions(w, r, rq, status, data, q.Get("after"))
}

// showSuppressions renders the page of data.Reason's entries after the
// cursor after.
func (h *Handler) showSuppressions(w http.ResponseWriter, r *http.Request, rq *request, status int, data suppressionsPage, after string) {
	notice := data.Notice
	data.Page = h.pageOf(rq, "Suppression list", "suppressions")
	data.Notice = notice
	known := false
	for _, s := range suppressionReasons {
		known = known || s.Name == data.Reason
	}
	if !known {
		data.Reason, after = model.SuppressedOperator, ""
	}
	for _, s := range suppressionReasons {
		data.Reasons = append(data.Reasons, statusLink{Name: s.Name, Label: s.Label, Current: s.Name == data.Reason})
	}
	sps, err := h.opt.Suppressions.SuppressionPage(r.Context(), model.SuppressionQuery{Reason: data.Reason, After: after, Limit: suppressionsPerPage + 1})
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if len(sps) > suppressionsPerPage {
		sps = sps[:suppressionsPerPage]
		data.NextURL = "/admin/suppressions?" + url.Values{"reason": {data.Reason}, "after": {sps[len(sps)-1].Cursor()}}.Encode()
	}
	loc := zone(rq.ed)
	for _, sp := range sps {
		data.Rows = append(data.Rows, suppressionRowOf(sp, loc))
	}
	h.render(w, r, rq, status, "admin/suppressions", data)
}

// suppressionsOf returns every entry that keeps addr from mail: its own,
// its domain's, an erased hash of it, its subscriber's status.
func (h *Handler) suppressionsOf(r *http.Request, rq *request, addr model.Address) ([]suppressionRow, error) {
	sps, err := h.opt.Lifecycle.SuppressionsOf(r.Context(), nil, addr)
	if err != nil {
		return nil, err
	}
	var out []suppressionRow
	for _, sp := range sps {
		out = append(out, suppressionRowOf(sp, zone(rq.ed)))
	}
	return out, nil
}

func suppressionRowOf(sp model.Suppression, loc *time.Location) suppressionRow {
	return suppressionRow{Entry: sp.Entry, Reason: sp.Reason, Note: sp.Note, Since: when(sp.CreatedAt, loc),
		SubscriberID: sp.SubscriberID, Removable: sp.Reason != model.SuppressedErased}
}

// suppress adds an address or a domain to the list, with a note.
func (h *Handler) suppress(w http.ResponseWriter, r *http.Request, rq *request) {
	entry, note := strings.TrimSpace(r.PostFormValue("entry")), strings.TrimSpace(r.PostFormValue("note"))
	if err := h.opt.Suppressions.Suppress(r.Context(), entry, note); err != nil {
		if model.ErrorCode(err) == model.EINVALID {
			h.showSuppressions(w, r, rq, http.StatusBadRequest, suppressionsPage{Entry: entry, Note: note, Problem: model.ErrorMessage(err)}, "")
			return
		}
		h.fail(w, r, rq, err)
		return
	}
	h.opt.Accounts.Record(r.Context(), rq.actor(), "suppress", entry, note)
	h.showSuppressions(w, r, rq, http.StatusOK, suppressionsPage{Page: Page{Notice: entry + " is on the suppression list: nothing is planned or sent to it."}}, "")
}
