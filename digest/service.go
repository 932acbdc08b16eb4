package digest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/lease"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// Mailer delivers messages over connections it owns; internal/mailer
// implements it. Send hands msg to a free connection (waiting for one while
// ctx lasts) and returns; the connection sends it and calls record with the
// result, and takes its next message only after record returns. On an
// error the message was not handed over and record is never called.
type Mailer interface {
	Send(ctx context.Context, msg *model.Message, record func(model.SendResult)) error
}

// SendAndWait hands msg to m and waits for its result: for one-off mail
// (samples) that no outbox records.
func SendAndWait(ctx context.Context, m Mailer, msg *model.Message) (model.SendResult, error) {
	done := make(chan model.SendResult, 1)
	if err := m.Send(ctx, msg, func(r model.SendResult) { done <- r }); err != nil {
		return model.SendResult{}, err
	}
	return <-done, nil
}

// ContentStore is what checking send-now flags reads: the sections and
// authors that exist.
type ContentStore interface {
	Sections(ctx context.Context) ([]model.Section, error)
	Authors(ctx context.Context) ([]model.Author, error)
}

// Errors. Each is an *model.Error whose code says how the HTTP layer
// answers (internal/server maps codes to statuses in one place).
var (
	// ErrLeaseHeld: another process (the daemon, a send-now, the API) is
	// working on an edition of this digest.
	ErrLeaseHeld = lease.ErrHeld
	// ErrUnknownDigest: no digest of that name is configured.
	ErrUnknownDigest = &model.Error{Code: model.EINVALID, Message: "no such digest"}
	// ErrUnknownSlug: a send-now flag names a section or author that does
	// not exist.
	ErrUnknownSlug = &model.Error{Code: model.EINVALID, Message: "unknown section or author"}
	// ErrInvalidEmail: the address does not parse or has no sane domain.
	ErrInvalidEmail = model.ErrInvalidAddress
	// ErrEditionFinished: the edition is done or cancelled.
	ErrEditionFinished = &model.Error{Code: model.EFINISHED, Message: "edition already finished"}
	// ErrNothingNew: the reader would get no digest now (fewer new articles
	// than the digest's min_articles).
	ErrNothingNew = &model.Error{Code: model.ENOTFOUND, Message: "nothing new"}
)

// Token lifetimes of the links a digest carries.
const (
	UnsubscribeTTL = 5 * 365 * 24 * time.Hour // links in old mail keep working
	ManageTTL      = 365 * 24 * time.Hour
)

// Options configure a Service. Each store is the same *store.Store in
// herald; each is declared by the part of the package that uses it.
type Options struct {
	Config   *config.Config // required, validated
	Editions EditionStore   // required
	Plans    PlanStore      // required
	Outbox   OutboxStore    // required
	Readers  ReaderStore    // required
	Content  ContentStore   // required
	Leases   lease.Store    // required
	Local    LocalStore     // required when a digest has delivery: local
	// Archive gives editions their archive pages, for the "view in browser"
	// link (default: Editions, when it implements it; none: no link).
	Archive ArchiveStore
	Mailer  Mailer // required to send; preview and dry runs need none
	// Templates parsed at start (default: LoadTemplatesLang(Config.TemplatesDir,
	// Config.Site.Language, Config.Digests)).
	Templates *Templates
	Log       *slog.Logger     // default slog.Default()
	Now       func() time.Time // default time.Now
	// Sleep waits d or until ctx ends (default: a timer); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Backoff is the delay before retry number attempt (1 for the first
	// retry). Default: 30s doubling to at most 30m, with ±25% jitter.
	Backoff func(attempt int) time.Duration
	// Holder names this process in leases (default host:pid:random).
	Holder string
	// LeaseTTL is how long a lease lives without renewal (default 2m).
	LeaseTTL time.Duration
	// PageSize is the planning and outbox page (default 1000).
	PageSize int
	// MarkInterval is how often progress is reported while sending
	// (default 100ms).
	MarkInterval time.Duration
	// Journal, when set, takes each group of results with one write
	// instead of a transaction; they reach the database a segment at a
	// time: once it holds ApplyBatch results (default 512), when a group
	// finds it ApplyEvery old (default 1s), and at the end of a pass. A
	// lease holder replays what a crash left in it before planning or
	// sending (record.go). Nil: every group is its own transaction.
	Journal    Journal
	ApplyBatch int
	ApplyEvery time.Duration
	// RetryEvery is how often Run looks for unfinished editions (default 30s).
	RetryEvery time.Duration
	// Observe, when set, is told what each edition run did and how long it
	// took (for metrics), whoever started it.
	Observe func(res SendNowResult, took time.Duration)
	// ReturnPath, when set, is the envelope sender of delivery id's
	// message (a VERP address, so its bounces name the delivery).
	ReturnPath func(deliveryID int64) model.Address
	// UnsubscribeMailto, when set, is the mailto: address in
	// List-Unsubscribe for subscription id (one naming it); "" falls back
	// to smtp.unsubscribe_mailto.
	UnsubscribeMailto func(subscriptionID int64) string
}

// Service plans and sends digests: send-now, scheduled slots, resumes,
// cancels, previews and the retry loop.
type Service struct {
	cfg     *config.Config
	opt     Options
	log     *slog.Logger
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	tmpl    *Templates
	tokens  *token.Signer
	clean   *sanitize.Cleaner
	leases  *lease.Manager
	msgKey  []byte
	msgMACs *token.MACs // keyed with msgKey (messageMAC)
	domain  string
	listIDs sync.Map // listIDKey to the List-Id value (listID)

	// bg is the lifetime of editions started from the API (StartSendNow):
	// Run's context while Run runs; bgWait tracks them.
	bgMu   sync.Mutex
	bg     context.Context
	bgWait sync.WaitGroup
}

