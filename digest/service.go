package digest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// Store is what the digest package needs from the database; internal/store
// implements it.
type Store interface {
	// Content.
	CandidateArticles(ctx context.Context, since, cutoff time.Time) ([]model.Article, error)
	ArticlesByID(ctx context.Context, ids []int64) ([]model.Article, error)
	Sections(ctx context.Context) ([]model.Section, error)
	Authors(ctx context.Context) ([]model.Author, error)

	// Subscribers.
	UpsertSubscriber(ctx context.Context, email, name, status string) (model.Subscriber, bool, error)
	UpsertSubscription(ctx context.Context, subscriberID int64, digest string, sections, authors []string, status string) (model.Subscription, error)
	FindSubscriber(ctx context.Context, email string) (model.Subscriber, bool, error)
	SubscriberByID(ctx context.Context, id int64) (model.Subscriber, error)
	SetSubscriberStatus(ctx context.Context, id int64, status string) error
	SubscriptionByID(ctx context.Context, id int64) (model.Subscription, error)
	SubscriptionsOf(ctx context.Context, subscriberID int64) ([]model.Subscription, error)
	SetSubscriptionStatus(ctx context.Context, id int64, status string) error
	ActiveSubscriptions(ctx context.Context, digest string, afterID int64, limit int) ([]model.Subscription, error)
	ReceivedArticles(ctx context.Context, digest string, subscriberIDs, articleIDs []int64) (map[int64]map[int64]bool, error)
	PendingArticles(ctx context.Context, editionIDs, subscriberIDs []int64) (map[int64]map[int64]bool, error)
	UnfinishedEditionIDs(ctx context.Context, digest string) ([]int64, error)

	// Editions.
	CreateEdition(ctx context.Context, e model.Edition) (model.Edition, bool, error)
	Edition(ctx context.Context, id int64) (model.Edition, error)
	EditionCounts(ctx context.Context, id int64) (map[string]int, error)
	Editions(ctx context.Context, digest string, limit int) ([]model.Edition, error)
	UnfinishedEdition(ctx context.Context, digest string) (model.Edition, bool, error)
	SetEditionStatus(ctx context.Context, id int64, status string) error
	PlanningCursor(ctx context.Context, editionID int64) (int64, error)
	InsertDeliveries(ctx context.Context, editionID int64, ds []model.Delivery, through int64) error
	AcquireLease(ctx context.Context, digest, holder string, editionID int64, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, digest, holder string) error
	LeaseHolder(ctx context.Context, digest string) (string, time.Time, error)
	TakeOverLease(ctx context.Context, digest, from, holder string, ttl time.Duration) (bool, error)

	// Outbox.
	DueDeliveries(ctx context.Context, editionID int64, now time.Time, afterID int64, limit int) ([]model.Delivery, error)
	CancelIneligible(ctx context.Context, editionID, afterID, throughID int64) (int64, error)
	EditionStatus(ctx context.Context, id int64) (string, error)
	NextAttempt(ctx context.Context, editionID int64) (time.Time, bool, error)
	Deliveries(ctx context.Context, editionID, afterID int64, limit int) ([]model.Delivery, error)
	RecordDeliveries(ctx context.Context, digest string, ds []model.Delivery, bounced []int64) error
}

// Errors.
var (
	// ErrLeaseHeld: another process (the daemon, a send-now, the API) is
	// working on an edition of this digest. The API answers 409.
	ErrLeaseHeld = errors.New("digest: another process is sending this digest")
	// ErrUnknownDigest: no digest of that name is configured.
	ErrUnknownDigest = errors.New("digest: no such digest")
	// ErrInvalidEmail: the address does not parse or has no sane domain.
	ErrInvalidEmail = errors.New("digest: invalid email address")
	// ErrEditionFinished: the edition is done or cancelled.
	ErrEditionFinished = errors.New("digest: edition already finished")
)

// Token lifetimes.
const (
	ConfirmTTL     = 7 * 24 * time.Hour
	UnsubscribeTTL = 5 * 365 * 24 * time.Hour // links in old mail keep working
	ManageTTL      = 365 * 24 * time.Hour
)

// Options configure a Service.
type Options struct {
	Config *config.Config // required, validated
	Store  Store          // required
	Sender Sender         // required to send; preview and dry runs need none
	// Templates parsed at start (default: LoadTemplates(Config.TemplatesDir, Config.Digests)).
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
	// MarkBatch is the most results committed in one transaction (default
	// 32); MarkInterval the longest a result waits for its commit (default
	// 100ms). Together with the workers they bound what a crash can repeat.
	MarkBatch    int
	MarkInterval time.Duration
}

