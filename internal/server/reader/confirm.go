package reader

import (
	"net/http"
)

// confirmPage shows the button that confirms a subscription (GET
// /confirm?token=…); it changes nothing.
func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request) {
	c, err := h.opt.Subscriptions.ConfirmTarget(r.Context(), linkToken(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	if c.Done {
		h.message(w, http.StatusOK, h.t("confirm.done_heading"), h.t("confirm.already"))
		return
	}
	h.render(w, http.StatusOK, "confirm", page{Heading: h.t("confirm.heading"), Action: action("/confirm", r),
		Email: string(c.Subscriber.Email), DigestTitle: c.DigestTitle})
}

// confirm completes the double opt-in (POST /confirm?token=…).
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	if _, err := h.opt.Subscriptions.ConfirmTarget(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err) // a refused link is answered before the body is read
		return
	}
	if !h.readForm(w, r) {
		return
	}
	if _, err := h.opt.Subscriptions.Confirm(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	h.message(w, http.StatusOK, h.t("confirm.done_heading"), h.t("confirm.thanks"))
}
