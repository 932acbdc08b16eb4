package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/archive"
	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/gcfloor"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/scheduler"
	"github.com/heraldnews/herald/internal/server"
	"github.com/heraldnews/herald/internal/server/admin"
	"github.com/heraldnews/herald/internal/server/api"
	"github.com/heraldnews/herald/internal/server/reader"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/internal/server/webhooks"
	"github.com/heraldnews/herald/lifecycle"
	"github.com/heraldnews/herald/subscription"
	"github.com/heraldnews/herald/templates"
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

// daemon is herald serve's parts, wired. Each service owns its loop; the
// daemon starts them, serves HTTP, and stops them in order.
type daemon struct {
	m       *Main
	log     *slog.Logger
	mailer  *mailer.Mailer
	digests *digest.Service
	subs    *subscription.Service
	life    *lifecycle.Service
	bounces net.Listener // bounces.listen, bound at start
	feeds   *feeds.Handler
	writer  *feeds.Writer
	refresh *feeds.Refresher
	sched   *scheduler.Scheduler
	srv     *server.Server
	admin   *admin.Handler
	archive *archive.Service
	pages   *web.Pages // the reader pages (the archive's static files)
	css     []byte     // their stylesheet
	metrics *server.Metrics
	ln      net.Listener // when set, serve on it instead of http.listen
}

