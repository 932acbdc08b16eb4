package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heraldnews/herald/internal/model"
)

// SubscribeRequest is a POST /subscribe form.
type SubscribeRequest struct {
	Email    string
	Name     string
	Digest   string
	Sections []string
	Authors  []string
}

// ErrInvalid wraps a problem with a request's content; the message is shown
// to the client.
var ErrInvalid = errors.New("invalid request")

// ErrBusy means an edition of that digest is already being worked on.
var ErrBusy = errors.New("an edition of this digest is in progress")

// Subscriber creates pending subscribers and sends confirmation mail.
type Subscriber interface {
	// Subscribe creates (or refreshes) a pending subscription and mails a
	// confirmation link. It must behave the same whether or not the address
	// already exists. Content problems wrap ErrInvalid.
	Subscribe(ctx context.Context, req SubscribeRequest) error
}

// SendNowRequest is the JSON body of POST /api/send-now (the CLI's flags).
type SendNowRequest struct {
	Digest   string   `json:"digest"`
	Sections []string `json:"sections"`
	Authors  []string `json:"authors"`
	Since    string   `json:"since"` // a duration such as "6h"; empty: the digest's lookback
	DryRun   bool     `json:"dry_run"`
	// Section and Author are the CLI's flag names (--section, --author),
	// accepted too and merged into Sections and Authors.
	Section []string `json:"section"`
	Author  []string `json:"author"`
}

// SendNowResult answers POST /api/send-now.
type SendNowResult struct {
	EditionID int64          `json:"edition_id"`
	Digest    string         `json:"digest"`
	Status    string         `json:"status"`
	Counts    map[string]int `json:"counts"`
	Resumed   bool           `json:"resumed,omitempty"`
}

// Editor starts editions and lists them.
type Editor interface {
	// SendNow plans an edition (resuming an unfinished one first) and
	// starts sending it in the background. ErrBusy when the digest's
	// lease is held; ErrInvalid for bad input.
	SendNow(ctx context.Context, req SendNowRequest) (SendNowResult, error)
	RecentEditions(ctx context.Context, limit int) ([]model.Edition, error)
}

// PageRegistrar mounts the confirm/unsubscribe/preferences pages.
type PageRegistrar interface {
	Register(mux *http.ServeMux)
}

// Options configure the server.
type Options struct {
	Listen           string
	SiteName         string
	AdminToken       string
	TrustedProxies   []netip.Prefix
	SubscribePerHour int
	Digests          []string // names, for the subscribe form
	ReadTimeout      time.Duration
	WriteTimeout     time.Duration
	Feeds            http.Handler  // serves /feeds/...
	Pages            PageRegistrar // /confirm, /unsubscribe, /preferences
	Subscriber       Subscriber
	Editor           Editor
	Templates        *template.Template // "subscribe.html" and "subscribed.html"
	Metrics          *Metrics
	Log              *slog.Logger
	DebugFeedHits    bool // log every feed request (log.level debug)
	Now              func() time.Time
	Ready            func(ctx context.Context) error // /healthz check (e.g. a database ping)
}

// Server is herald's HTTP server.
type Server struct {
	opt     Options
	mux     *http.ServeMux
	limiter *hourlyLimiter
	http    *http.Server
	admin   [32]byte
}

// MaxFormBytes bounds a subscribe or API request body.
const MaxFormBytes = 16 << 10

// New builds the routes.
func New(opt Options) *Server {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Metrics == nil {
		opt.Metrics = NewMetrics()
	}
	s := &Server{opt: opt, mux: http.NewServeMux(), limiter: newHourlyLimiter(opt.SubscribePerHour, opt.Now)}
	s.admin = sha256.Sum256([]byte(opt.AdminToken))
	m := s.mux
	if opt.Feeds != nil {
		// Normally reached only with DebugFeedHits (see Handler); the feed
		// handler answers other methods with 405 itself.
		m.Handle("/feeds/", opt.Feeds)
	}
	if opt.Pages != nil {
		opt.Pages.Register(m)
	}
	m.HandleFunc("GET /subscribe", s.subscribeForm)
	m.HandleFunc("POST /subscribe", s.subscribe)
	m.HandleFunc("POST /api/send-now", s.requireAdmin(s.sendNow))
	m.HandleFunc("GET /api/editions", s.requireAdmin(s.editions))
	m.HandleFunc("GET /healthz", s.healthz)
	m.Handle("GET /metrics", promhttp.HandlerFor(opt.Metrics.Registry, promhttp.HandlerOpts{}))
	m.HandleFunc("GET /{$}", s.index)
	return s
}

// Handler is the whole route table with request logging. Feed requests,
// the hot path, go straight to the feed handler (which counts them through
// Metrics.FeedServed) without the router or the logging wrapper, unless
// DebugFeedHits asks for them to be logged.
func (s *Server) Handler() http.Handler {
	rest := s.logRequests(s.mux)
	if s.opt.Feeds == nil || s.opt.DebugFeedHits {
		return rest
	}
	feeds := s.opt.Feeds
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/feeds/") {
			feeds.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// ListenAndServe serves on opt.Listen until ctx is done, then shuts down
// gracefully within grace. ready (may be nil) is called with the bound
// address once listening.
func (s *Server) ListenAndServe(ctx context.Context, grace time.Duration, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.opt.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another program using that port? choose another with http.listen or --listen)", s.opt.Listen, err)
	}
	return s.Serve(ctx, ln, grace, ready)
}

