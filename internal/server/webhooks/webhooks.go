// Package webhooks serves the bounce and complaint webhooks of the relays
// that accept mail with 250 and report failures later: POST
// /webhooks/ses (Amazon SES through SNS), /webhooks/postmark,
// /webhooks/mailgun and /webhooks/sendgrid. Each request's signature or
// credentials are checked first with the provider's own scheme (package
// bounce/provider): wrong or missing, or the provider not configured, is
// 401 and nothing changes; a signed request that cannot be read is 400.
// The verified reports go to the lifecycle service (package lifecycle),
// which matches and records them; a failure to record is 503, so the
// provider delivers again.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldnews/herald/bounce"
	"github.com/heraldnews/herald/bounce/provider"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/lifecycle"
)

// Reports takes verified provider reports (lifecycle.Service).
type Reports interface {
	HandleEvents(ctx context.Context, source string, reports []bounce.Report) (lifecycle.Outcome, error)
}

// Options configure the webhooks.
type Options struct {
	Config  *config.Config // bounces.webhooks.*
	Reports Reports
	// Client fetches SNS signing certificates and confirms subscriptions
	// (nil: a client with a 10-second timeout and the system roots).
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time
}

// Handler serves the webhooks.
type Handler struct {
	opt      Options
	sns      *provider.SNS      // nil: not configured
	postmark *provider.Postmark // nil: not configured
	mailgun  *provider.Mailgun
	sendgrid *provider.SendGrid
}

// New returns the webhooks of the configured providers; the others answer
// 401 to everything. A SendGrid key that cannot be read is an error.
func New(opt Options) (*Handler, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	w := opt.Config.Bounces.Webhooks
	h := &Handler{opt: opt}
	if len(w.SES.TopicARNs) > 0 {
		h.sns = provider.NewSNS(w.SES.TopicARNs, opt.Client)
	}
	if w.Postmark.Username != "" {
		h.postmark = provider.NewPostmark(w.Postmark.Username, w.Postmark.Password)
	}
	if w.Mailgun.SigningKey != "" {
		h.mailgun = provider.NewMailgun(w.Mailgun.SigningKey, provider.MailgunOptions{Now: opt.Now})
	}
	if w.SendGrid.PublicKey != "" {
		var err error
		if h.sendgrid, err = provider.NewSendGrid(w.SendGrid.PublicKey); err != nil {
			return nil, fmt.Errorf("config: bounces.webhooks.sendgrid.public_key: %w", err)
		}
	}
	return h, nil
}

// Register mounts the webhooks on mux.
func (h *Handler) Register(mux web.Mux) {
	mux.HandleFunc("POST /webhooks/ses", h.ses)
	mux.HandleFunc("POST /webhooks/postmark", h.events("postmark", func(r *http.Request) ([]provider.Event, error) {
		if h.postmark == nil {
			return nil, provider.ErrSignature
		}
		return h.postmark.Parse(r)
	}))
	mux.HandleFunc("POST /webhooks/mailgun", h.events("mailgun", func(r *http.Request) ([]provider.Event, error) {
		if h.mailgun == nil {
			return nil, provider.ErrSignature
		}
		return h.mailgun.Parse(r)
	}))
	mux.HandleFunc("POST /webhooks/sendgrid", h.events("sendgrid", func(r *http.Request) ([]provider.Event, error) {
		if h.sendgrid == nil {
			return nil, provider.ErrSignature
		}
		return h.sendgrid.Parse(r)
	}))
}

// events serves one provider whose Parse verifies and reads a request.
func (h *Handler) events(name string, parse func(*http.Request) ([]provider.Event, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		evs, err := parse(r)
		if err != nil {
			h.refuse(w, name, err)
			return
		}
		h.handle(w, r, name, evs)
	}
}

// ses serves Amazon SES's notifications through SNS, confirming the SNS
// subscription when asked.
func (h *Handler) ses(w http.ResponseWriter, r *http.Request) {
	if h.sns == nil {
		h.refuse(w, "ses", provider.ErrSignature)
		return
	}
	res, err := h.sns.Parse(r.Context(), r)
	if err != nil {
		h.refuse(w, "ses", err)
		return
	}
	switch res.Type {
	case "SubscriptionConfirmation":
		if err := h.sns.Confirm(r.Context(), res.SubscribeURL); err != nil {
			h.opt.Log.Warn("SNS subscription not confirmed", "topic", res.TopicARN, "err", err)
			web.JSONMessage(w, http.StatusBadGateway, "could not confirm the subscription")
			return
		}
		h.opt.Log.Info("SNS subscription confirmed", "topic", res.TopicARN)
		web.JSON(w, http.StatusOK, map[string]string{"status": "confirmed"})
	case "Notification":
		h.handle(w, r, "ses", res.Events)
	default:
		web.JSON(w, http.StatusOK, map[string]string{"status": "ignored"})
	}
}

// handle records verified events.
func (h *Handler) handle(w http.ResponseWriter, r *http.Request, name string, evs []provider.Event) {
	reports := make([]bounce.Report, len(evs))
	for i, e := range evs {
		reports[i] = e.Report
	}
	out, err := h.opt.Reports.HandleEvents(r.Context(), "webhook:"+name, reports)
	if err != nil {
		h.opt.Log.Error("webhook events not recorded", "provider", name, "err", err)
		web.JSONMessage(w, http.StatusServiceUnavailable, "not recorded; deliver again later")
		return
	}
	web.JSON(w, http.StatusOK, map[string]int{"recorded": out.Recorded, "ignored": len(out.Ignored)})
}

// refuse answers a request that failed verification (401), could not be
// read (400), or could not be verified now (503).
func (h *Handler) refuse(w http.ResponseWriter, name string, err error) {
	switch {
	case errors.Is(err, provider.ErrPayload):
		h.opt.Log.Warn("webhook payload unreadable", "provider", name, "err", err)
		web.JSONMessage(w, http.StatusBadRequest, "unreadable payload")
		return
	case !errors.Is(err, provider.ErrSignature):
		h.opt.Log.Error("webhook not verified", "provider", name, "err", err)
		web.JSONMessage(w, http.StatusServiceUnavailable, "could not verify now; deliver again later")
		return
	}
	h.opt.Log.Warn("webhook refused: bad or missing signature", "provider", name, "err", err)
	w.Header().Set("WWW-Authenticate", `Basic realm="herald webhooks"`)
	web.JSONMessage(w, http.StatusUnauthorized, "bad or missing signature")
}