// Service plans and sends digests, manages subscriptions and serves the
// subscriber pages.
type Service struct {
	cfg    *config.Config
	store  Store
	sender Sender
	tmpl   *Templates
	log    *slog.Logger
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	tokens *token.Signer
	clean  *sanitize.Cleaner
	opt    Options
	msgKey []byte
	domain string

	// worker0 serialises the Sender's worker 0 between the send loop and
	// one-off mails (confirmations, samples), which use worker 0 too: a
	// mailer's worker is one connection, not safe for concurrent use.
	worker0 sync.Mutex

	// activeMu guards active: the digests this process is working on. The
	// database lease keeps other processes out; this keeps a second
	// goroutine of the same process (the scheduler, the API, the retry
	// loop all share one holder name) from re-entering a held lease.
	activeMu sync.Mutex
	active   map[string]bool

	// confirmAt throttles confirmation emails per address; bg tracks the
	// ones sent in the background.
	confirmAtMu sync.Mutex
	confirmAt   map[string]time.Time
	bg          sync.WaitGroup
}

// New returns a Service. It parses the templates now (unless given), so a
// broken template is an error at start naming its file.
func New(opt Options) (*Service, error) {
	if opt.Config == nil || opt.Store == nil {
		return nil, errors.New("digest: New needs a config and a store")
	}
	if opt.Config.Secret == "" {
		return nil, errors.New("digest: config secret is empty (open the store to generate one)")
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
	if opt.Holder == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		opt.Holder = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if opt.LeaseTTL <= 0 {
		opt.LeaseTTL = 2 * time.Minute
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 1000
	}
	if opt.MarkBatch <= 0 {
		opt.MarkBatch = 32
	}
	if opt.MarkInterval <= 0 {
		opt.MarkInterval = 100 * time.Millisecond
	}
	if opt.Templates == nil {
		t, err := LoadTemplates(opt.Config.TemplatesDir, opt.Config.Digests)
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
		cfg: opt.Config, store: opt.Store, sender: opt.Sender, tmpl: opt.Templates, log: opt.Log,
		now: opt.Now, sleep: opt.Sleep, tokens: signer, clean: sanitize.New(opt.Config.Site.URL, opt.Log), opt: opt,
	}
	m := hmac.New(sha256.New, []byte(opt.Config.Secret))
	m.Write([]byte("herald-message-id-v1"))
	s.msgKey = m.Sum(nil)
	s.domain = "herald.invalid"
	if u, err := url.Parse(opt.Config.Site.URL); err == nil && u.Hostname() != "" {
		s.domain = strings.ToLower(u.Hostname())
	}
	if err := s.checkTemplates(); err != nil {
		return nil, err
	}
	return s, nil
}

// Tokens is the signer for links in mail.
func (s *Service) Tokens() *token.Signer { return s.tokens }

// digest returns the configured digest called name ("" for the first).
func (s *Service) digest(name string) (config.Digest, error) {
	if name == "" && len(s.cfg.Digests) > 0 {
		return s.cfg.Digests[0], nil
	}
	for _, d := range s.cfg.Digests {
		if d.Name == name {
			return d, nil
		}
	}
	return config.Digest{}, fmt.Errorf("%w: %q", ErrUnknownDigest, name)
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

// checkTemplates executes every template once with sample data, so errors
// html/template only finds when executing surface at start too.
func (s *Service) checkTemplates() error {
	sample := []*ArticleView{newArticleView(model.Article{ID: 1, Title: "Sample", URL: s.cfg.Site.URL + "/sample",
		Section: model.Section{Name: "Sample", Slug: "sample"}, Authors: []model.Author{{Name: "A. Writer", Slug: "a"}}})}
	for _, d := range s.cfg.Digests {
		r := newRenderer(s.cfg, d, s.tmpl, s.now())
		if _, _, _, err := r.render(sample, part{name: "Reader", email: "reader@example.com", unsubTok: "t", mgmtTok: "t"}); err != nil {
			return fmt.Errorf("templates: digest %s (template %s): %w", d.Name, r.templateKey(), err)
		}
	}
	if _, _, err := s.renderConfirm(model.Subscriber{Email: "reader@example.com"}, []string{"Sample"}, "t"); err != nil {
		return fmt.Errorf("templates: confirmation email: %w", err)
	}
	for _, name := range []string{"confirm", "unsubscribe", "preferences", "message"} {
		if err := s.tmpl.pages.ExecuteTemplate(discard{}, name, pageData{Site: s.siteView(), Heading: "x"}); err != nil {
			return fmt.Errorf("templates: pages.html.tmpl %q: %w", name, err)
		}
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func (s *Service) siteView() SiteView {
	c := s.cfg.Site
	return SiteView{Name: sanitize.Line(c.Name), URL: c.URL, Language: c.Language, Logo: c.Logo, PostalAddress: sanitize.Line(c.PostalAddress)}
}

// messageID derives a delivery's Message-ID from its edition and
// subscriber, so a resumed or retried delivery reuses it.
func (s *Service) messageID(editionID, subscriberID int64) string {
	m := hmac.New(sha256.New, s.msgKey)
	fmt.Fprintf(m, "%d/%d", editionID, subscriberID)
	return fmt.Sprintf("<%d.%s@%s>", editionID, hex.EncodeToString(m.Sum(nil)[:12]), s.domain)
}
