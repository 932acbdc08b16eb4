// Package subscription holds the rules of a reader's subscriptions: who may
// subscribe and how (double opt-in, returning readers), confirming,
// unsubscribing one digest, choosing follows on the preferences page,
// importing or exporting a list without undoing anyone's opt-out, and a
// reader's own data ("download my data", "erase me").
//
// Data enters as requests from the reader pages (internal/server/reader)
// and the command line — addresses, signed tokens from links in mail, CSV.
// POST /subscribe only records its request (Enqueue: the same work for
// every address); the worker (Run) applies the rules and queues the
// transactional mail — confirmation, confirmation of a digest taken again,
// a link to the preferences page — which it sends through a Mailer
// (internal/mailer) with the outbox's promise: at least once, retried with
// backoff, each result recorded before the connection moves on. It leaves
// as subscriber, subscription and queue rows through the Store interfaces
// declared here (implemented by internal/store). Errors are *model.Error
// values whose code the HTTP layer maps to a status.
package subscription

import (
	"context"
	"errors"
	"log/slog"
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

// IntakeStore holds the subscribe requests the request path records for
// the worker.
type IntakeStore interface {
	AddIntake(ctx context.Context, in model.Intake) (int64, error)
	// Intakes returns the oldest recorded requests.
	Intakes(ctx context.Context, limit int) ([]model.Intake, error)
	DeleteIntake(ctx context.Context, id int64) error
}

// MailStore is the transactional mail queue.
type MailStore interface {
	EnqueueMail(ctx context.Context, m model.Mail) (int64, error)
	// MailedSince reports whether a mail to the address was queued after since.
	MailedSince(ctx context.Context, to model.Address, since time.Time) (bool, error)
	DueMail(ctx context.Context, now time.Time, limit int) ([]model.Mail, error)
	NextMailAttempt(ctx context.Context) (time.Time, bool, error)
	MailByID(ctx context.Context, id int64) (model.Mail, error)
	// RecordMail stores an attempt's result; bounced marks the subscriber so.
	RecordMail(ctx context.Context, m model.Mail, bounced bool) error
}

// SuppressionStore reads the suppression list (internal/store).
type SuppressionStore interface {
	SuppressionKey(ctx context.Context) ([]byte, error)
	SuppressionsOf(ctx context.Context, key []byte, address model.Address) ([]model.Suppression, error)
	SuppressErased(ctx context.Context, key []byte, address model.Address) error
	LiftErased(ctx context.Context, key []byte, address model.Address) error
}

// ContentStore lists the sections and authors a reader may follow.
type ContentStore interface {
	Sections(ctx context.Context) ([]model.Section, error)
	Authors(ctx context.Context) ([]model.Author, error)
}

// Mailer delivers messages (internal/mailer): Send hands msg to a free
// connection and returns; record is called with the result, and the
// connection takes its next message only after record returns.
type Mailer interface {
	Send(ctx context.Context, msg *model.Message, record func(model.SendResult)) error
}

// Token lifetimes.
const (
	ConfirmTTL = 7 * 24 * time.Hour
	// ConfirmEvery is the least time between two transactional mails to
	// one address: repeated subscribe requests (from any number of
	// clients) cannot turn into a mail storm.
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
	// ErrSuppressed: the address is on the suppression list for a reason a
	// double opt-in does not lift (a complaint, an operator's entry).
	ErrSuppressed = &model.Error{Code: model.EINVALID,
		Message: "This address is on our do-not-mail list. Write to us if you want to receive our newsletters again."}
)

// Options configure a Service.
type Options struct {
	Config  *config.Config // required, validated, with its secret set
	Store   Store          // required
	Content ContentStore   // required
	// Intake, Mails, Suppressions, Leases and Privacy default to Store
	// when it implements them (internal/store's Store does).
	Intake       IntakeStore
	Mails        MailStore
	Suppressions SuppressionStore
	Leases       lease.Store // one process at a time sends transactional mail
	Privacy      PrivacyStore
	Undo         UndoStore // the undo of an unsubscribe; none: no undo links
	Mailer       Mailer    // required to send mail
	// ReturnPath, when set, is the envelope sender of transactional mail
	// number id (a VERP address, so its bounces name it).
	ReturnPath func(mailID int64) model.Address
	// Backoff is the delay before retry number attempt (default: 30s
	// doubling to at most 30m).
	Backoff func(attempt int) time.Duration
	Log     *slog.Logger
	Now     func() time.Time
}

// Service applies the subscription rules.
type Service struct {
	cfg    *config.Config
	opt    Options
	store  Store
	intake IntakeStore
	queue  MailStore
	supp   SuppressionStore
	cont   ContentStore
	mailer Mailer
	log    *slog.Logger
	now    func() time.Time
	tokens *token.Signer
	mail   *mails
	leases *lease.Manager

	nudge  chan struct{} // a subscribe request was recorded
	passMu sync.Mutex    // one worker pass at a time (Run, Wait)
	keyMu  sync.Mutex
	key    []byte // the suppression list's hash key, read once
}

// New returns a Service. It parses the transactional mails' templates and
// renders them once with sample data, so a broken one fails at start.
func New(opt Options) (*Service, error) {
	if opt.Config == nil || opt.Store == nil || opt.Content == nil {
		return nil, errors.New("subscription: New needs a config and stores")
	}
	if opt.Intake == nil {
		opt.Intake, _ = opt.Store.(IntakeStore)
	}
	if opt.Mails == nil {
		opt.Mails, _ = opt.Store.(MailStore)
	}
	if opt.Suppressions == nil {
		opt.Suppressions, _ = opt.Store.(SuppressionStore)
	}
	if opt.Leases == nil {
		opt.Leases, _ = opt.Store.(lease.Store)
	}
	if opt.Privacy == nil {
		opt.Privacy, _ = opt.Store.(PrivacyStore)
	}
	if opt.Undo == nil {
		opt.Undo, _ = opt.Store.(UndoStore)
	}
	if opt.Intake == nil || opt.Mails == nil || opt.Suppressions == nil || opt.Leases == nil {
		return nil, errors.New("subscription: New needs an intake, a mail queue, a suppression store and leases")
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
	if opt.Backoff == nil {
		opt.Backoff = backoff
	}
	signer, err := token.NewSigner([]byte(opt.Config.Secret), opt.Now, []byte(opt.Config.SecretPrevious))
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: opt.Config, opt: opt, store: opt.Store, intake: opt.Intake, queue: opt.Mails, supp: opt.Suppressions, cont: opt.Content,
		mailer: opt.Mailer, log: opt.Log, now: opt.Now, tokens: signer, nudge: make(chan struct{}, 1),
		leases: lease.New(opt.Leases, lease.Options{Log: opt.Log})}
	if s.mail, err = newMails(opt.Config); err != nil {
		return nil, err
	}
	return s, nil
}

// backoff is 30s doubling per attempt up to 30m.
func backoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

// suppressionKey reads the suppression list's hash key once.
func (s *Service) suppressionKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key == nil {
		k, err := s.supp.SuppressionKey(ctx)
		if err != nil {
			return nil, err
		}
		s.key = k
	}
	return s.key, nil
}

// suppressions returns the suppression list's entries that match address,
// and whether one of them blocks it for good (a complaint, an operator's
// entry: a double opt-in does not lift them).
func (s *Service) suppressions(ctx context.Context, address model.Address) ([]model.Suppression, bool, error) {
	key, err := s.suppressionKey(ctx)
	if err != nil {
		return nil, false, err
	}
	sps, err := s.supp.SuppressionsOf(ctx, key, address)
	if err != nil {
		return nil, false, err
	}
	for _, sp := range sps {
		if !sp.Lifted() {
			return sps, true, nil
		}
	}
	return sps, false, nil
}

// Tokens is the signer for links in mail.
func (s *Service) Tokens() *token.Signer { return s.tokens }

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

// MaxNameLen is the most characters of a subscriber's name herald keeps.
const MaxNameLen = 200

// cleanName makes a name typed by a reader (or a CSV cell) safe to store
// and show: one line, no invisible format characters (a right-to-left
// override would reverse what follows it wherever the name is shown), at
// most MaxNameLen characters.
func cleanName(s string) string {
	name := sanitize.Line(model.StripFormat(s))
	if r := []rune(name); len(r) > MaxNameLen {
		name = string(r[:MaxNameLen])
	}
	return name
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
