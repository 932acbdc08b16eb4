package admin

import (
	"net/http"
	"strings"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
)

type headerLine struct{ Name, Value string }

type previewPage struct {
	Page
	Form     sendForm // digest choice, sections and authors for a new reader
	Mode     string   // "subscriber" or "new"
	Digest   string   // the digest chosen, kept by the search's links
	Email    string
	Matches  []model.Subscriber // subscribers whose address starts with Email
	Shown    bool
	Headers  []headerLine
	Text     string
	FrameURL string
	Problem  string
}

// newReaderAddress addresses the preview of a reader who does not exist.
const newReaderAddress = "new.reader@example.com"

// preview shows any digest as a subscriber (found by address) or a new
// reader following chosen sections and authors would get it now: the
// headers that would go out, the plain text, and the HTML in a sandboxed
// frame served by previewFrame.
func (h *Handler) preview(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	ctx := r.Context()
	f, err := h.form(r, digest.SendNowRequest{Digest: q.Get("digest"), Sections: q["section"], Authors: q["author"]}, "")
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	data := previewPage{Page: h.pageOf(rq, "Preview", "preview"), Form: f, Mode: q.Get("mode"), Email: strings.TrimSpace(q.Get("email"))}
	if data.Mode != "new" {
		data.Mode = "subscriber"
	}
	digestName := q.Get("digest")
	data.Digest = digestName
	var msg *model.Message
	switch {
	case data.Mode == "new" && q.Has("digest"):
		msg, err = h.opt.Digests.PreviewNewReader(ctx, digestName, newReaderAddress, nonEmpty(q["section"]), nonEmpty(q["author"]))
	case data.Email != "":
		if addr, perr := model.ParseAddress(data.Email); perr == nil {
			msg, err = h.opt.Digests.Preview(ctx, digestName, string(addr))
			break
		}
		// Not a whole address: a search by its beginning.
		data.Matches, err = h.opt.Subscribers.SearchSubscribers(ctx, model.SubscriberQuery{Email: data.Email, Limit: 10})
		if err == nil && len(data.Matches) == 0 {
			data.Problem = "No subscriber's address starts with " + data.Email + "."
		}
	}
	if err != nil {
		if model.ErrorCode(err) == model.EINTERNAL {
			h.fail(w, r, rq, err)
			return
		}
		data.Problem = model.ErrorMessage(err)
	}
	if msg != nil {
		data.Shown = true
		data.Text = msg.Text
		data.Headers = messageHeaders(msg)
		data.FrameURL = "/admin/preview/frame?" + q.Encode()
	}
	h.render(w, r, rq, http.StatusOK, "admin/preview", data)
}

// messageHeaders lists the headers herald sets on msg (the mailer adds
// MIME, Date formatting and DKIM on the way out).
func messageHeaders(m *model.Message) []headerLine {
	to := string(m.ToAddr)
	if m.ToName != "" {
		to = m.ToName + " <" + to + ">"
	}
	hs := []headerLine{{"From", m.From}, {"To", to}, {"Subject", m.Subject}, {"Message-ID", m.MessageID}}
	if m.ReplyTo != "" {
		hs = append(hs, headerLine{"Reply-To", m.ReplyTo})
	}
	for _, x := range m.Headers {
		hs = append(hs, headerLine{x.Name, x.Value})
	}
	return hs
}
