package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

type confirmPage struct {
	Page
	Edition editionRow
	Action  string // cancel or resume
	Prompt  string
	Button  string
}

// editionConfirm is the confirm step before a cancel or a resume.
func (h *Handler) editionConfirm(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := pathID(r)
	action := r.PathValue("action")
	if !ok || (action != "cancel" && action != "resume") {
		h.fail(w, r, rq, errNoSuchPage)
		return
	}
	e, err := h.opt.Editions.EditionSummary(r.Context(), id)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	row := rowOf(e, zone(rq.ed))
	data := confirmPage{Page: h.pageOf(rq, "Confirm", "editions"), Edition: row, Action: action}
	if row.Finished {
		h.fail(w, r, rq, &model.Error{Code: model.EFINISHED, Message: "Edition " + strconv.FormatInt(id, 10) + " is already " + e.Status + "."})
		return
	}
	switch action {
	case "cancel":
		data.Title = "Cancel edition " + strconv.FormatInt(id, 10) + "?"
		data.Prompt = "Its " + itoa(row.Pending) + " pending deliveries of " + e.Digest + " will not be sent. " +
			"Messages already on their way still arrive. This cannot be undone."
		data.Button = "Cancel the edition"
	case "resume":
		data.Title = "Resume edition " + strconv.FormatInt(id, 10) + "?"
		data.Prompt = "herald finishes planning it and sends its " + itoa(row.Pending) + " pending deliveries of " + e.Digest + " now."
		data.Button = "Resume sending"
	}
	h.render(w, r, rq, http.StatusOK, "admin/confirm", data)
}

// editionAction cancels or resumes an edition, then shows it.
func (h *Handler) editionAction(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := pathID(r)
	action := r.PathValue("action")
	if !ok {
		h.fail(w, r, rq, errNoSuchPage)
		return
	}
	ctx := r.Context()
	target := "edition " + strconv.FormatInt(id, 10)
	switch action {
	case "cancel":
		if err := h.opt.Digests.Cancel(ctx, id); err != nil {
			h.fail(w, r, rq, err)
			return
		}
		h.opt.Accounts.Record(ctx, rq.actor(), "cancel", target, "")
	case "resume":
		if _, err := h.opt.Digests.StartResume(ctx, id, 10*time.Minute); err != nil {
			h.fail(w, r, rq, err)
			return
		}
		h.opt.Accounts.Record(ctx, rq.actor(), "resume", target, "")
	default:
		h.fail(w, r, rq, errNoSuchPage)
		return
	}
	http.Redirect(w, r, "/admin/editions/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
