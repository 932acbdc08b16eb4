package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/scheduler"
	"github.com/heraldnews/herald/internal/server"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/templates"
)

var (
	_ feeds.Source        = (*store.Store)(nil)
	_ feeds.ChangePruner  = (*store.Store)(nil)
	_ digest.Store        = (*store.Store)(nil)
	_ scheduler.SlotStore = (*store.Store)(nil)
	_ digest.Sender       = (*mailer.Mailer)(nil)
)

func (m *Main) serveCommand() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: HTTP server (feeds, subscribe pages, API, metrics) and the digest scheduler",
		Long: `Run the daemon until SIGTERM or SIGINT: the HTTP server (feeds, subscribe,
confirm, unsubscribe and preferences pages, the admin API, /healthz, /metrics)
and the scheduler (digest editions at their slots, retries, live feed refresh).
On a signal it stops accepting, finishes in-flight requests, lets the sender
finish the message it is on, leaves the rest pending for the next start, and
closes the database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			if listen != "" {
				m.Config.HTTP.Listen = listen
			}
			d, err := m.newDaemon(cmd.Context())
			if err != nil {
				return err
			}
			return d.run(cmd.Context(), m.OnListen)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default http.listen)")
	return cmd
}

// daemon is herald serve's parts, wired.
type daemon struct {
	m       *Main
	log     *slog.Logger
	svc     *digest.Service
	sender  digest.Sender
	builder *feeds.Builder
	feeds   *feeds.Handler
	writer  *feeds.Writer
	refresh *feeds.Refresher
	sched   *scheduler.Scheduler
	srv     *server.Server
	metrics *server.Metrics
	ln      net.Listener // when set, serve on it instead of http.listen

	// bg is the workers' context while run runs; editions started from the
	// API run under it and are waited for through wg.
	bgMu sync.Mutex
	bg   context.Context
	wg   sync.WaitGroup
}

// newDaemon builds every part from the config; nothing runs yet.
func (m *Main) newDaemon(ctx context.Context) (*daemon, error) {
	cfg := m.Config
	d := &daemon{m: m, log: m.Log, metrics: server.NewMetrics()}
	sender, err := m.newSender(mailer.WithMetrics(mailer.Metrics{
		Result: func(res model.SendResult, _ time.Duration) {
			switch {
			case res.Ambiguous:
				d.metrics.SMTPErrors.WithLabelValues("ambiguous").Inc()
			case res.Outcome == model.Temporary:
				d.metrics.SMTPErrors.WithLabelValues("temporary").Inc()
			case res.Outcome == model.Permanent:
				d.metrics.SMTPErrors.WithLabelValues("permanent").Inc()
			}
		},
	}))
	if err != nil {
		return nil, err
	}
	d.sender = sender
	d.svc, err = digest.New(digest.Options{Config: cfg, Store: m.Store, Sender: sender, Log: m.Log, Now: m.Now})
	if err != nil {
		return nil, err
	}
	d.builder = feeds.NewBuilder(m.Store, m.feedOptions()) // with m.Now and m.Log
	d.feeds, err = feeds.NewHandler(ctx, d.builder, m.Store, feeds.HandlerOptions{
		CacheControl: cfg.Feeds.CacheControl,
		CacheBytes:   cfg.Feeds.CacheBytes,
		OnServe:      d.metrics.FeedServed,
		OnBuild: func(_ feeds.FeedID, took time.Duration, err error) {
			if err == nil {
				d.metrics.FeedBuildSeconds.Observe(took.Seconds())
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if cfg.Feeds.OutputDir != "" {
		if d.writer, err = feeds.NewWriter(d.builder, cfg.Feeds.OutputDir); err != nil {
			return nil, err
		}
	}
	// One refresher keeps the cache and the static files current and pings
	// the WebSub hubs; it tracks changes from now, before run's WriteAll.
	d.refresh, err = feeds.NewRefresher(ctx, d.builder, feeds.RefresherOptions{
		Handler:  d.feeds,
		Writer:   d.writer,
		Interval: cfg.Feeds.RefreshInterval.D(),
		Pruner:   m.Store,
		OnRefresh: func(res feeds.RefreshResult, _ time.Duration, err error) {
			if err == nil && res.Rebuilt > 0 {
				d.metrics.FeedsRebuilt.Inc()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	d.sched, err = scheduler.New(m.Store, cfg.Digests, d.runSlot, scheduler.WithLogger(m.Log))
	if err != nil {
		return nil, err
	}
	pages, err := loadPageTemplates(cfg.TemplatesDir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(cfg.Digests))
	for _, dg := range cfg.Digests {
		names = append(names, dg.Name)
	}
	d.srv = server.New(server.Options{
		Listen:           cfg.HTTP.Listen,
		SiteName:         cfg.Site.Name,
		AdminToken:       cfg.HTTP.AdminToken,
		TrustedProxies:   server.ParsePrefixes(cfg.HTTP.TrustedProxies),
		SubscribePerHour: cfg.HTTP.SubscribePerHour,
		Digests:          names,
		ReadTimeout:      cfg.HTTP.ReadTimeout.D(),
		WriteTimeout:     cfg.HTTP.WriteTimeout.D(),
		Feeds:            d.feeds,
		Pages:            digest.NewWeb(d.svc),
		Subscriber:       subscribeAdapter{d.svc},
		Editor:           &editorAdapter{d: d},
		Templates:        pages,
		Metrics:          d.metrics,
		Log:              m.Log,
		DebugFeedHits:    cfg.Log.Level == "debug",
		Now:              m.Now,
		// The reader pool: the single writer connection may be waiting on
		// the CMS's write lock, which is no reason to call herald dead.
		Ready: func(ctx context.Context) error { return m.Store.R.PingContext(ctx) },
	})
	return d, nil
}

// newSender returns the configured transport: SMTP or .eml files.
func (m *Main) newSender(opts ...mailer.Option) (digest.Sender, error) {
	opts = append([]mailer.Option{mailer.WithLogger(m.Log)}, opts...)
	return mailer.New(m.Config.SMTP, opts...)
}

// loadPageTemplates parses the subscribe pages, preferring templates_dir.
func loadPageTemplates(dir string) (*template.Template, error) {
	const name = "subscribe.html.tmpl"
	var fsys fs.FS = templates.FS
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			fsys = os.DirFS(dir)
		}
	}
	t, err := template.ParseFS(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", name, err)
	}
	return t, nil
}

// run serves until ctx is done. ready, when set, is told the bound address.
func (d *daemon) run(ctx context.Context, ready func(net.Addr)) error {
	cfg := d.m.Config
	if d.writer != nil {
		sum, err := d.writer.WriteAll(ctx)
		if err != nil {
			return fmt.Errorf("feeds.output_dir: %w", err)
		}
		d.log.Info("static feeds written", "dir", cfg.Feeds.OutputDir, "written", sum.Written, "unchanged", sum.Unchanged, "removed", sum.Removed)
	}
	// Workers stop when the server has stopped, so an in-flight request
	// never finds the sender or the database closed.
	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	d.bgMu.Lock()
	d.bg = wctx
	d.bgMu.Unlock()
	wg := &d.wg
	wg.Go(func() {
		if err := d.sched.Run(wctx); err != nil {
			d.log.Error("scheduler stopped", "err", err)
		}
	})
	wg.Go(func() { d.refresh.Run(wctx) })
	wg.Go(func() { d.retryLoop(wctx) })

	announce := func(a net.Addr) {
		d.log.Info("herald serving", "url", "http://"+a.String()+"/", "feeds", "http://"+a.String()+"/feeds/all.rss",
			"digests", len(cfg.Digests), "transport", cfg.SMTP.Transport)
		if ready != nil {
			ready(a)
		}
	}
	var err error
	if d.ln != nil {
		err = d.srv.Serve(ctx, d.ln, cfg.HTTP.ShutdownTimeout.D(), announce)
	} else {
		err = d.srv.ListenAndServe(ctx, cfg.HTTP.ShutdownTimeout.D(), announce)
	}
	d.log.Info("shutting down: waiting for the sender to finish the message it is on")
	stopWorkers()
	wg.Wait()
	d.svc.Wait() // confirmation emails on their way
	if cerr := d.sender.Close(); cerr != nil {
		d.log.Warn("closing the mailer", "err", cerr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	d.log.Info("stopped")
	return err
}

// runSlot is the scheduler's job: one scheduled edition.
func (d *daemon) runSlot(ctx context.Context, s scheduler.Slot) error {
	start := time.Now()
	// While another edition of the digest holds its lease (a send-now
	// retrying with --wait), the slot waits for it, until the slot would no
	// longer be caught up at a restart either: a busy lease never drops it.
	wait := 10 * time.Minute
	if dg, ok := d.m.Config.Digest(s.Digest); ok {
		wait = max(wait, time.Until(s.At.Add(dg.CatchUp.D())))
	}
	res, err := d.svc.RunSlot(ctx, s.Digest, s.Key, s.At, s.Previous, wait)
	d.metrics.EditionSeconds.Observe(time.Since(start).Seconds())
	d.countDeliveries(res)
	if err != nil {
		return err
	}
	d.log.Info("scheduled edition finished", "digest", s.Digest, "slot", s.Key, "edition", res.EditionID,
		"sent", res.Sent, "skipped", res.Skipped, "failed", res.Failed, "left_for_retry", res.Left)
	return nil
}

func (d *daemon) countDeliveries(res digest.SendNowResult) {
	d.metrics.Deliveries.WithLabelValues("sent").Add(float64(res.Sent))
	d.metrics.Deliveries.WithLabelValues("failed").Add(float64(res.Failed))
	d.metrics.Deliveries.WithLabelValues("skipped").Add(float64(res.Skipped))
}

// retryLoop finishes unfinished editions (deliveries waiting for a retry,
// or left by a crash) whose digest nobody else is working on.
func (d *daemon) retryLoop(ctx context.Context) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		eds, err := d.svc.Editions(ctx, "", 50)
		if err != nil && ctx.Err() == nil {
			d.log.Warn("listing editions for retry", "err", err)
		}
		for _, e := range eds {
			if ctx.Err() != nil {
				return
			}
			if e.Status != model.EditionPlanning && e.Status != model.EditionSending {
				continue
			}
			res, err := d.svc.Resume(ctx, e.ID, 0, nil)
			if errors.Is(err, digest.ErrLeaseHeld) {
				continue
			}
			if err != nil && ctx.Err() == nil {
				d.log.Warn("resuming edition", "edition", e.ID, "err", err)
				continue
			}
			d.countDeliveries(res)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// subscribeAdapter turns POST /subscribe into digest.Subscribe.
type subscribeAdapter struct{ svc *digest.Service }

func (a subscribeAdapter) Subscribe(ctx context.Context, r server.SubscribeRequest) error {
	_, _, err := a.svc.Subscribe(ctx, digest.SubscribeRequest{
		Email: r.Email, Name: r.Name, Digest: r.Digest, Sections: r.Sections, Authors: r.Authors, Async: true,
	})
	if errors.Is(err, digest.ErrInvalidEmail) {
		return fmt.Errorf("%w: That does not look like an email address.", server.ErrInvalid)
	}
	if errors.Is(err, digest.ErrUnknownDigest) || errors.Is(err, digest.ErrUnknownSlug) {
		return fmt.Errorf("%w: %s", server.ErrInvalid, strings.TrimPrefix(err.Error(), "digest: "))
	}
	return err
}

// editorAdapter turns POST /api/send-now into digest.StartSendNow.
type editorAdapter struct{ d *daemon }

func (a *editorAdapter) SendNow(ctx context.Context, r server.SendNowRequest) (server.SendNowResult, error) {
	req := digest.SendNowRequest{Digest: r.Digest, Sections: r.Sections, Authors: r.Authors, Wait: 10 * time.Minute}
	if r.Since != "" {
		dur, err := time.ParseDuration(r.Since)
		if err != nil || dur <= 0 {
			return server.SendNowResult{}, fmt.Errorf("%w: since must be a positive duration such as 6h", server.ErrInvalid)
		}
		req.Since = dur
	}
	if r.DryRun {
		return server.SendNowResult{}, fmt.Errorf("%w: dry_run is available from the CLI (herald send-now --dry-run)", server.ErrInvalid)
	}
	d := a.d
	start := time.Now()
	d.bgMu.Lock()
	bg := d.bg
	d.bgMu.Unlock()
	if bg == nil || bg.Err() != nil {
		return server.SendNowResult{}, errors.New("herald is stopping")
	}
	// The edition outlives the request: it runs under the daemon's
	// lifetime, and a graceful stop waits for it to put its worker down.
	id, done, err := d.svc.StartSendNow(bg, req)
	switch {
	case errors.Is(err, digest.ErrLeaseHeld):
		return server.SendNowResult{}, server.ErrBusy
	case errors.Is(err, digest.ErrUnknownDigest), errors.Is(err, digest.ErrUnknownSlug):
		return server.SendNowResult{}, fmt.Errorf("%w: %s", server.ErrInvalid, strings.TrimPrefix(err.Error(), "digest: "))
	case err != nil:
		return server.SendNowResult{}, err
	}
	d.wg.Go(func() {
		res := <-done
		d.metrics.EditionSeconds.Observe(time.Since(start).Seconds())
		d.countDeliveries(res)
		d.log.Info("send-now finished", "edition", res.EditionID, "resumed", res.ResumedID, "sent", res.Sent,
			"skipped", res.Skipped, "failed", res.Failed, "left_for_retry", res.Left)
	})
	out := server.SendNowResult{EditionID: id, Status: model.EditionSending, Digest: req.Digest}
	if e, err := d.m.Store.Edition(ctx, id); err == nil {
		out.Digest, out.Status, out.Counts = e.Digest, e.Status, e.Counts
	}
	return out, nil
}

func (a *editorAdapter) RecentEditions(ctx context.Context, limit int) ([]model.Edition, error) {
	return a.d.svc.Editions(ctx, "", limit)
}
