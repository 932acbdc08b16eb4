package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/subscription"
)

// Digests is the digest service as the pages use it.
type Digests interface {
	DryRun(ctx context.Context, req digest.SendNowRequest) (digest.DryRunReport, error)
	StartSendNow(ctx context.Context, req digest.SendNowRequest) (int64, <-chan digest.SendNowResult, error)
	SendSample(ctx context.Context, req digest.SendNowRequest, to string) (model.SendResult, error)
	Preview(ctx context.Context, digest, email string) (*model.Message, error)
	PreviewNewReader(ctx context.Context, digest, email string, sections, authors []string) (*model.Message, error)
	StartResume(ctx context.Context, editionID int64, wait time.Duration) (<-chan digest.SendNowResult, error)
	Cancel(ctx context.Context, editionID int64) error
}

// Accounts is the editor service: accounts and the audit log.
type Accounts interface {
	Authenticate(ctx context.Context, email, password, client string) (model.Editor, error)
	Editor(ctx context.Context, id int64) (model.Editor, error)
	ChangePassword(ctx context.Context, id int64, current, password string, by editor.Actor) (model.Editor, error)
	SetTimezone(ctx context.Context, id int64, zone string) error
	Add(ctx context.Context, a editor.NewAccount, by editor.Actor) (model.Editor, error)
	Remove(ctx context.Context, email string, by editor.Actor) error
	List(ctx context.Context) ([]model.Editor, error)
	Record(ctx context.Context, by editor.Actor, action, target, detail string)
	Audit(ctx context.Context, since time.Time, before int64, limit int) ([]model.AuditEntry, error)
}

// Lists is the subscription service's bulk side: CSV import and export.
type Lists interface {
	Import(ctx context.Context, r io.Reader) (subscription.ImportReport, error)
	Export(ctx context.Context, out io.Writer) error
}

// EditionStore reads editions and their deliveries.
type EditionStore interface {
	EditionPage(ctx context.Context, before int64, limit int) ([]model.Edition, error)
	EditionSummary(ctx context.Context, id int64) (model.Edition, error)
	LatestEdition(ctx context.Context, digest string) (model.Edition, bool, error)
	UnfinishedEditionIDs(ctx context.Context, digest string) ([]int64, error)
	EditionProgress(ctx context.Context, id int64, total int) (string, map[string]int, int, error)
	DeliveriesWithStatus(ctx context.Context, editionID int64, status string, afterID int64, limit int) ([]model.Delivery, error)
}

// SubscriberStore reads subscribers.
type SubscriberStore interface {
	SearchSubscribers(ctx context.Context, q model.SubscriberQuery) ([]model.Subscriber, error)
	SubscriberByID(ctx context.Context, id int64) (model.Subscriber, error)
	SubscriptionsOf(ctx context.Context, subscriberID int64) ([]model.Subscription, error)
	SubscriberDeliveries(ctx context.Context, subscriberID int64, limit int) ([]model.DeliveryRecord, error)
	Sections(ctx context.Context) ([]model.Section, error)
	Authors(ctx context.Context) ([]model.Author, error)
}

// SessionStore keeps the sessions (store.Sessions).
type SessionStore interface {
	scs.CtxStore
	DeleteExpired(ctx context.Context) (int64, error)
}

// Options configure the editors' pages.
type Options struct {
	Config         *config.Config // required, validated
	Pages          *web.Pages     // the admin set (web.LoadAdminPages)
	Digests        Digests
	Accounts       Accounts
	Lists          Lists
	Editions       EditionStore
	Subscribers    SubscriberStore
	Sessions       SessionStore
	TrustedProxies []netip.Prefix
	Log            *slog.Logger
	Now            func() time.Time
}

// Handler serves /admin/.
type Handler struct {
	opt       Options
	cfg       *config.Config
	log       *slog.Logger
	now       func() time.Time
	sm        *scs.SessionManager
	secure    bool
	perAddr   *web.HourlyLimiter
	perAcct   *web.KeyedLimiter
	samples   *sampleCache
	crossSite *http.CrossOriginProtection
	tick      time.Duration // the progress stream's reading interval
	stopping  chan struct{} // closed by StopStreams
	stopOnce  sync.Once
}

// StopStreams ends every open progress stream: a graceful shutdown calls
// it (http.Server.RegisterOnShutdown), since it waits for them otherwise.
func (h *Handler) StopStreams() { h.stopOnce.Do(func() { close(h.stopping) }) }

