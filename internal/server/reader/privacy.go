package reader

import (
	"mime"
	"net/http"
	"time"

	"github.com/heraldnews/herald/internal/server/web"
)

// myData answers GET /preferences/data?token=…: everything herald keeps
// about the reader, as a JSON download. It changes nothing.
func (h *Handler) myData(w http.ResponseWriter, r *http.Request) {
	d, err := h.opt.Subscriptions.MyData(r.Context(), linkToken(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", `attachment; filename="my-data-`+h.opt.Now().UTC().Format(time.DateOnly)+`.json"`)
	web.JSON(w, http.StatusOK, d)
}

// erasePage shows the button that erases the reader's data (GET
// /preferences/erase?token=…); it changes nothing.
func (h *Handler) erasePage(w http.ResponseWriter, r *http.Request) {
	p, err := h.opt.Subscriptions.Preferences(r.Context(), linkToken(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, http.StatusOK, "erase", page{Heading: "Erase your data", Action: action("/preferences/erase", r), Email: string(p.Subscriber.Email)})
}

// erase removes the reader's personal data (POST /preferences/erase?token=…),
// for the page's own form only (form=erase), as /preferences.
func (h *Handler) erase(w http.ResponseWriter, r *http.Request) {
	if _, err := h.opt.Subscriptions.Preferences(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		h.message(w, http.StatusUnsupportedMediaType, "Something went wrong", "Please use the button on the page.")
		return
	}
	if !h.readForm(w, r) {
		return
	}
	if r.PostForm.Get("form") != "erase" {
		h.message(w, http.StatusBadRequest, "Something went wrong", "Please use the button on the page.")
		return
	}
	if err := h.opt.Subscriptions.Erase(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	h.message(w, http.StatusOK, "Your data is erased", "We no longer have your address, your name or what we sent you. "+
		"To stop it coming back in an import, we keep a one-way fingerprint of the address; it cannot be turned back into it.")
}
