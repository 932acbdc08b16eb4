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
	d, err := h.opt.Preferences.MyData(r.Context(), linkToken(r))
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
	p, err := h.opt.Preferences.Preferences(r.Context(), linkToken(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, http.StatusOK, "erase", page{Heading: h.t("erase.heading"), Action: action("/preferences/erase", r), Email: string(p.Subscriber.Email)})
}

// erase removes the reader's personal data (POST /preferences/erase?token=…),
// for the page's own form only (form=erase), as /preferences.
func (h *Handler) erase(w http.ResponseWriter, r *http.Request) {
	if _, err := h.opt.Preferences.Preferences(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		h.message(w, http.StatusUnsupportedMediaType, h.t("page.wrong"), h.t("page.use_button"))
		return
	}
	if !h.readForm(w, r) {
		return
	}
	if r.PostForm.Get("form") != "erase" {
		h.message(w, http.StatusBadRequest, h.t("page.wrong"), h.t("page.use_button"))
		return
	}
	if err := h.opt.Preferences.Erase(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	h.message(w, http.StatusOK, h.t("erase.done_heading"), h.t("erase.done"))
}
