package admin

import (
	"net/http"
	"strings"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
)

// previewFrame serves a previewed mail's HTML for the preview's sandboxed
// iframe, with its own policy (web.FrameCSP): the mail's inlined styles,
// images over https only, no script, framed only by herald. A checked
// send-now's sample comes by its id (?sample=); otherwise the query is the
// preview page's.
func (h *Handler) previewFrame(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	var (
		body string
		err  error
	)
	switch {
	case q.Get("sample") != "":
		var ok bool
		if body, ok = h.samples.get(q.Get("sample")); !ok {
			err = &model.Error{Code: model.ENOTFOUND, Message: "This sample has expired: check the send again."}
		}
	case q.Get("mode") == "new":
		var msg *model.Message
		if msg, err = h.opt.Digests.PreviewNewReader(r.Context(), q.Get("digest"), newReaderAddress, nonEmpty(q["section"]), nonEmpty(q["author"])); err == nil {
			body = msg.HTML
		}
	default:
		var msg *model.Message
		if msg, err = h.opt.Digests.Preview(r.Context(), q.Get("digest"), strings.TrimSpace(q.Get("email"))); err == nil {
			body = msg.HTML
		}
	}
	if err != nil {
		p := web.ProblemOf(err)
		if p.Status == http.StatusInternalServerError {
			h.log.Error("preview frame failed", "err", err)
		}
		web.SetFrameHeaders(w.Header())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(p.Status)
		_, _ = w.Write([]byte(p.Message))
		return
	}
	web.SetFrameHeaders(w.Header())
	_, _ = w.Write([]byte(body))
}
