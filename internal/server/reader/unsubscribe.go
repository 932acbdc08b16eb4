package reader

import (
	"net/http"
	"net/url"

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
		h.message(w, http.StatusOK, h.t("unsubscribe.done_heading"), h.t("unsubscribe.already", u))
		return
	}
	h.render(w, http.StatusOK, "unsubscribe", page{Heading: h.t("unsubscribe.heading"), Action: action("/unsubscribe", r),
		Email: string(u.Email), DigestTitle: u.DigestTitle})
}

// unsubscribe ends the subscription (POST /unsubscribe?token=…): the page's
// button, or a mail client's RFC 8058 one-click POST, whose body is
// List-Unsubscribe=One-Click. The page's answer offers the undo.
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
	h.render(w, http.StatusOK, "message", page{Heading: h.t("unsubscribe.done_heading"), Message: h.t("unsubscribe.done", u),
		Undo: undoURL(u.Undo)})
}

// undoURL is the undo link of token tok ("" for none).
func undoURL(tok string) string {
	if tok == "" {
		return ""
	}
	return "/undo?token=" + url.QueryEscape(tok)
}
