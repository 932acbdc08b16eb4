package main

import (
	"context"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/journal"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/server/admin"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/lifecycle"
	"github.com/heraldnews/herald/subscription"
)

// The concrete parts meet here: *store.Store implements every store
// interface the packages declare, *mailer.Mailer every Mailer.
var (
	_ digest.BodyMailer    = (*mailer.Mailer)(nil)
	_ subscription.Mailer  = (*mailer.Mailer)(nil)
	_ editor.Store         = (*store.Store)(nil)
	_ admin.SessionStore   = (*store.Sessions)(nil)
	_ admin.Digests        = (*digest.Service)(nil)
	_ admin.Accounts       = (*editor.Service)(nil)
	_ admin.Suppressions   = (*lifecycle.Service)(nil)
	_ admin.Lists          = (*subscription.Service)(nil)
	_ admin.EditionStore   = (*store.Store)(nil)
	_ admin.LifecycleStore = (*store.Store)(nil)
)

// newEditors builds the editor accounts and audit log service over the store.
func (m *Main) newEditors() *editor.Service { return editor.New(m.Store, m.Now, m.Log) }

// newAdmin builds the editors' web UI over the daemon's services.
func (m *Main) newAdmin(d *daemon) (*admin.Handler, error) {
	pages, err := web.LoadAdminPages(m.Config, m.Log)
	if err != nil {
		return nil, err
	}
	return admin.New(admin.Options{Config: m.Config, Pages: pages, Digests: d.digests, Accounts: m.newEditors(),
		Lists: d.subs, Editions: m.Store, Subscribers: m.Store, Suppressions: d.life, Lifecycle: m.Store, Sessions: m.Store.Sessions(),
		TrustedProxies: web.ParsePrefixes(m.Config.HTTP.TrustedProxies), Log: m.Log, Now: m.Now}), nil
}

// newMailer returns the configured transport: SMTP or .eml files.
func (m *Main) newMailer(opts ...mailer.Option) (*mailer.Mailer, error) {
	opts = append([]mailer.Option{mailer.WithLogger(m.Log), mailer.WithClock(m.Now)}, opts...)
	return mailer.New(m.Config.SMTP, opts...)
}

// verp returns the VERP addresses of the config (nil without
// bounces.address).
func (m *Main) verp() (*lifecycle.VERP, error) { return lifecycle.NewVERP(m.Config, m.Now) }

// newDigests builds the digest service over the store; ml may be nil for
// commands that send nothing.
func (m *Main) newDigests(ml digest.Mailer, observe func(digest.SendNowResult, time.Duration)) (*digest.Service, error) {
	st := m.Store
	opt := digest.Options{
		Config: m.Config, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st, Leases: st, Local: st,
		Mailer: ml, Log: m.Log, Now: m.Now, Observe: observe, Journal: journal.At(st.Path() + ".journal"),
	}
	v, err := m.verp()
	if err != nil {
		return nil, err
	}
	if v != nil {
		opt.ReturnPath, opt.UnsubscribeMailto = v.Delivery, v.UnsubscribeMailto
	}
	return digest.New(opt)
}

// newSubscriptions builds the subscription service over the store.
func (m *Main) newSubscriptions(ml subscription.Mailer) (*subscription.Service, error) {
	opt := subscription.Options{Config: m.Config, Store: m.Store, Content: m.Store, Mailer: ml, Log: m.Log, Now: m.Now}
	v, err := m.verp()
	if err != nil {
		return nil, err
	}
	if v != nil {
		opt.ReturnPath = v.Mail
	}
	return subscription.New(opt)
}

// newLifecycle builds the lifecycle service (bounces, complaints,
// suppressions, housekeeping) over the store; onReport (may be nil)
// counts the reports.
func (m *Main) newLifecycle(onReport func(kind string)) (*lifecycle.Service, error) {
	v, err := m.verp()
	if err != nil {
		return nil, err
	}
	st := m.Store
	return lifecycle.New(lifecycle.Options{Config: m.Config, Reports: st, Suppressions: st, Housekeeping: st, VERP: v,
		OnReport: onReport, Log: m.Log, Now: m.Now})
}

// withMailer opens the store, builds a mailer when send is true, and
// returns a func that closes it (waiting for the message in flight).
func (m *Main) withMailer(ctx context.Context, send bool) (*mailer.Mailer, func(), error) {
	if err := m.open(ctx); err != nil {
		return nil, nil, err
	}
	if !send {
		return nil, func() {}, nil
	}
	ml, err := m.newMailer()
	if err != nil {
		return nil, nil, err
	}
	return ml, func() {
		if err := ml.Close(); err != nil {
			m.Log.Warn("closing mailer", "err", err)
		}
	}, nil
}

// digestService opens the store and builds the digest service; with send
// it also builds the mailer (closed by the returned func).
func (m *Main) digestService(ctx context.Context, send bool) (*digest.Service, func(), error) {
	ml, closeFn, err := m.withMailer(ctx, send)
	if err != nil {
		return nil, nil, err
	}
	var dm digest.Mailer
	if ml != nil {
		dm = ml
	}
	svc, err := m.newDigests(dm, nil)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return svc, closeFn, nil
}

// subscriptionService is digestService for package subscription.
func (m *Main) subscriptionService(ctx context.Context, send bool) (*subscription.Service, func(), error) {
	ml, closeFn, err := m.withMailer(ctx, send)
	if err != nil {
		return nil, nil, err
	}
	var sm subscription.Mailer
	if ml != nil {
		sm = ml
	}
	svc, err := m.newSubscriptions(sm)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return svc, closeFn, nil
}
