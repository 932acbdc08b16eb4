package admin

import (
	"net/http"
	"strings"

	"github.com/heraldnews/herald/internal/model"
)

type unsuppressPage struct {
	Page
	Entry, Reason string
	Effects       []string
}

// errNotSuppressed: nothing to remove.
var errNotSuppressed = &model.Error{Code: model.ENOTFOUND, Message: "That is not on the suppression list."}

// unsuppressConfirm is the confirm step before an entry leaves the list:
// it says what removing it does, entry by entry.
func (h *Handler) unsuppressConfirm(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	entry := strings.TrimSpace(q.Get("entry"))
	data := unsuppressPage{Page: h.pageOf(rq, "Remove "+entry+" from the suppression list?", "suppressions"),
		Entry: entry, Reason: q.Get("reason")}
	if domain, ok := strings.CutPrefix(entry, "@"); ok {
		data.Effects = []string{"Addresses at " + domain + " may be mailed again. Their own entries (an address an admin added, " +
			"a bounce, a complaint) stay."}
		h.render(w, r, rq, http.StatusOK, "admin/unsuppress", data)
		return
	}
	addr, err := model.ParseAddress(entry)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	matches, err := h.suppressionsOf(r, rq, addr)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	lifted := false
	for _, m := range matches {
		switch {
		case m.Reason == model.SuppressedErased:
			data.Effects = append(data.Effects, "The hash an erasure left stays: only the reader's own double opt-in lifts it.")
		case strings.HasPrefix(m.Entry, "@"):
			data.Effects = append(data.Effects, "The domain entry "+m.Entry+" stays: remove it on its own.")
		case m.Reason == model.SuppressedOperator:
			lifted = true
			data.Effects = append(data.Effects, "The entry an admin added goes"+noteOf(m.Note)+".")
		case m.Reason == model.SuppressedBounced:
			lifted = true
			data.Effects = append(data.Effects, "The subscriber's bounced status is lifted: they are active again and get the digests they subscribe to.")
		case m.Reason == model.SuppressedComplained:
			lifted = true
			data.Effects = append(data.Effects, "The subscriber's complaint is lifted: they become active, but the complaint ended every "+
				"subscription, so they get nothing until they subscribe again. Lift a complaint only when the reader asked.")
		}
	}
	if !lifted {
		h.fail(w, r, rq, errNotSuppressed.With("%s has no entry of its own on the suppression list.", addr))
		return
	}
	h.render(w, r, rq, http.StatusOK, "admin/unsuppress", data)
}

func noteOf(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}

// unsuppress removes an address or domain from the list (for an address,
// also its subscriber's bounced or complained status), then shows the list.
func (h *Handler) unsuppress(w http.ResponseWriter, r *http.Request, rq *request) {
	entry := strings.TrimSpace(r.PostFormValue("entry"))
	data := suppressionsPage{Reason: r.PostFormValue("reason")}
	ok, err := h.opt.Suppressions.Unsuppress(r.Context(), entry)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if !ok {
		data.Problem = entry + " was not on the suppression list."
		h.showSuppressions(w, r, rq, http.StatusNotFound, data, "")
		return
	}
	h.opt.Accounts.Record(r.Context(), rq.actor(), "unsuppress", entry, "")
	data.Notice = entry + " is off the suppression list."
	h.showSuppressions(w, r, rq, http.StatusOK, data, "")
}
