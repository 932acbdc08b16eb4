package digest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// Web serves the pages behind the links in mail: /confirm, /unsubscribe
// (including the RFC 8058 one-click POST) and /preferences. A GET shows a
// page with a button; only a POST changes anything, since mail scanners
// fetch links.
type Web struct {
	s *Service
}

// NewWeb returns the subscriber pages of s.
func NewWeb(s *Service) *Web { return &Web{s: s} }

// Register mounts the pages on mux.
func (w *Web) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /confirm", w.confirm)
	mux.HandleFunc("POST /confirm", w.confirm)
	mux.HandleFunc("GET /unsubscribe", w.unsubscribe)
	mux.HandleFunc("POST /unsubscribe", w.unsubscribe)
	mux.HandleFunc("GET /preferences", w.preferences)
	mux.HandleFunc("POST /preferences", w.preferences)
}

// pageData is what the page templates receive.
type pageData struct {
	Site        SiteView
	Heading     string
	Message     string
	Error       bool
	Action      string // the form's action: the page's own URL with its token
	Email       string
	DigestTitle string
	Digests     []digestChoice
}

type digestChoice struct {
	Name, Title string
	Subscribed  bool
	Sections    []choice
	Authors     []choice
}

type choice struct {
	Slug, Name string
	Checked    bool
}

