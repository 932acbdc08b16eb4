// Package subscription holds the rules of a reader's subscriptions: who may
// subscribe and how (double opt-in, returning readers), confirming,
// unsubscribing one digest, choosing follows on the preferences page, and
// importing or exporting a list without undoing anyone's opt-out.
//
// Data enters as requests from the reader pages (internal/server/reader)
// and the command line — addresses, signed tokens from links in mail, CSV —
// and as rows through the Store interfaces declared here (implemented by
// internal/store). It leaves as subscriber and subscription rows and as the
// confirmation email, handed to a Mailer (internal/mailer). Errors are
// *model.Error values whose code the HTTP layer maps to a status.
package subscription

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// Store is what the subscription rules read and write.
type Store interface {
	FindSubscriber(ctx context.Context, email model.Address) (model.Subscriber, bool, error)
	SubscriberByID(ctx context.Context, id int64) (model.Subscriber, error)
	// UpsertSubscriber creates or updates a subscriber; a non-empty name or
	// status replaces the stored one. It reports whether it created the row.
	UpsertSubscriber(ctx context.Context, email model.Address, name, status string) (model.Subscriber, bool, error)
	SetSubscriberStatus(ctx context.Context, id int64, status string) error
	// SetSubscriberTimezone sets a reader's IANA timezone ("" for unknown).
	SetSubscriberTimezone(ctx context.Context, id int64, tz string) error
	SubscriptionByID(ctx context.Context, id int64) (model.Subscription, error)
	SubscriptionsOf(ctx context.Context, subscriberID int64) ([]model.Subscription, error)
	// UpsertSubscription sets a subscriber's subscription to digest: its
	// follows, and its status unless status is "".
	UpsertSubscription(ctx context.Context, subscriberID int64, digest string, sections, authors []string, status string) (model.Subscription, error)
	SetSubscriptionStatus(ctx context.Context, id int64, status string) error
	// EachSubscriber calls fn for every subscriber with their subscriptions, in id order.
	EachSubscriber(ctx context.Context, fn func(model.Subscriber, []model.Subscription) error) error
}

// ContentStore lists the sections and authors a reader may follow.
type ContentStore interface {
	Sections(ctx context.Context) ([]model.Section, error)
	Authors(ctx context.Context) ([]model.Author, error)
}

// Mailer delivers messages (internal/mailer): Send hands msg to a free
// connection and returns; record is called with the result.
type Mailer interface {
	Send(ctx context.Context, msg *model.Message, record func(model.SendResult)) error
}

// Token lifetimes.
const (
	ConfirmTTL = 7 * 24 * time.Hour
	// ConfirmEvery is the least time between two confirmation emails to one
	// address: repeated subscribe requests for a pending address (from any
	// number of clients) cannot turn into a mail storm.
	ConfirmEvery = 10 * time.Minute
)

// Errors.
var (
	// ErrUnknownDigest: no digest of that name is configured.
	ErrUnknownDigest = &model.Error{Code: model.EINVALID, Message: "no such digest"}
	// ErrUnknownSlug: a section or author slug that does not exist.
	ErrUnknownSlug = &model.Error{Code: model.EINVALID, Message: "unknown section or author"}
	// ErrBadLink: a token that is malformed, tampered with or made for
	// another purpose.
	ErrBadLink = &model.Error{Code: model.EINVALID,
		Message: "This link is not valid: it may have been cut short or changed. Copy the whole link from the email and try again."}
	// ErrExpiredLink: a token past its expiry.
	ErrExpiredLink = &model.Error{Code: model.EEXPIRED,
		Message: "For your safety, links in our emails stop working after a while. Use the link in a more recent email."}
)

// Options configure a Service.
type Options struct {
	Config  *config.Config // required, validated, with its secret set
	Store   Store          // required
	Content ContentStore   // required
	Mailer  Mailer         // required to send confirmations
	Log     *slog.Logger
	Now     func() time.Time
}

// Service applies the subscription rules.
type Service struct {
	cfg    *config.Config
	store  Store
	cont   ContentStore
	mailer Mailer
	log    *slog.Logger
	now    func() time.Time
	tokens *token.Signer
	mail   *confirmMail

	// confirmAt throttles confirmation emails per address; bg tracks the
	// ones sent in the background.
	confirmAtMu sync.Mutex
	confirmAt   map[model.Address]time.Time
	bg          sync.WaitGroup
}

