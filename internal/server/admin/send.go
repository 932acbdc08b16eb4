package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// choice is one option of a form: a digest, a section, an author.
type choice struct {
	Value, Label string
	Checked      bool
}

// sendForm is what the send-now form shows and sends on.
type sendForm struct {
	Digests, Sections, Authors []choice
	Since                      string
	Query                      string // the choices as hidden fields' values, for the next step
}

type sendPage struct {
	Page
	Form  sendForm
	Error string
}

// sendForm shows the send-now form: digest, sections, authors, --since.
func (h *Handler) sendForm(w http.ResponseWriter, r *http.Request, rq *request) {
	f, err := h.form(r, digest.SendNowRequest{}, "")
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.render(w, r, rq, http.StatusOK, "admin/send", sendPage{Page: h.pageOf(rq, "Send now", "send"), Form: f})
}

// form builds the send-now form around req.
func (h *Handler) form(r *http.Request, req digest.SendNowRequest, since string) (sendForm, error) {
	ctx := r.Context()
	f := sendForm{Since: since}
	chosen := req.Digest
	if chosen == "" && len(h.cfg.Digests) > 0 {
		chosen = h.cfg.Digests[0].Name
	}
	for _, d := range h.cfg.Digests {
		f.Digests = append(f.Digests, choice{Value: d.Name, Label: d.Title + " (" + d.Name + ")", Checked: d.Name == chosen})
	}
	secs, err := h.opt.Subscribers.Sections(ctx)
	if err != nil {
		return f, err
	}
	for _, s := range secs {
		f.Sections = append(f.Sections, choice{Value: s.Slug, Label: s.Name, Checked: has(req.Sections, s.Slug)})
	}
	auths, err := h.opt.Subscribers.Authors(ctx)
	if err != nil {
		return f, err
	}
	for _, a := range auths {
		f.Authors = append(f.Authors, choice{Value: a.Slug, Label: a.Name, Checked: has(req.Authors, a.Slug)})
	}
	return f, nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// errBadSince: --since that is not a positive duration.
var errBadSince = &model.Error{Code: model.EINVALID, Message: "Look back must be a positive duration such as 6h or 2d, or empty for the digest's own."}

// sendRequest reads a send-now request from a posted form (the CLI's
// flags: digest, section, author, since).
func sendRequest(r *http.Request) (digest.SendNowRequest, string, error) {
	req := digest.SendNowRequest{Digest: r.PostFormValue("digest"), Sections: nonEmpty(r.PostForm["section"]),
		Authors: nonEmpty(r.PostForm["author"])}
	since := strings.TrimSpace(r.PostFormValue("since"))
	if since != "" {
		d, err := config.ParseDuration(since)
		if err != nil || d <= 0 {
			return req, since, errBadSince
		}
		req.Since = d.D()
	}
	return req, since, nil
}

func nonEmpty(v []string) []string {
	var out []string
	for _, s := range v {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sendNow starts the edition the editor checked and confirmed, then shows
// it with its live progress.
func (h *Handler) sendNow(w http.ResponseWriter, r *http.Request, rq *request) {
	req, _, err := sendRequest(r)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		h.fail(w, r, rq, &model.Error{Code: model.EINVALID, Message: "Check the send first, then confirm it."})
		return
	}
	req.Wait = 10 * time.Minute
	id, _, err := h.opt.Digests.StartSendNow(r.Context(), req)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.opt.Accounts.Record(r.Context(), rq.actor(), "send_now", "edition "+strconv.FormatInt(id, 10),
		req.Describe()+" checked_recipients="+r.PostFormValue("recipients"))
	http.Redirect(w, r, "/admin/editions/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
