package reader

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/subscription"
)

type subscribePage struct {
	SiteName string
	Digests  []string
	Error    string
	Email    string
	Name     string
}

// subscribeForm shows the subscribe form (GET /subscribe).
func (h *Handler) subscribeForm(w http.ResponseWriter, r *http.Request) {
	h.opt.Pages.Render(w, http.StatusOK, "subscribe.html", subscribePage{SiteName: h.opt.Pages.Site().Name, Digests: h.digests})
}

// wantsJSON reports whether the client sent or prefers JSON.
func wantsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// subscribe handles POST /subscribe (form or JSON). It answers the same way
// whether or not the address already exists, so it reveals nothing about who
// subscribes; a confirmation email is required before any digest.
func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	asJSON := wantsJSON(r)
	fail := func(code int, msg string, req subscription.Request) {
		if asJSON {
			web.JSONMessage(w, code, msg)
			return
		}
		h.opt.Pages.Render(w, code, "subscribe.html", subscribePage{SiteName: h.opt.Pages.Site().Name, Digests: h.digests,
			Error: msg, Email: req.Email, Name: req.Name})
	}
	if !h.limiter.Allow(web.ClientIP(r, h.opt.TrustedProxies)) {
		h.opt.OnSubscribe("limited")
		w.Header().Set("Retry-After", "3600")
		fail(http.StatusTooManyRequests, "Too many subscription requests from your address. Please try again later.", subscription.Request{})
		return
	}
	req, err := parseSubscribe(w, r)
	if err != nil {
		h.opt.OnSubscribe("invalid")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(http.StatusRequestEntityTooLarge, "The request is too large.", req)
			return
		}
		fail(http.StatusBadRequest, err.Error(), req)
		return
	}
	req.Async = true
	if _, _, err := h.opt.Subscriptions.Subscribe(r.Context(), req); err != nil {
		p := web.ProblemOf(err)
		if p.Status == http.StatusInternalServerError {
			h.opt.Log.Error("subscribe failed", "err", err)
			fail(p.Status, "Something went wrong on our side. Please try again later.", req)
			return
		}
		h.opt.OnSubscribe("invalid")
		fail(p.Status, p.Message, req)
		return
	}
	h.opt.OnSubscribe("accepted")
	if asJSON {
		web.JSON(w, http.StatusAccepted, map[string]string{"status": "pending",
			"message": "If the address can receive mail, a confirmation link is on its way."})
		return
	}
	h.opt.Pages.Render(w, http.StatusAccepted, "subscribed.html", subscribePage{SiteName: h.opt.Pages.Site().Name})
}

func parseSubscribe(w http.ResponseWriter, r *http.Request) (subscription.Request, error) {
	var req subscription.Request
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxFormBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var body struct {
			Email    string   `json:"email"`
			Name     string   `json:"name"`
			Digest   string   `json:"digest"`
			Sections []string `json:"sections"`
			Authors  []string `json:"authors"`
			Section  []string `json:"section"`
			Author   []string `json:"author"`
			Timezone string   `json:"timezone"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return req, err
			}
			return req, invalid("The request body is not valid JSON.")
		}
		req = subscription.Request{Email: body.Email, Name: body.Name, Digest: body.Digest,
			Sections: append(body.Sections, body.Section...), Authors: append(body.Authors, body.Author...), Timezone: body.Timezone}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return req, err
			}
			return req, invalid("The form could not be read.")
		}
		f := r.PostForm
		req = subscription.Request{Email: f.Get("email"), Name: f.Get("name"), Digest: f.Get("digest"),
			Sections: values(f, "section"), Authors: values(f, "author"), Timezone: f.Get("timezone")}
	default:
		return req, invalid("Send the form as application/x-www-form-urlencoded or JSON.")
	}
	req.Email = strings.TrimSpace(req.Email)
	req.Name = strings.TrimSpace(req.Name)
	if req.Email == "" {
		return req, invalid("Please enter your email address.")
	}
	if _, err := model.ParseAddress(req.Email); err != nil {
		return req, invalid("That does not look like an email address.")
	}
	if len(req.Name) > 200 || strings.ContainsAny(req.Name, "\r\n\x00") {
		return req, invalid("The name is too long or contains line breaks.")
	}
	if len(req.Sections)+len(req.Authors) > 200 {
		return req, invalid("Too many sections or authors.")
	}
	return req, nil
}

// values returns the non-empty values of key, also accepting a
// comma-separated list.
func values(f url.Values, key string) []string {
	var out []string
	for _, v := range append(f[key], f[key+"s"]...) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// invalid is a problem with the request, in words shown to the reader.
func invalid(msg string) error { return &model.Error{Code: model.EINVALID, Message: msg} }
