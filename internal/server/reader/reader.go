// Package reader serves the pages a reader meets: the subscribe form and
// POST /subscribe (with its limits and bot checks: bot.go), the pages
// behind the links in mail — /confirm, /unsubscribe (with the RFC 8058
// one-click POST), /preferences (search, time zone, unsubscribe from
// everything), /undo, and the reader's own data (privacy.go) — and the
// digests' public archive with its feeds (archive_*.go). A GET shows a page
// with a button; only a POST changes anything, since mail scanners fetch
// links. One file per action. Every sentence comes from the site
// language's message catalogue (package i18n); the pages' stylesheet and
// scripts are files under /assets/ (assets.go): the policy allows nothing
// inline.
//
// The rules live in package subscription, reached through the Subscriptions
// interface declared here; pages, headers and error statuses come from
// package web.
package reader

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/i18n"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/internal/token"
	"github.com/heraldnews/herald/subscription"
	"github.com/heraldnews/herald/templates"
)

// Subscriptions is what the reader pages ask of package subscription about
// signing up and leaving.
type Subscriptions interface {
	// Enqueue checks a subscribe request and records it for the worker.
	Enqueue(ctx context.Context, req subscription.Request) error
	// Offers lists the digests as the subscribe form shows them.
	Offers(ctx context.Context) ([]subscription.DigestChoice, error)
	ConfirmTarget(ctx context.Context, tok string) (subscription.Confirmation, error)
	Confirm(ctx context.Context, tok string) (model.Subscriber, error)
	UnsubscribeTarget(ctx context.Context, tok string) (subscription.Unsubscription, error)
	Unsubscribe(ctx context.Context, tok string, oneClick bool) (subscription.Unsubscription, error)
	UndoTarget(ctx context.Context, tok string) (subscription.Restoration, error)
	Undo(ctx context.Context, tok string) (subscription.Restoration, error)
}

// Preferences is what the preferences page and the reader's own data ask
// of package subscription.
type Preferences interface {
	Preferences(ctx context.Context, tok string) (subscription.Preferences, error)
	SavePreferences(ctx context.Context, tok string, wanted map[string]subscription.Wanted) (subscription.Preferences, error)
	SaveTimezone(ctx context.Context, tok, tz string) error
	UnsubscribeAll(ctx context.Context, tok string) (subscription.Preferences, error)
	MyData(ctx context.Context, tok string) (subscription.MyData, error)
	Erase(ctx context.Context, tok string) error
}

// Options configure the reader pages.
type Options struct {
	Config        *config.Config
	Subscriptions Subscriptions
	Preferences   Preferences // default: Subscriptions, when it implements it
	// Archive serves the digests' public archive; nil: no archive routes.
	Archive Archive
	Pages   *web.Pages
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
	cat     *i18n.Catalog
	css     []byte // /assets/reader.css
	local   bool   // a digest goes out at each reader's own time
	// archived caches the archive's answers (nil without an archive).
	archived *pageCache
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
	if opt.Preferences == nil {
		opt.Preferences, _ = opt.Subscriptions.(Preferences)
	}
	if opt.Preferences == nil {
		return nil, errors.New("reader: New needs the preferences' service")
	}
	// The subscribe form's render time and proof-of-work challenges are
	// signed with the config's secret, under purposes of their own.
	signer, err := token.NewSigner([]byte(opt.Config.Secret), opt.Now, []byte(opt.Config.SecretPrevious))
	if err != nil {
		return nil, err
	}
	n := opt.Config.HTTP.SubscribePerHour
	h := &Handler{opt: opt, tokens: signer, limiter: web.NewHourlyLimiter(n, opt.Now), network: web.NewNetworkLimiter(n*networkFactor, opt.Now),
		spent: &spentChallenges{seen: map[int64]time.Time{}, max: 100_000}, cat: opt.Pages.Catalog()}
	if h.cat == nil {
		return nil, errors.New("reader: the pages have no message catalogue (web.LoadPages loads it)")
	}
	for _, d := range opt.Config.Digests {
		h.digests = append(h.digests, d.Name)
		h.local = h.local || d.Local()
	}
	if h.css, err = templates.ReadFile(opt.Config.TemplatesDir, "reader.css"); err != nil {
		return nil, err
	}
	if err := h.checkPages(); err != nil {
		return nil, err
	}
	return h, nil
}

// checkPages renders each page once with sample data, so a template that
// parses but fails when run (an unknown catalogue key) fails at start.
func (h *Handler) checkPages() error {
	site := h.opt.Pages.Site()
	sample := []digestView{{DigestChoice: subscription.DigestChoice{Name: "d", Title: "T", Description: "D", Subscribed: true},
		List: "x", Sections: []choiceView{{Name: "section.d", Slug: "s", Label: "S"}}}}
	for _, name := range []string{"confirm", "unsubscribe", "preferences", "erase", "undo", "message"} {
		p := page{Site: site, Heading: "x", DigestTitle: "T", Undo: "/u", Query: "q", Digests: sample, Zones: []string{"UTC"}}
		if err := h.opt.Pages.Check(name, p); err != nil {
			return err
		}
	}
	offers := []subscription.DigestChoice{{Name: "a", Title: "A", Description: "D", Local: true,
		Sections: []subscription.Choice{{Slug: "s", Name: "S"}, {Slug: "t", Name: "T"}},
		Authors:  []subscription.Choice{{Slug: "s", Name: "S"}, {Slug: "t", Name: "T"}}}, {Name: "b", Title: "B"}}
	for _, name := range []string{"subscribe.html", "subscribed.html"} {
		if err := h.opt.Pages.Check(name, subscribePage{SiteName: site.Name, Digests: offers, Local: true, Zones: []string{"UTC"}, PoW: "p"}); err != nil {
			return err
		}
	}
	return h.checkArchive()
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
	mux.HandleFunc("GET /undo", h.undoPage)
	mux.HandleFunc("POST /undo", h.undo)
	mux.HandleFunc("GET /assets/{file}", h.asset)
	if h.opt.Archive != nil {
		h.registerArchive(mux)
	}
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
	Undo        string // the undo link, after an unsubscribe
	// The preferences page.
	Digests     []digestView
	Query       string   // what the reader searched for
	NoMatch     bool     // ... and nothing matched
	MoreMatches bool     // ... and more matched than are shown
	Names       []string // every section's and author's name, for typing
	Timezone    string
	Zones       []string
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

// fail answers err with the page its code maps to (web.ProblemOf), in the
// site's language.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	p := h.problem(err)
	if p.Status == http.StatusInternalServerError {
		h.opt.Log.Error("reader page failed", "err", err)
	}
	h.message(w, p.Status, p.Heading, p.Message)
}

// t is the catalogue's message id.
func (h *Handler) t(id string, data ...any) string { return h.cat.T(id, data...) }

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
		h.message(w, http.StatusBadRequest, h.t("page.wrong"), h.t("page.form_unreadable"))
		return false
	}
	return true
}