// New returns a Service. It parses the confirmation email's templates and
// renders them once with sample data, so a broken one fails at start.
func New(opt Options) (*Service, error) {
	if opt.Config == nil || opt.Store == nil || opt.Content == nil {
		return nil, errors.New("subscription: New needs a config and stores")
	}
	if opt.Config.Secret == "" {
		return nil, errors.New("subscription: config secret is empty (open the store to generate one)")
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	signer, err := token.NewSigner([]byte(opt.Config.Secret), opt.Now)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: opt.Config, store: opt.Store, cont: opt.Content, mailer: opt.Mailer, log: opt.Log,
		now: opt.Now, tokens: signer, confirmAt: map[model.Address]time.Time{}}
	if s.mail, err = newConfirmMail(opt.Config); err != nil {
		return nil, err
	}
	return s, nil
}

// Tokens is the signer for links in mail.
func (s *Service) Tokens() *token.Signer { return s.tokens }

// Wait waits for confirmation emails sent in the background.
func (s *Service) Wait() { s.bg.Wait() }

// digest returns the configured digest called name ("" for the first).
func (s *Service) digest(name string) (config.Digest, error) {
	if d, ok := s.cfg.Digest(name); ok {
		return d, nil
	}
	return config.Digest{}, ErrUnknownDigest.With("no digest named %q", name)
}

// verify checks a link's token for purpose and returns its id.
func (s *Service) verify(tok, purpose string) (int64, error) {
	id, err := s.tokens.Verify(tok, purpose)
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, token.ErrExpired):
		return 0, ErrExpiredLink
	default:
		return 0, ErrBadLink
	}
}

// domain is the site's host, for Message-IDs.
func (s *Service) domain() string {
	if u, err := url.Parse(s.cfg.Site.URL); err == nil && u.Hostname() != "" {
		return strings.ToLower(u.Hostname())
	}
	return "herald.invalid"
}

// slugSets returns the sets of section and author slugs that exist.
func (s *Service) slugSets(ctx context.Context) (sections, authors map[string]bool, err error) {
	secs, err := s.cont.Sections(ctx)
	if err != nil {
		return nil, nil, err
	}
	auths, err := s.cont.Authors(ctx)
	if err != nil {
		return nil, nil, err
	}
	sections, authors = make(map[string]bool, len(secs)), make(map[string]bool, len(auths))
	for _, x := range secs {
		sections[x.Slug] = true
	}
	for _, x := range auths {
		authors[x.Slug] = true
	}
	return sections, authors, nil
}

// checkSlugs refuses section and author slugs that do not exist.
func (s *Service) checkSlugs(ctx context.Context, sections, authors []string) error {
	if len(sections) == 0 && len(authors) == 0 {
		return nil
	}
	secs, auths, err := s.slugSets(ctx)
	if err != nil {
		return err
	}
	for _, slug := range sections {
		if !secs[slug] {
			return ErrUnknownSlug.With("no section with slug %q", slug)
		}
	}
	for _, slug := range authors {
		if !auths[slug] {
			return ErrUnknownSlug.With("no author with slug %q", slug)
		}
	}
	return nil
}

// ErrUnknownTimezone: a timezone that is not an IANA name this machine knows.
var ErrUnknownTimezone = &model.Error{Code: model.EINVALID, Message: "unknown timezone"}

// checkTimezone returns tz trimmed ("" stays unknown), or ErrUnknownTimezone
// when time.LoadLocation does not know it ("Local", the server's own zone,
// is no reader's).
func checkTimezone(tz string) (string, error) {
	tz = strings.TrimSpace(tz)
	if tz == "" {
		return "", nil
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" || len(tz) > 64 {
		return "", ErrUnknownTimezone.With("unknown timezone %q: use an IANA name such as Europe/London", tz)
	}
	return tz, nil
}

// setTimezone records tz as sub's timezone unless it is "" or already so.
func (s *Service) setTimezone(ctx context.Context, sub *model.Subscriber, tz string) error {
	if tz == "" || tz == sub.Timezone {
		return nil
	}
	if err := s.store.SetSubscriberTimezone(ctx, sub.ID, tz); err != nil {
		return err
	}
	sub.Timezone = tz
	return nil
}

// sendAndWait hands msg to the mailer and waits for its result.
func (s *Service) sendAndWait(ctx context.Context, msg *model.Message) error {
	if s.mailer == nil {
		return fmt.Errorf("subscription: no mailer configured to mail %s", msg.ToAddr)
	}
	done := make(chan model.SendResult, 1)
	if err := s.mailer.Send(ctx, msg, func(r model.SendResult) { done <- r }); err != nil {
		return err
	}
	if res := <-done; res.Outcome != model.Accepted {
		return fmt.Errorf("subscription: mail to %s: %s (%s)", msg.ToAddr, res.Outcome, sanitize.Line(res.Reply))
	}
	return nil
}