// newDaemon builds every part from the config; nothing runs yet.
func (m *Main) newDaemon(ctx context.Context) (*daemon, error) {
	cfg := m.Config
	d := &daemon{m: m, log: m.Log, metrics: server.NewMetrics()}
	var err error
	if d.mailer, err = m.newMailer(mailer.WithMetrics(mailer.Metrics{Result: d.metrics.SMTPResult,
		RelayUp: d.metrics.SMTPRelayUp, RelayAttempt: d.metrics.SMTPRelayAttempt})); err != nil {
		return nil, err
	}
	if d.digests, err = m.newDigests(d.mailer, d.metrics.EditionRun); err != nil {
		return nil, err
	}
	if d.subs, err = m.newSubscriptions(d.mailer); err != nil {
		return nil, err
	}
	if d.life, err = m.newLifecycle(d.metrics.Report); err != nil {
		return nil, err
	}
	hooks, err := webhooks.New(webhooks.Options{Config: cfg, Reports: d.life, Log: m.Log, Now: m.Now})
	if err != nil {
		return nil, err
	}
	fopt, err := m.feedOptions() // with m.Now, m.Log and the site's language
	if err != nil {
		return nil, err
	}
	builder := feeds.NewBuilder(m.Store, fopt)
	d.feeds, err = feeds.NewHandler(ctx, builder, m.Store, feeds.HandlerOptions{
		CacheControl: cfg.Feeds.CacheControl,
		CacheBytes:   cfg.Feeds.CacheBytes,
		OnServe:      d.metrics.FeedServed,
		OnBuild:      d.metrics.FeedBuilt,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Feeds.OutputDir != "" {
		if d.writer, err = feeds.NewWriter(builder, cfg.Feeds.OutputDir); err != nil {
			return nil, err
		}
	}
	// One refresher keeps the cache and the static files current and pings
	// the WebSub hubs; it tracks changes from now, before run's WriteAll.
	d.refresh, err = feeds.NewRefresher(ctx, builder, feeds.RefresherOptions{
		Handler: d.feeds, Writer: d.writer, Interval: cfg.Feeds.RefreshInterval.D(), Pruner: m.Store,
		OnRefresh: d.metrics.FeedsRefreshed,
	})
	if err != nil {
		return nil, err
	}
	if d.sched, err = scheduler.New(m.Store, cfg.Digests, d.digests.RunScheduled, scheduler.WithLogger(m.Log), scheduler.WithClock(scheduler.NowFunc(m.Now)), scheduler.WithZones(m.Store)); err != nil {
		return nil, err
	}
	pages, err := web.LoadPages(cfg, m.Log)
	if err != nil {
		return nil, err
	}
	if d.archive, err = m.newArchive(pages); err != nil {
		return nil, err
	}
	d.pages = pages
	if d.css, err = templates.ReadFile(cfg.TemplatesDir, "reader.css"); err != nil {
		return nil, err
	}
	trusted := web.ParsePrefixes(cfg.HTTP.TrustedProxies)
	readers, err := reader.New(reader.Options{Config: cfg, Subscriptions: d.subs, Pages: pages, Archive: d.archive, TrustedProxies: trusted,
		OnSubscribe: d.metrics.Subscribe, Log: m.Log, Now: m.Now})
	if err != nil {
		return nil, err
	}
	if d.admin, err = m.newAdmin(d); err != nil {
		return nil, err
	}
	d.srv = server.New(server.Options{
		Listen:         cfg.HTTP.Listen,
		TrustedProxies: trusted,
		ReadTimeout:    cfg.HTTP.ReadTimeout.D(),
		WriteTimeout:   cfg.HTTP.WriteTimeout.D(),
		Feeds:          d.feeds,
		Routes: append([]server.Registrar{readers, d.admin,
			api.New(api.Options{AdminToken: cfg.HTTP.AdminToken, Editions: d.digests, Store: m.Store, Log: m.Log, Audit: m.apiAudit}),
			hooks}, m.extraRoutes...),
		OnShutdown:    []func(){d.admin.StopStreams},
		Metrics:       d.metrics,
		Log:           m.Log,
		DebugFeedHits: cfg.Log.Level == "debug",
		// The reader pool: the single writer connection may be waiting on
		// the CMS's write lock, which is no reason to call herald dead.
		Ready: func(ctx context.Context) error { return m.Store.R.PingContext(ctx) },
	})
	if cfg.Bounces.Listen != "" {
		// Bound now: a busy port is an error at start, not a log line later.
		if d.bounces, err = net.Listen("tcp", cfg.Bounces.Listen); err != nil {
			return nil, fmt.Errorf("bounces.listen %s: %w (is another program using that port?)", cfg.Bounces.Listen, err)
		}
	}
	return d, nil
}

// run serves until ctx is done. ready, when set, is told the bound address.
func (d *daemon) run(ctx context.Context, ready func(net.Addr)) error {
	cfg := d.m.Config
	// A daemon's small heap would be collected every few hundred requests
	// (internal/gcfloor).
	defer gcfloor.Start(ctx, gcfloor.Floor)()
	if d.writer != nil {
		sum, err := d.writer.WriteAll(ctx)
		if err != nil {
			return fmt.Errorf("feeds.output_dir: %w", err)
		}
		d.log.Info("static feeds written", "dir", cfg.Feeds.OutputDir, "written", sum.Written, "unchanged", sum.Unchanged, "removed", sum.Removed)
	}
	// Services stop when the server has stopped, so an in-flight request
	// never finds the mailer or the database closed.
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := d.sched.Run(sctx); err != nil {
			d.log.Error("scheduler stopped", "err", err)
		}
	})
	wg.Go(func() { d.refresh.Run(sctx) })
	if d.writer != nil { // the archive's files beside the feeds, kept current too
		wg.Go(func() {
			d.archive.RunStatic(sctx, cfg.Feeds.OutputDir, d.pages, d.css, d.m.Store, cfg.Feeds.RefreshInterval.D())
		})
	}
	wg.Go(func() { d.admin.Run(sctx) })
	wg.Go(func() {
		if err := d.digests.Run(sctx); err != nil {
			d.log.Error("digest service stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := d.subs.Run(sctx); err != nil {
			d.log.Error("subscription worker stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := d.life.Run(sctx, d.bounces); err != nil {
			d.log.Error("bounce handling stopped", "err", err)
		}
	})

	announce := func(a net.Addr) {
		d.log.Info("herald serving", "url", "http://"+a.String()+"/", "feeds", "http://"+a.String()+"/feeds/all.rss",
			"digests", len(cfg.Digests), "transport", cfg.SMTP.Transport, "bounces", cfg.Bounces.Listen)
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
	stop()
	wg.Wait()
	if cerr := d.mailer.Close(); cerr != nil {
		d.log.Warn("closing the mailer", "err", cerr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	d.log.Info("stopped")
	return err
}