// New returns a Service. It parses the templates now (unless given) and
// executes them with sample data, so a broken one is an error at start
// naming its file.
func New(opt Options) (*Service, error) {
	if opt.Config == nil || opt.Editions == nil || opt.Plans == nil || opt.Outbox == nil ||
		opt.Readers == nil || opt.Content == nil || opt.Leases == nil {
		return nil, errors.New("digest: New needs a config and every store")
	}
	if opt.Config.Secret == "" {
		return nil, errors.New("digest: config secret is empty (open the store to generate one)")
	}
	for _, d := range opt.Config.Digests {
		if d.Local() && opt.Local == nil {
			return nil, fmt.Errorf("digest: %s has delivery local: New needs its LocalStore", d.Name)
		}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepCtx
	}
	if opt.Backoff == nil {
		opt.Backoff = DefaultBackoff
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 1000
	}
	if opt.ApplyBatch <= 0 {
		opt.ApplyBatch = 512
	}
	if opt.ApplyEvery <= 0 {
		opt.ApplyEvery = time.Second
	}
	if opt.MarkInterval <= 0 {
		opt.MarkInterval = 100 * time.Millisecond
	}
	if opt.RetryEvery <= 0 {
		opt.RetryEvery = 30 * time.Second
	}
	if opt.Archive == nil {
		opt.Archive, _ = opt.Editions.(ArchiveStore)
	}
	if opt.Templates == nil {
		t, err := LoadTemplatesLang(opt.Config.TemplatesDir, opt.Config.Site.Language, opt.Config.Digests)
		if err != nil {
			return nil, err
		}
		opt.Templates = t
	}
	signer, err := token.NewSigner([]byte(opt.Config.Secret), opt.Now)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg: opt.Config, opt: opt, log: opt.Log, now: opt.Now, sleep: opt.Sleep, tmpl: opt.Templates,
		tokens: signer, clean: sanitize.New(opt.Config.Site.URL, opt.Log),
		leases: lease.New(opt.Leases, lease.Options{Holder: opt.Holder, TTL: opt.LeaseTTL, Log: opt.Log}),
	}
	m := hmac.New(sha256.New, []byte(opt.Config.Secret))
	m.Write([]byte("herald-message-id-v1"))
	s.msgKey = m.Sum(nil)
	s.msgMACs = token.NewMACs(s.msgKey)
	s.domain = "herald.invalid"
	if u, err := url.Parse(opt.Config.Site.URL); err == nil && u.Hostname() != "" {
		s.domain = strings.ToLower(u.Hostname())
	}
	if err := s.checkTemplates(); err != nil {
		return nil, err
	}
	return s, nil
}

// digest returns the configured digest called name ("" for the first).
func (s *Service) digest(name string) (config.Digest, error) {
	if d, ok := s.cfg.Digest(name); ok {
		return d, nil
	}
	return config.Digest{}, ErrUnknownDigest.With("no digest named %q", name)
}

// DefaultBackoff is 30s doubling per attempt up to 30m, with ±25% jitter so
// a throttling server does not see every retry at once.
func DefaultBackoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < 30*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 30*time.Minute)
	jitter := time.Duration(mathrand.Int64N(int64(d)/2)) - d/4
	return d + jitter
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// checkTemplates executes every digest's templates once with sample data,
// so errors html/template only finds when executing surface at start too.
func (s *Service) checkTemplates() error {
	sample := []*ArticleView{newArticleView(model.Article{ID: 1, Title: "Sample", URL: s.cfg.Site.URL + "/sample",
		Section: model.Section{Name: "Sample", Slug: "sample"}, Authors: []model.Author{{Name: "A. Writer", Slug: "a"}}})}
	for _, d := range s.cfg.Digests {
		r := newRenderer(s.cfg, d, s.tmpl, s.now())
		if _, _, _, err := r.render(sample, part{name: "Reader", email: "reader@example.com", unsubTok: "t", mgmtTok: "t"}); err != nil {
			return fmt.Errorf("templates: digest %s (template %s): %w", d.Name, r.templateKey(), err)
		}
	}
	return nil
}

// checkSlugs refuses section and author slugs that do not exist.
func (s *Service) checkSlugs(ctx context.Context, sections, authors []string) error {
	if len(sections) > 0 {
		all, err := s.opt.Content.Sections(ctx)
		if err != nil {
			return err
		}
		if slug, ok := missing(sections, all, func(x model.Section) string { return x.Slug }); !ok {
			return ErrUnknownSlug.With("no section with slug %q", slug)
		}
	}
	if len(authors) > 0 {
		all, err := s.opt.Content.Authors(ctx)
		if err != nil {
			return err
		}
		if slug, ok := missing(authors, all, func(x model.Author) string { return x.Slug }); !ok {
			return ErrUnknownSlug.With("no author with slug %q", slug)
		}
	}
	return nil
}

// missing returns the first of want that no element of have has as its
// slug, and false; or "" and true when all exist.
func missing[T any](want []string, have []T, slug func(T) string) (string, bool) {
	set := make(map[string]bool, len(have))
	for _, h := range have {
		set[slug(h)] = true
	}
	for _, w := range want {
		if !set[w] {
			return w, false
		}
	}
	return "", true
}