func (w *Web) render(rw http.ResponseWriter, status int, name string, d pageData) {
	d.Site = w.s.siteView()
	var b bytes.Buffer
	if err := w.s.tmpl.pages.ExecuteTemplate(&b, name, d); err != nil {
		w.s.log.Error("page render failed", "page", name, "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	rw.WriteHeader(status)
	_, _ = rw.Write(b.Bytes())
}

func (w *Web) message(rw http.ResponseWriter, status int, heading, msg string) {
	w.render(rw, status, "message", pageData{Heading: heading, Message: msg, Error: status >= 400})
}

// verify checks the request's token for purpose, answering the request
// itself when it is refused: 400 for a malformed, tampered or misused
// token, 403 for an expired one.
func (w *Web) verify(rw http.ResponseWriter, r *http.Request, purpose string) (int64, string, bool) {
	tok := r.URL.Query().Get("token")
	id, err := w.s.tokens.Verify(tok, purpose)
	switch {
	case err == nil:
		return id, "?token=" + tok, true
	case errors.Is(err, token.ErrExpired):
		w.message(rw, http.StatusForbidden, "This link has expired",
			"For your safety, links in our emails stop working after a while. Use the link in a more recent email.")
	default:
		w.message(rw, http.StatusBadRequest, "This link is not valid",
			"The link may have been cut short or changed. Copy the whole link from the email and try again.")
	}
	return 0, "", false
}

func (w *Web) limitBody(rw http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(rw, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		w.message(rw, http.StatusBadRequest, "Something went wrong", "The form could not be read. Please try again.")
		return false
	}
	return true
}

func (w *Web) confirm(rw http.ResponseWriter, r *http.Request) {
	id, q, ok := w.verify(rw, r, token.Confirm)
	if !ok {
		return
	}
	ctx := r.Context()
	sub, err := w.s.store.SubscriberByID(ctx, id)
	if err != nil || sub.Status == model.SubscriberErased {
		w.message(rw, http.StatusNotFound, "Subscription not found", "This address is no longer on our list. You can subscribe again on our site.")
		return
	}
	if r.Method == http.MethodGet {
		if sub.Status == model.SubscriberActive {
			w.message(rw, http.StatusOK, "You are subscribed", "Your subscription is already confirmed. Thank you!")
			return
		}
		w.render(rw, http.StatusOK, "confirm", pageData{Heading: "Confirm your subscription", Action: "/confirm" + q, Email: sub.Email})
		return
	}
	if !w.limitBody(rw, r) {
		return
	}
	if sub.Status != model.SubscriberActive {
		if err := w.s.store.SetSubscriberStatus(ctx, sub.ID, model.SubscriberActive); err != nil {
			w.fail(rw, err)
			return
		}
		w.s.log.Info("subscriber confirmed", "subscriber", sub.ID)
	}
	w.message(rw, http.StatusOK, "You are subscribed", "Thank you! Your first digest arrives with the next edition.")
}

func (w *Web) unsubscribe(rw http.ResponseWriter, r *http.Request) {
	id, q, ok := w.verify(rw, r, token.Unsubscribe)
	if !ok {
		return
	}
	ctx := r.Context()
	su, err := w.s.store.SubscriptionByID(ctx, id)
	if err != nil {
		w.message(rw, http.StatusNotFound, "Subscription not found", "We could not find this subscription. It may have been removed already.")
		return
	}
	title := su.Digest
	if d, err := w.s.digest(su.Digest); err == nil {
		title = sanitize.Line(d.Title)
	}
	if r.Method == http.MethodGet {
		if su.Status == model.SubscriptionUnsubscribed {
			w.message(rw, http.StatusOK, "You are unsubscribed", "You no longer receive "+title+".")
			return
		}
		sub, err := w.s.store.SubscriberByID(ctx, su.SubscriberID)
		if err != nil {
			w.fail(rw, err)
			return
		}
		w.render(rw, http.StatusOK, "unsubscribe", pageData{Heading: "Unsubscribe", Action: "/unsubscribe" + q, Email: sub.Email, DigestTitle: title})
		return
	}
	// Any POST with a valid token unsubscribes, the RFC 8058 one-click body
	// (List-Unsubscribe=One-Click) from a mail client included.
	if !w.limitBody(rw, r) {
		return
	}
	if su.Status != model.SubscriptionUnsubscribed {
		if err := w.s.store.SetSubscriptionStatus(ctx, su.ID, model.SubscriptionUnsubscribed); err != nil {
			w.fail(rw, err)
			return
		}
		w.s.log.Info("unsubscribed", "subscription", su.ID, "one_click", r.PostForm.Get("List-Unsubscribe") == "One-Click")
	}
	w.message(rw, http.StatusOK, "You are unsubscribed", "You will not receive "+title+" any more.")
}

func (w *Web) preferences(rw http.ResponseWriter, r *http.Request) {
	id, q, ok := w.verify(rw, r, token.Manage)
	if !ok {
		return
	}
	ctx := r.Context()
	sub, err := w.s.store.SubscriberByID(ctx, id)
	if err != nil || sub.Status == model.SubscriberErased {
		w.message(rw, http.StatusNotFound, "Subscription not found", "This address is no longer on our list.")
		return
	}
	if r.Method == http.MethodPost {
		if !w.limitBody(rw, r) {
			return
		}
		if err := w.savePreferences(ctx, sub, r); err != nil {
			w.fail(rw, err)
			return
		}
	}
	choices, err := w.choices(ctx, sub)
	if err != nil {
		w.fail(rw, err)
		return
	}
	d := pageData{Heading: "Your preferences", Action: "/preferences" + q, Email: sub.Email, Digests: choices}
	if r.Method == http.MethodPost {
		d.Heading = "Your preferences are saved"
	}
	w.render(rw, http.StatusOK, "preferences", d)
}

func (w *Web) choices(ctx context.Context, sub model.Subscriber) ([]digestChoice, error) {
	subs, err := w.s.store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return nil, err
	}
	secs, err := w.s.store.Sections(ctx)
	if err != nil {
		return nil, err
	}
	auths, err := w.s.store.Authors(ctx)
	if err != nil {
		return nil, err
	}
	var out []digestChoice
	for _, d := range w.s.cfg.Digests {
		c := digestChoice{Name: d.Name, Title: sanitize.Line(d.Title)}
		var su model.Subscription
		for _, x := range subs {
			if x.Digest == d.Name {
				su = x
			}
		}
		c.Subscribed = su.ID != 0 && su.Status == model.SubscriptionActive
		for _, s := range secs {
			if model.ValidSlug(s.Slug) {
				c.Sections = append(c.Sections, choice{Slug: s.Slug, Name: sanitize.Line(s.Name), Checked: slices.Contains(su.Sections, s.Slug)})
			}
		}
		for _, a := range auths {
			if model.ValidSlug(a.Slug) {
				c.Authors = append(c.Authors, choice{Slug: a.Slug, Name: sanitize.Line(a.Name), Checked: slices.Contains(su.Authors, a.Slug)})
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func (w *Web) savePreferences(ctx context.Context, sub model.Subscriber, r *http.Request) error {
	subs, err := w.s.store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return err
	}
	secs, err := w.s.store.Sections(ctx)
	if err != nil {
		return err
	}
	auths, err := w.s.store.Authors(ctx)
	if err != nil {
		return err
	}
	validSec, validAuth := map[string]bool{}, map[string]bool{}
	for _, s := range secs {
		validSec[s.Slug] = true
	}
	for _, a := range auths {
		validAuth[a.Slug] = true
	}
	pick := func(vals []string, valid map[string]bool) []string {
		var out []string
		for _, v := range vals {
			if valid[v] && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	wanted := r.PostForm["digest"]
	for _, d := range w.s.cfg.Digests {
		sections := pick(r.PostForm["section."+d.Name], validSec)
		authors := pick(r.PostForm["author."+d.Name], validAuth)
		var have *model.Subscription
		for i := range subs {
			if subs[i].Digest == d.Name {
				have = &subs[i]
			}
		}
		switch {
		case slices.Contains(wanted, d.Name):
			if _, err := w.s.store.UpsertSubscription(ctx, sub.ID, d.Name, sections, authors, model.SubscriptionActive); err != nil {
				return err
			}
		case have != nil:
			if _, err := w.s.store.UpsertSubscription(ctx, sub.ID, d.Name, sections, authors, model.SubscriptionUnsubscribed); err != nil {
				return err
			}
		}
	}
	w.s.log.Info("preferences saved", "subscriber", sub.ID)
	return nil
}

func (w *Web) fail(rw http.ResponseWriter, err error) {
	w.s.log.Error("subscriber page failed", "err", err)
	w.message(rw, http.StatusInternalServerError, "Something went wrong", "Please try again in a few minutes.")
}
