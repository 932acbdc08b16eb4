package reader

import (
	"mime"
	"net/http"

	"github.com/heraldnews/herald/subscription"
)

// preferencesPage shows which digests, sections and authors the reader
// follows (GET /preferences?token=…).
func (h *Handler) preferencesPage(w http.ResponseWriter, r *http.Request) {
	p, err := h.opt.Subscriptions.Preferences(r.Context(), linkToken(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, http.StatusOK, "preferences", page{Heading: "Your preferences", Action: action("/preferences", r),
		Email: string(p.Subscriber.Email), Digests: p.Digests})
}

// savePreferences saves the page's form (POST /preferences?token=…): digest
// holds the ticked digests' names; section.NAME and author.NAME the slugs
// followed in digest NAME. Only the page's own form counts: an
// application/x-www-form-urlencoded body carrying its hidden
// form=preferences field. Anything else — JSON, multipart, an empty body —
// is 415 or 400 and changes nothing: read as a form it would say "nothing
// ticked" and end every subscription.
func (h *Handler) savePreferences(w http.ResponseWriter, r *http.Request) {
	if _, err := h.opt.Subscriptions.Preferences(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		h.message(w, http.StatusUnsupportedMediaType, "Something went wrong", "Please save your choices with the form on the preferences page.")
		return
	}
	if !h.readForm(w, r) {
		return
	}
	if r.PostForm.Get("form") != "preferences" {
		h.message(w, http.StatusBadRequest, "Something went wrong", "Please save your choices with the form on the preferences page.")
		return
	}
	wanted := map[string]subscription.Wanted{}
	for _, name := range h.digests {
		wanted[name] = subscription.Wanted{Sections: r.PostForm["section."+name], Authors: r.PostForm["author."+name]}
	}
	for _, name := range r.PostForm["digest"] {
		if w, ok := wanted[name]; ok {
			w.Subscribed = true
			wanted[name] = w
		}
	}
	p, err := h.opt.Subscriptions.SavePreferences(r.Context(), linkToken(r), wanted)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, http.StatusOK, "preferences", page{Heading: "Your preferences are saved", Action: action("/preferences", r),
		Email: string(p.Subscriber.Email), Digests: p.Digests})
}