// New returns the editors' pages.
func New(opt Options) *Handler {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	cfg := opt.Config
	h := &Handler{opt: opt, cfg: cfg, log: opt.Log, now: opt.Now,
		secure:    strings.HasPrefix(strings.ToLower(cfg.HTTP.BaseURL), "https://"),
		perAddr:   web.NewHourlyLimiter(cfg.Admin.LoginPerAddress, opt.Now),
		perAcct:   web.NewKeyedLimiter(cfg.Admin.LoginPerHour, opt.Now),
		samples:   newSampleCache(64, 30*time.Minute, opt.Now),
		crossSite: http.NewCrossOriginProtection(),
		tick:      cfg.Admin.ProgressInterval.D(),
		stopping:  make(chan struct{}),
	}
	sm := scs.New()
	sm.Store = opt.Sessions
	sm.HashTokenInStore = true
	sm.IdleTimeout = cfg.Admin.SessionIdle.D()
	sm.Lifetime = cfg.Admin.SessionLifetime.D()
	sm.Cookie = scs.SessionCookie{Name: "herald_admin", Path: "/admin/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.secure, Persist: false}
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		h.log.Error("admin session failed", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
	h.sm = sm
	return h
}

// Register mounts the pages on mux, every one behind the cross-origin
// check and the session middleware.
func (h *Handler) Register(mux *http.ServeMux) {
	signedIn := func(fn pageFunc) http.Handler { return h.page(false, fn) }
	admin := func(fn pageFunc) http.Handler { return h.page(true, fn) }
	routes := map[string]http.Handler{
		"GET /admin/login":                   http.HandlerFunc(h.loginForm),
		"POST /admin/login":                  http.HandlerFunc(h.login),
		"POST /admin/logout":                 signedIn(h.logout),
		"GET /admin/{$}":                     signedIn(h.dashboard),
		"GET /admin/send":                    signedIn(h.sendForm),
		"POST /admin/send/check":             signedIn(h.sendCheck),
		"POST /admin/send/test":              signedIn(h.sendSample),
		"POST /admin/send":                   signedIn(h.sendNow),
		"GET /admin/preview":                 signedIn(h.preview),
		"GET /admin/preview/frame":           signedIn(h.previewFrame),
		"GET /admin/editions":                signedIn(h.editions),
		"GET /admin/editions/{id}":           signedIn(h.edition),
		"GET /admin/editions/{id}/events":    signedIn(h.editionEvents),
		"GET /admin/editions/{id}/{action}":  signedIn(h.editionConfirm),
		"POST /admin/editions/{id}/{action}": signedIn(h.editionAction),
		"GET /admin/subscribers":             admin(h.subscribers),
		"GET /admin/subscribers/{id}":        admin(h.subscriber),
		"GET /admin/subscribers/import":      admin(h.importForm),
		"POST /admin/subscribers/import":     admin(h.importCSV),
		"GET /admin/subscribers/export":      admin(h.exportCSV),
		"GET /admin/audit":                   signedIn(h.audit),
		"GET /admin/account":                 signedIn(h.account),
		"POST /admin/account":                signedIn(h.changePassword),
		"POST /admin/account/timezone":       signedIn(h.setTimezone),
		"GET /admin/editors":                 admin(h.editors),
		"POST /admin/editors":                admin(h.addEditor),
		"POST /admin/editors/remove":         admin(h.removeEditor),
	}
	for pattern, handler := range routes {
		mux.Handle(pattern, h.crossSite.Handler(h.sm.LoadAndSave(handler)))
	}
	mux.Handle("GET /admin/static/{file}", http.HandlerFunc(h.static))
	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
}

// Run removes expired sessions every hour until ctx ends.
func (h *Handler) Run(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := h.opt.Sessions.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("removing expired editor sessions", "err", err)
		} else if n > 0 {
			h.log.Debug("expired editor sessions removed", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// client is the request's client address as text.
func (h *Handler) client(r *http.Request) string {
	return web.ClientIP(r, h.opt.TrustedProxies).String()
}

// zone is where an editor reads times: their timezone, else UTC.
func zone(ed model.Editor) *time.Location {
	if ed.Timezone != "" {
		if loc, err := time.LoadLocation(ed.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// when formats t for an editor; "-" for the zero time.
func when(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}
