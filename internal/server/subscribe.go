package server

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

type subscribePage struct {
	SiteName string
	Digests  []string
	Error    string
	Email    string
	Name     string
}

func (s *Server) render(w http.ResponseWriter, code int, name string, data subscribePage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(code)
	if s.opt.Templates == nil {
		return
	}
	if err := s.opt.Templates.ExecuteTemplate(w, name, data); err != nil {
		s.opt.Log.Error("render page failed", "template", name, "err", err)
	}
}

func (s *Server) subscribeForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "subscribe.html", subscribePage{SiteName: s.opt.SiteName, Digests: s.opt.Digests})
}

// wantsJSON reports whether the client sent or prefers JSON.
func wantsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// subscribe handles POST /subscribe (form or JSON). It answers the same way
// whether or not the address already exists, so it reveals nothing about who
// subscribes; a confirmation email is required before any digest.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	m := s.opt.Metrics
	asJSON := wantsJSON(r)
	fail := func(code int, msg string, req SubscribeRequest) {
		if asJSON {
			jsonError(w, code, msg)
			return
		}
		s.render(w, code, "subscribe.html", subscribePage{SiteName: s.opt.SiteName, Digests: s.opt.Digests,
			Error: msg, Email: req.Email, Name: req.Name})
	}
	if !s.limiter.Allow(clientIP(r, s.opt.TrustedProxies)) {
		m.Subscribes.WithLabelValues("limited").Inc()
		w.Header().Set("Retry-After", "3600")
		fail(http.StatusTooManyRequests, "Too many subscription requests from your address. Please try again later.", SubscribeRequest{})
		return
	}
	req, err := parseSubscribe(w, r)
	if err != nil {
		m.Subscribes.WithLabelValues("invalid").Inc()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(http.StatusRequestEntityTooLarge, "The request is too large.", req)
			return
		}
		fail(http.StatusBadRequest, err.Error(), req)
		return
	}
	if s.opt.Subscriber == nil {
		fail(http.StatusServiceUnavailable, "Subscriptions are not available.", req)
		return
	}
	if err := s.opt.Subscriber.Subscribe(r.Context(), req); err != nil {
		if errors.Is(err, ErrInvalid) {
			m.Subscribes.WithLabelValues("invalid").Inc()
			fail(http.StatusBadRequest, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "), req)
			return
		}
		s.opt.Log.Error("subscribe failed", "err", err)
		fail(http.StatusInternalServerError, "Something went wrong on our side. Please try again later.", req)
		return
	}
	m.Subscribes.WithLabelValues("accepted").Inc()
	if asJSON {
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "pending",
			"message": "If the address can receive mail, a confirmation link is on its way."})
		return
	}
	s.render(w, http.StatusAccepted, "subscribed.html", subscribePage{SiteName: s.opt.SiteName})
}

func parseSubscribe(w http.ResponseWriter, r *http.Request) (SubscribeRequest, error) {
	var req SubscribeRequest
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
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
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return req, err
			}
			return req, errors.New("The request body is not valid JSON.")
		}
		req = SubscribeRequest{Email: body.Email, Name: body.Name, Digest: body.Digest,
			Sections: append(body.Sections, body.Section...), Authors: append(body.Authors, body.Author...)}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return req, err
			}
			return req, errors.New("The form could not be read.")
		}
		f := r.PostForm
		req = SubscribeRequest{Email: f.Get("email"), Name: f.Get("name"), Digest: f.Get("digest"),
			Sections: values(f, "section"), Authors: values(f, "author")}
	default:
		return req, errors.New("Send the form as application/x-www-form-urlencoded or JSON.")
	}
	req.Email = strings.TrimSpace(req.Email)
	req.Name = strings.TrimSpace(req.Name)
	if req.Email == "" {
		return req, errors.New("Please enter your email address.")
	}
	if !validEmail(req.Email) {
		return req, errors.New("That does not look like an email address.")
	}
	if len(req.Name) > 200 || strings.ContainsAny(req.Name, "\r\n\x00") {
		return req, errors.New("The name is too long or contains line breaks.")
	}
	if len(req.Sections)+len(req.Authors) > 200 {
		return req, errors.New("Too many sections or authors.")
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