// Serve is ListenAndServe on an existing listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration, ready func(addr net.Addr)) error {
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       max(s.opt.ReadTimeout, time.Second),
		WriteTimeout:      max(s.opt.WriteTimeout, time.Second),
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.opt.Log.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.http.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs every non-feed request; feed hits only with DebugFeedHits.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isFeed := strings.HasPrefix(r.URL.Path, "/feeds/")
		if isFeed && !s.opt.DebugFeedHits {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		lvl := slog.LevelInfo
		if isFeed {
			lvl = slog.LevelDebug
		}
		s.opt.Log.Log(r.Context(), lvl, "http request", "method", r.Method, "path", r.URL.Path,
			"status", sw.code, "duration", time.Since(start), "client", clientIP(r, s.opt.TrustedProxies).String())
		if !isFeed {
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.opt.Metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		}
	})
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/subscribe", http.StatusSeeOther)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.opt.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.opt.Ready(ctx); err != nil {
			s.opt.Log.Warn("health check failed", "err", err)
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok\n")
}

// requireAdmin checks "Authorization: Bearer <admin token>" in constant
// time. A token in the query string is refused outright (it would end up in
// logs and browser history).
func (s *Server) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		q := r.URL.Query()
		if q.Has("token") || q.Has("admin_token") || q.Has("access_token") {
			jsonError(w, http.StatusBadRequest, "send the admin token in the Authorization header, never in the URL")
			return
		}
		if s.opt.AdminToken == "" {
			jsonError(w, http.StatusForbidden, "the admin API is disabled: set http.admin_token (HERALD_HTTP_ADMIN_TOKEN)")
			return
		}
		scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
			jsonError(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		// Compare digests in constant time: neither the token's length nor
		// a common prefix shows in the timing.
		got := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(got[:], s.admin[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
			jsonError(w, http.StatusUnauthorized, "invalid token")
			return
		}
		next(w, r)
	}
}

func (s *Server) sendNow(w http.ResponseWriter, r *http.Request) {
	if s.opt.Editor == nil {
		jsonError(w, http.StatusNotImplemented, "no editor configured")
		return
	}
	var req SendNowRequest
	if r.ContentLength != 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			jsonError(w, http.StatusUnsupportedMediaType, "send a JSON body (Content-Type: application/json)")
			return
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxFormBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			jsonError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
			return
		}
	}
	req.Sections, req.Authors = append(req.Sections, req.Section...), append(req.Authors, req.Author...)
	req.Section, req.Author = nil, nil
	res, err := s.opt.Editor.SendNow(r.Context(), req)
	switch {
	case errors.Is(err, ErrBusy):
		jsonError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrInvalid):
		jsonError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		s.opt.Log.Error("send-now failed", "err", err)
		jsonError(w, http.StatusInternalServerError, "send-now failed; see the server log")
	default:
		writeJSON(w, http.StatusAccepted, res)
	}
}

func (s *Server) editions(w http.ResponseWriter, r *http.Request) {
	if s.opt.Editor == nil {
		jsonError(w, http.StatusNotImplemented, "no editor configured")
		return
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			jsonError(w, http.StatusBadRequest, "limit must be between 1 and 1000")
			return
		}
		limit = n
	}
	eds, err := s.opt.Editor.RecentEditions(r.Context(), limit)
	if err != nil {
		s.opt.Log.Error("list editions failed", "err", err)
		jsonError(w, http.StatusInternalServerError, "could not list editions")
		return
	}
	type edition struct {
		ID         int64          `json:"id"`
		Digest     string         `json:"digest"`
		Kind       string         `json:"kind"`
		Slot       string         `json:"slot,omitempty"`
		Status     string         `json:"status"`
		Cutoff     time.Time      `json:"cutoff"`
		Since      time.Time      `json:"since"`
		CreatedAt  time.Time      `json:"created_at"`
		FinishedAt *time.Time     `json:"finished_at,omitempty"`
		Counts     map[string]int `json:"counts"`
	}
	out := make([]edition, 0, len(eds))
	for _, e := range eds {
		ed := edition{ID: e.ID, Digest: e.Digest, Kind: e.Kind, Slot: e.Slot, Status: e.Status,
			Cutoff: e.Cutoff.UTC(), Since: e.Since.UTC(), CreatedAt: e.CreatedAt.UTC(), Counts: e.Counts}
		if !e.FinishedAt.IsZero() {
			f := e.FinishedAt.UTC()
			ed.FinishedAt = &f
		}
		if ed.Counts == nil {
			ed.Counts = map[string]int{}
		}
		out = append(out, ed)
	}
	writeJSON(w, http.StatusOK, map[string]any{"editions": out})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// validEmail is the subscribe form's check (the digest side checks again).
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, "\r\n\x00") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	_, domain, ok := strings.Cut(a.Address, "@")
	return ok && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}
