package reader

import (
	"net/http"

	"github.com/heraldnews/herald/internal/model"
)

// unsubscribePage shows the button that ends one subscription (GET
// /unsubscribe?token=…); it changes nothing.
func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	u, err := h.opt.Subscriptions.UnsubscribeTarget(r.Context(), linkToken(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	if u.Subscription.Status == model.SubscriptionUnsubscribed {
		h.message(w, http.StatusOK, "You are unsubscribed", "You no longer receive "+u.DigestTitle+".")
		return
	}
	h.render(w, http.StatusOK, "unsubscribe", page{Heading: "Unsubscribe", Action: action("/unsubscribe", r),
		Email: string(u.Email), DigestTitle: u.DigestTitle})
}

// unsubscribe ends the subscription (POST /unsubscribe?token=…): the page's
// button, or a mail client's RFC 8058 one-click POST, whose body is
// List-Unsubscribe=One-Click.
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if _, err := h.opt.Subscriptions.UnsubscribeTarget(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	if !h.readForm(w, r) {
		return
	}
	u, err := h.opt.Subscriptions.Unsubscribe(r.Context(), linkToken(r), r.PostForm.Get("List-Unsubscribe") == "One-Click")
	if err != nil {
		h.fail(w, err)
		return
	}
	h.message(w, http.StatusOK, "You are unsubscribed", "You will not receive "+u.DigestTitle+" any more.")
}
