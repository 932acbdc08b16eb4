package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heraldnews/herald/internal/server/web"
)

// Registrar mounts a group of routes (the reader pages, the API) on the mux.
type Registrar interface {
	Register(mux web.Mux)
}

// recordingMux is the server's ServeMux, noting every pattern mounted on
// it: Routes lists them, so tests reach every route the server has,
// including groups added later.
type recordingMux struct {
	*http.ServeMux
	patterns []string
}

func (m *recordingMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *recordingMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

// Options configure the server.
type Options struct {
	Listen         string
	TrustedProxies []netip.Prefix // for the client address in the request log
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	// ReadHeaderTimeout bounds reading a request's header (0: 5 s).
	ReadHeaderTimeout time.Duration
	Feeds             http.Handler // serves /feeds/...
	// Routes are the other route groups: the reader pages, the API.
	Routes        []Registrar
	Metrics       *Metrics
	Log           *slog.Logger
	DebugFeedHits bool                            // log every feed request (log.level debug)
	Ready         func(ctx context.Context) error // /healthz check (e.g. a database ping)
	// OnShutdown are called when a graceful stop begins: long-lived
	// responses (the admin's progress streams) end then, rather than hold
	// the stop for its whole grace period.
	OnShutdown []func()
}

// Server is herald's HTTP server.
type Server struct {
	opt  Options
	mux  *recordingMux
	http *http.Server
}

// New builds the routes.
func New(opt Options) *Server {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Metrics == nil {
		opt.Metrics = NewMetrics()
	}
	s := &Server{opt: opt, mux: &recordingMux{ServeMux: http.NewServeMux()}}
	m := s.mux
	if opt.Feeds != nil {
		// Normally reached only with DebugFeedHits (see Handler); the feed
		// handler answers other methods with 405 itself.
		m.Handle("/feeds/", opt.Feeds)
	}
	for _, r := range opt.Routes {
		r.Register(m)
	}
	m.HandleFunc("GET /healthz", s.healthz)
	m.Handle("GET /metrics", promhttp.HandlerFor(opt.Metrics.Registry, promhttp.HandlerOpts{}))
	m.HandleFunc("GET /{$}", s.index)
	return s
}

// Routes returns every pattern mounted, in the order mounted (ServeMux
// syntax: "[METHOD ]/path"; a pattern without a method takes them all).
func (s *Server) Routes() []string { return append([]string(nil), s.mux.patterns...) }

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
		ReadHeaderTimeout: cmp.Or(max(s.opt.ReadHeaderTimeout, 0), 5*time.Second),
		ReadTimeout:       max(s.opt.ReadTimeout, time.Second),
		WriteTimeout:      max(s.opt.WriteTimeout, time.Second),
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.opt.Log.Handler(), slog.LevelWarn),
	}
	for _, f := range s.opt.OnShutdown {
		s.http.RegisterOnShutdown(f)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	// Every deadline net/http sets is enforced by one sweeper (deadline.go),
	// not a runtime timer per connection and request.
	go func() { errc <- s.http.Serve(newCoarseListener(ln, deadlineTick)) }()
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
			"status", sw.code, "duration", time.Since(start), "client", web.ClientIP(r, s.opt.TrustedProxies).String())
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
