package reader

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/subscription"
)

type subscribePage struct {
	SiteName string
	// Digests are the digests offered, the one chosen (or the first) with
	// Subscribed set, its ticked follows Checked.
	Digests  []subscription.DigestChoice
	Local    bool     // a digest goes out at each reader's own time: ask the zone
	Zones    []string // the zone list (tz.js picks the browser's)
	Timezone string
	Error    string
	Email    string
	Name     string
	TS       string // the signed render time
	PoW      string // a proof-of-work challenge, when http.subscribe_pow is on
	PoWBits  int
}

// formPage returns the subscribe form's view with a fresh challenge, and a
// fresh ts unless p carries the one a post brought back (a reader fixing a
// typo is not a bot because the form came back quickly). req, from a
// post, keeps the reader's choices.
func (h *Handler) formPage(ctx context.Context, p subscribePage, req subscription.Request) (subscribePage, error) {
	p.SiteName, p.Local, p.Zones, p.Timezone = h.opt.Pages.Site().Name, h.local, zoneList(req.Timezone), req.Timezone
	offers, err := h.opt.Subscriptions.Offers(ctx)
	if err != nil {
		return p, err
	}
	chosen := 0
	for i, d := range offers {
		if d.Name == req.Digest {
			chosen = i
		}
	}
	for i := range offers {
		offers[i].Subscribed = i == chosen
		if i != chosen {
			continue
		}
		for j := range offers[i].Sections {
			offers[i].Sections[j].Checked = slices.Contains(req.Sections, offers[i].Sections[j].Slug)
		}
		for j := range offers[i].Authors {
			offers[i].Authors[j].Checked = slices.Contains(req.Authors, offers[i].Authors[j].Slug)
		}
	}
	p.Digests = offers
	if _, err := h.tokens.Verify(p.TS, purposeForm); err != nil {
		p.TS = h.formStamp()
	}
	if h.opt.Config.HTTP.SubscribePoW {
		p.PoW, p.PoWBits = h.challenge(), powBits
	}
	return p, nil
}

// renderForm writes the subscribe form; with the proof of work on, or a
// digest sent at each reader's own time (the zone script), its page may
// run herald's own scripts.
func (h *Handler) renderForm(w http.ResponseWriter, r *http.Request, status int, p subscribePage, req subscription.Request) {
	csp := web.CSP
	if h.opt.Config.HTTP.SubscribePoW || h.local {
		csp = web.ScriptCSP
	}
	p, err := h.formPage(r.Context(), p, req)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.opt.Pages.RenderCSP(w, status, "subscribe.html", p, csp)
}

// subscribeForm shows the subscribe form (GET /subscribe).
func (h *Handler) subscribeForm(w http.ResponseWriter, r *http.Request) {
	h.renderForm(w, r, http.StatusOK, subscribePage{}, subscription.Request{})
}

// wantsJSON reports whether the client sent or prefers JSON.
func wantsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// allow applies the per-client and per-network limits.
func (h *Handler) allow(r *http.Request) bool {
	ip := web.ClientIP(r, h.opt.TrustedProxies)
	return h.limiter.Allow(ip) && h.network.Allow(ip)
}

