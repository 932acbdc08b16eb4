// Package reader serves the pages a reader meets: the subscribe form and
// POST /subscribe (with its limits and bot checks: bot.go), and the pages
// behind the links in mail — /confirm, /unsubscribe (with the RFC 8058
// one-click POST), /preferences, and the reader's own data (privacy.go). A
// GET shows a page with a button; only a POST changes anything, since mail
// scanners fetch links. One file per action.
//
// The rules live in package subscription, reached through the Subscriptions
// interface declared here; pages, headers and error statuses come from
// package web.
package reader

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/internal/token"
	"github.com/heraldnews/herald/subscription"
	"github.com/heraldnews/herald/templates"
)

// Subscriptions is what the reader pages ask of package subscription.
type Subscriptions interface {
	// Enqueue checks a subscribe request and records it for the worker.
	Enqueue(ctx context.Context, req subscription.Request) error
	ConfirmTarget(ctx context.Context, tok string) (subscription.Confirmation, error)
	Confirm(ctx context.Context, tok string) (model.Subscriber, error)
	UnsubscribeTarget(ctx context.Context, tok string) (subscription.Unsubscription, error)
	Unsubscribe(ctx context.Context, tok string, oneClick bool) (subscription.Unsubscription, error)
	Preferences(ctx context.Context, tok string) (subscription.Preferences, error)
	SavePreferences(ctx context.Context, tok string, wanted map[string]subscription.Wanted) (subscription.Preferences, error)
	MyData(ctx context.Context, tok string) (subscription.MyData, error)
	Erase(ctx context.Context, tok string) error
}

// Options configure the reader pages.
type Options struct {
	Config        *config.Config
	Subscriptions Subscriptions
	Pages         *web.Pages
	// TrustedProxies may set X-Forwarded-For (the subscribe limit is per client).
	TrustedProxies []netip.Prefix
	// OnSubscribe is told each POST /subscribe's result: accepted,
	// invalid, limited, caught (a bot: answered as accepted).
	OnSubscribe func(result string)
	Log         *slog.Logger
	Now         func() time.Time
}

// networkFactor is how many clients' allowance one network (an IPv4 /24,
// an IPv6 /64) gets per hour.
const networkFactor = 4

// Handler serves the reader pages.
type Handler struct {
	opt     Options
	tokens  *token.Signer      // the subscribe form's
	limiter *web.HourlyLimiter // per client
	network *web.HourlyLimiter // per network
	spent   *spentChallenges
	digests []string
}

// New returns the reader pages. It renders each page once with sample
// data, so a template that fails when run fails at start.
func New(opt Options) (*Handler, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.OnSubscribe == nil {
		opt.OnSubscribe = func(string) {}
	}
	// The subscribe form's render time and proof-of-work challenges are
	// signed with the config's secret, under purposes of their own.
	signer, err := token.NewSigner([]byte(opt.Config.Secret), opt.Now, []byte(opt.Config.SecretPrevious))
	if err != nil {
		return nil, err
	}
	n := opt.Config.HTTP.SubscribePerHour
	h := &Handler{opt: opt, tokens: signer, limiter: web.NewHourlyLimiter(n, opt.Now), network: web.NewNetworkLimiter(n*networkFactor, opt.Now),
		spent: &spentChallenges{seen: map[int64]time.Time{}, max: 100_000}}
	for _, d := range opt.Config.Digests {
		h.digests = append(h.digests, d.Name)
	}
	for _, name := range []string{"confirm", "unsubscribe", "preferences", "erase", "message"} {
		if err := opt.Pages.Check(name, page{Site: opt.Pages.Site(), Heading: "x"}); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"subscribe.html", "subscribed.html"} {
		if err := opt.Pages.Check(name, subscribePage{SiteName: opt.Pages.Site().Name, Digests: h.digests}); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Register mounts the pages on mux.
func (h *Handler) Register(mux web.Mux) {
	mux.HandleFunc("GET /subscribe", h.subscribeForm)
	mux.HandleFunc("POST /subscribe", h.subscribe)
	if h.opt.Config.HTTP.SubscribePoW {
		mux.HandleFunc("GET /subscribe/challenge", h.powChallenge)
		mux.HandleFunc("GET /subscribe/pow.js", h.powJS)
	}
	mux.HandleFunc("GET /confirm", h.confirmPage)
	mux.HandleFunc("POST /confirm", h.confirm)
	mux.HandleFunc("GET /unsubscribe", h.unsubscribePage)
	mux.HandleFunc("POST /unsubscribe", h.unsubscribe)
	mux.HandleFunc("GET /preferences", h.preferencesPage)
	mux.HandleFunc("POST /preferences", h.savePreferences)
	mux.HandleFunc("GET /preferences/data", h.myData)
	mux.HandleFunc("GET /preferences/erase", h.erasePage)
	mux.HandleFunc("POST /preferences/erase", h.erase)
}

// page is what the link pages' templates receive.
type page struct {
	Site        templates.Site
	Heading     string
	Message     string
	Error       bool
	Action      string // the form's action: the page's own URL with its token
	Token       string // the link's token, for the page's other links
	Email       string
	DigestTitle string
	Digests     []subscription.DigestChoice
}

// render writes a link page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, p page) {
	p.Site = h.opt.Pages.Site()
	if p.Action != "" {
		_, p.Token, _ = strings.Cut(p.Action, "?token=")
	}
	h.opt.Pages.Render(w, status, name, p)
}

// message writes a page that only says something.
func (h *Handler) message(w http.ResponseWriter, status int, heading, msg string) {
	h.render(w, status, "message", page{Heading: heading, Message: msg, Error: status >= 400})
}

// fail answers err with the page its code maps to (web.ProblemOf).
func (h *Handler) fail(w http.ResponseWriter, err error) {
	p := web.ProblemOf(err)
	if p.Status == http.StatusInternalServerError {
		h.opt.Log.Error("reader page failed", "err", err)
	}
	h.message(w, p.Status, p.Heading, p.Message)
}

// linkToken is the request's link token.
func linkToken(r *http.Request) string { return r.URL.Query().Get("token") }

// action is a page's form action: its own path with its token.
func action(path string, r *http.Request) string {
	return path + "?token=" + linkToken(r)
}

// readForm reads a POST's form within web.MaxFormBytes, answering the
// request itself when it cannot.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.message(w, http.StatusBadRequest, "Something went wrong", "The form could not be read. Please try again.")
		return false
	}
	return true
}
