// Package api is herald's JSON API for editors' scripts: POST /api/send-now
// starts an edition, GET /api/editions lists recent ones. Every route wants
// "Authorization: Bearer <http.admin_token>", compared in constant time.
//
// Editions are started through the Editions interface declared here
// (package digest implements it) and listed through EditionStore
// (internal/store); errors map to statuses through package web.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
)

// Editions starts editions: the digest service.
type Editions interface {
	// StartSendNow plans an edition (resuming an unfinished one first) and
	// sends it in the background; ErrLeaseHeld when the digest is busy.
	StartSendNow(ctx context.Context, req digest.SendNowRequest) (int64, <-chan digest.SendNowResult, error)
}

// EditionStore reads editions with their delivery counts.
type EditionStore interface {
	Edition(ctx context.Context, id int64) (model.Edition, error)
	Editions(ctx context.Context, digest string, limit int) ([]model.Edition, error)
}

// Options configure the API.
type Options struct {
	AdminToken string // empty: the API answers 403
	Editions   Editions
	Store      EditionStore
	Log        *slog.Logger
	// Audit, when set, records each edition the API starts (the audit log:
	// actor "api", since the shared token names no editor).
	Audit func(ctx context.Context, action, target, detail, client string)
}

// Handler serves the API.
type Handler struct {
	opt   Options
	admin [32]byte // SHA-256 of the admin token
}

// New returns the API.
func New(opt Options) *Handler {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Handler{opt: opt, admin: sha256.Sum256([]byte(opt.AdminToken))}
}

// Register mounts the API on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/send-now", h.requireAdmin(h.sendNow))
	mux.HandleFunc("GET /api/editions", h.requireAdmin(h.editions))
}

// requireAdmin checks "Authorization: Bearer <admin token>" in constant
// time. A token in the query string is refused outright (it would end up in
// logs and browser history).
func (h *Handler) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		q := r.URL.Query()
		if q.Has("token") || q.Has("admin_token") || q.Has("access_token") {
			web.JSONMessage(w, http.StatusBadRequest, "send the admin token in the Authorization header, never in the URL")
			return
		}
		if h.opt.AdminToken == "" {
			web.JSONMessage(w, http.StatusForbidden, "the admin API is disabled: set http.admin_token (HERALD_HTTP_ADMIN_TOKEN)")
			return
		}
		scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
			web.JSONMessage(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		// Compare digests in constant time: neither the token's length nor
		// a common prefix shows in the timing.
		got := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(got[:], h.admin[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
			web.JSONMessage(w, http.StatusUnauthorized, "invalid token")
			return
		}
		next(w, r)
	}
}
