package reader

import (
	"net/http"
)

// undoPage shows the button that restores a reader's subscriptions as they
// were before an unsubscribe (GET /undo?token=…); it changes nothing.
func (h *Handler) undoPage(w http.ResponseWriter, r *http.Request) {
	res, err := h.opt.Subscriptions.UndoTarget(r.Context(), linkToken(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, http.StatusOK, "undo", page{Heading: h.t("undo.heading"), Action: action("/undo", r),
		Email: string(res.Subscriber.Email), DigestTitle: h.cat.List(res.DigestTitles)})
}

// undo restores them (POST /undo?token=…).
func (h *Handler) undo(w http.ResponseWriter, r *http.Request) {
	if _, err := h.opt.Subscriptions.UndoTarget(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	if !h.readForm(w, r) {
		return
	}
	if _, err := h.opt.Subscriptions.Undo(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	h.message(w, http.StatusOK, h.t("undo.done_heading"), h.t("undo.done"))
}
