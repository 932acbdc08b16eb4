package reader

import (
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/heraldnews/herald/subscription"
)

// Thresholds of the preferences page: a digest offering more sections or
// authors than listAll shows only those followed, plus what the reader's
// search matches (at most maxMatches of each kind), so 500 authors do not
// make a wall of checkboxes.
const (
	listAll    = 30
	maxMatches = 20
	maxNames   = 2000 // names offered while typing (the datalist)
)

// choiceView is one checkbox of the preferences page.
type choiceView struct {
	Name, Slug, Label string // Name is the input's: section.DIGEST or author.DIGEST
	Checked           bool
}

// digestView is one digest on the preferences page.
type digestView struct {
	subscription.DigestChoice
	List     string // what the reader follows, as a sentence ("" for everything)
	Sections []choiceView
	Authors  []choiceView
}

// prefsView turns the reader's preferences into the page: per digest the
// choices to show and what is followed; q, the search, adds its matches.
func (h *Handler) prefsView(p subscription.Preferences, q string) page {
	v := page{Email: string(p.Subscriber.Email), Query: q, Timezone: p.Subscriber.Timezone,
		Zones: zoneList(p.Subscriber.Timezone), Undo: undoURL(p.Undo)}
	needle := strings.ToLower(strings.TrimSpace(q))
	matched, more := false, false
	names := map[string]bool{}
	pick := func(input string, all []subscription.Choice) ([]choiceView, []string) {
		var out []choiceView
		var followed []string
		n := 0
		for _, c := range all {
			if len(names) < maxNames {
				names[c.Name] = true
			}
			hit := needle != "" && (strings.Contains(strings.ToLower(c.Name), needle) || strings.HasPrefix(c.Slug, needle))
			if hit {
				n++
				matched = true
				if n > maxMatches {
					more = true
					hit = false
				}
			}
			if c.Checked {
				followed = append(followed, c.Name)
			}
			if len(all) <= listAll || c.Checked || hit {
				out = append(out, choiceView{Name: input, Slug: c.Slug, Label: c.Name, Checked: c.Checked})
			}
		}
		return out, followed
	}
	for _, d := range p.Digests {
		dv := digestView{DigestChoice: d}
		var fs, fa []string
		dv.Sections, fs = pick("section."+d.Name, d.Sections)
		dv.Authors, fa = pick("author."+d.Name, d.Authors)
		dv.List = h.cat.List(append(fs, fa...))
		v.Digests = append(v.Digests, dv)
	}
	v.NoMatch, v.MoreMatches = needle != "" && !matched, more
	for n := range names {
		v.Names = append(v.Names, n)
	}
	slices.Sort(v.Names)
	return v
}

// preferencesPage shows which digests, sections and authors the reader
// follows (GET /preferences?token=…), with what a search (q) finds.
func (h *Handler) preferencesPage(w http.ResponseWriter, r *http.Request) {
	p, err := h.opt.Preferences.Preferences(r.Context(), linkToken(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	q := r.URL.Query().Get("q")
	if len(q) > 100 {
		q = q[:100]
	}
	v := h.prefsView(p, q)
	v.Heading, v.Action = h.t("prefs.heading"), action("/preferences", r)
	h.render(w, http.StatusOK, "preferences", v)
}

// savePreferences saves the page's form (POST /preferences?token=…): digest
// holds the ticked digests' names; section.NAME and author.NAME the slugs
// followed in digest NAME; timezone the reader's zone. The page's other
// form (form=everything) ends every subscription. Only the page's own
// forms count: an application/x-www-form-urlencoded body carrying its
// hidden form field. Anything else — JSON, multipart, an empty body — is
// 415 or 400 and changes nothing: read as a form it would say "nothing
// ticked" and end every subscription. An ended subscription brings the
// undo link.
func (h *Handler) savePreferences(w http.ResponseWriter, r *http.Request) {
	if _, err := h.opt.Preferences.Preferences(r.Context(), linkToken(r)); err != nil {
		h.fail(w, err)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		h.message(w, http.StatusUnsupportedMediaType, h.t("page.wrong"), h.t("prefs.wrong_form"))
		return
	}
	if !h.readForm(w, r) {
		return
	}
	switch r.PostForm.Get("form") {
	case "everything":
		p, err := h.opt.Preferences.UnsubscribeAll(r.Context(), linkToken(r))
		if err != nil {
			h.fail(w, err)
			return
		}
		h.render(w, http.StatusOK, "message", page{Heading: h.t("prefs.everything_done_heading"), Message: h.t("prefs.everything_done"),
			Undo: undoURL(p.Undo)})
		return
	case "preferences":
	default:
		h.message(w, http.StatusBadRequest, h.t("page.wrong"), h.t("prefs.wrong_form"))
		return
	}
	if r.PostForm.Has("timezone") {
		if err := h.opt.Preferences.SaveTimezone(r.Context(), linkToken(r), r.PostForm.Get("timezone")); err != nil {
			h.fail(w, err)
			return
		}
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
	p, err := h.opt.Preferences.SavePreferences(r.Context(), linkToken(r), wanted)
	if err != nil {
		h.fail(w, err)
		return
	}
	v := h.prefsView(p, "")
	v.Heading, v.Action = h.t("prefs.saved_heading"), action("/preferences", r)
	h.render(w, http.StatusOK, "preferences", v)
}