// subscribe handles POST /subscribe (form or JSON). It records the request
// and answers the same way whatever the address — new, pending, active,
// gone — and whether or not a bot check caught it, so it reveals nothing
// about who subscribes; a worker applies the rules and mails
// (subscription.Service.Run). Only a malformed request (400, 413) or a
// client over its limit (429) hears otherwise.
func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	asJSON := wantsJSON(r)
	var bot botCheck
	fail := func(code int, msg string, req subscription.Request) {
		if asJSON {
			web.JSONMessage(w, code, msg)
			return
		}
		h.renderForm(w, r, code, subscribePage{Error: msg, Email: req.Email, Name: req.Name, TS: bot.TS}, req)
	}
	limited := func() {
		h.opt.OnSubscribe("limited")
		w.Header().Set("Retry-After", "3600")
		fail(http.StatusTooManyRequests, h.t("subscribe.limited"), subscription.Request{})
	}
	if !h.allow(r) {
		limited()
		return
	}
	req, posted, err := parseSubscribe(w, r)
	bot = posted
	if err != nil {
		h.opt.OnSubscribe("invalid")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(http.StatusRequestEntityTooLarge, h.t("subscribe.too_large"), req)
			return
		}
		fail(http.StatusBadRequest, h.t(err.Error()), req) // the error is its catalogue key
		return
	}
	// The form's follows are per digest (section.NAME): those of the
	// digest chosen count.
	if d, ok := h.opt.Config.Digest(req.Digest); ok && r.PostForm != nil {
		req.Sections = append(req.Sections, r.PostForm["section."+d.Name]...)
		req.Authors = append(req.Authors, r.PostForm["author."+d.Name]...)
		if len(req.Sections)+len(req.Authors) > 200 {
			fail(http.StatusBadRequest, h.t("subscribe.too_many"), req)
			return
		}
	}
	why, full := h.caught(bot)
	if full {
		limited()
		return
	}
	if why != "" {
		h.opt.OnSubscribe("caught")
		h.opt.Log.Info("subscribe request caught by a bot check", "check", why)
	} else if err := h.opt.Subscriptions.Enqueue(r.Context(), req); err != nil {
		p := h.problem(err)
		if p.Status == http.StatusInternalServerError {
			h.opt.Log.Error("subscribe failed", "err", err)
			fail(p.Status, h.t("subscribe.failed"), req)
			return
		}
		h.opt.OnSubscribe("invalid")
		fail(p.Status, p.Message, req)
		return
	} else {
		h.opt.OnSubscribe("accepted")
	}
	if asJSON {
		web.JSON(w, http.StatusAccepted, map[string]string{"status": "pending", "message": h.t("subscribe.pending")})
		return
	}
	h.opt.Pages.Render(w, http.StatusAccepted, "subscribed.html", subscribePage{SiteName: h.opt.Pages.Site().Name})
}

// parseSubscribe reads a subscribe request. Its errors' messages are
// catalogue keys (subscribe.no_email): the handler words them.
func parseSubscribe(w http.ResponseWriter, r *http.Request) (subscription.Request, botCheck, error) {
	var (
		req subscription.Request
		bot botCheck
	)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	limit := int64(web.MaxFormBytes)
	if mt == "multipart/form-data" {
		limit *= 4 // each field carries a boundary and its headers: ~100 bytes more than urlencoded
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
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
			Website  string   `json:"website"`
			TS       string   `json:"ts"`
			PoW      string   `json:"pow"`
			Nonce    string   `json:"nonce"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return req, bot, err
			}
			return req, bot, invalid("subscribe.bad_json")
		}
		req = subscription.Request{Email: body.Email, Name: body.Name, Digest: body.Digest, Timezone: body.Timezone,
			Sections: append(body.Sections, body.Section...), Authors: append(body.Authors, body.Author...)}
		bot = botCheck{Website: body.Website, TS: body.TS, PoW: body.PoW, Nonce: body.Nonce}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		parse := r.ParseForm
		if mt == "multipart/form-data" { // a publisher's form with enctype="multipart/form-data"
			parse = func() error {
				err := r.ParseMultipartForm(limit) // the body is bounded by limit: nothing goes to disk
				if r.MultipartForm != nil {
					r.MultipartForm.RemoveAll()
				}
				return err
			}
		}
		if err := parse(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return req, bot, err
			}
			return req, bot, invalid("subscribe.bad_form")
		}
		f := r.PostForm
		req = subscription.Request{Email: f.Get("email"), Name: f.Get("name"), Digest: f.Get("digest"), Timezone: f.Get("timezone"),
			Sections: values(f, "section"), Authors: values(f, "author")}
		bot = botCheck{Website: f.Get("website"), TS: f.Get("ts"), PoW: f.Get("pow"), Nonce: f.Get("nonce")}
	default:
		return req, bot, invalid("subscribe.bad_type")
	}
	req.Email = strings.TrimSpace(req.Email)
	req.Name = strings.TrimSpace(req.Name)
	req.Timezone = strings.TrimSpace(req.Timezone)
	if req.Email == "" {
		return req, bot, invalid("subscribe.no_email")
	}
	if _, err := model.ParseAddress(req.Email); err != nil {
		return req, bot, invalid("subscribe.bad_email")
	}
	if len(req.Name) > 200 || strings.ContainsAny(req.Name, "\r\n\x00") {
		return req, bot, invalid("subscribe.bad_name")
	}
	if len(req.Sections)+len(req.Authors) > 200 {
		return req, bot, invalid("subscribe.too_many")
	}
	return req, bot, nil
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

// invalid is a problem with the request; msg is the catalogue key of its words.
func invalid(msg string) error { return &model.Error{Code: model.EINVALID, Message: msg} }
