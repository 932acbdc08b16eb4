// Package model holds herald's domain types: the content the CMS writes
// (Article, Section, Author) and herald's own mailing records (Subscriber,
// Subscription, Edition, Delivery). It imports only the standard library so
// every other package can depend on it.
package model

import (
	"regexp"
	"time"
)

// slugRE is design.md's slug rule: a URL path segment, lower case.
var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// MaxSlugLen bounds a slug so it stays a sane file name on every file system.
const MaxSlugLen = 200

// ValidSlug reports whether s may name a feed of its own.
func ValidSlug(s string) bool {
	return len(s) <= MaxSlugLen && slugRE.MatchString(s)
}

// ValidName reports whether s may name a digest or a digest's template: a
// short name of letters, digits, '-' or '_', safe in a file name.
func ValidName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Article status values.
const (
	StatusPublished = "published"
	StatusDraft     = "draft"
	StatusRetracted = "retracted"
)

// Section is a part of the site (World News, Sport) with feeds of its own.
type Section struct {
	ID          int64
	Slug        string
	Name        string
	Description string
}

// Author writes articles; an article may carry several (co-bylines).
type Author struct {
	ID        int64
	Slug      string
	Name      string
	Email     string
	Bio       string
	URL       string
	AvatarURL string
}

// Article is one published piece as herald reads it from the content tables.
// Text fields are valid UTF-8 once read through the store; URLs and HTML are
// as the CMS wrote them until passed through package sanitize.
type Article struct {
	ID          int64
	GUID        string
	URL         string
	Title       string
	Summary     string // HTML once cleaned
	SummaryText string // plain text, set by package sanitize
	BodyHTML    string
	ImageURL    string
	Status      string
	PublishedAt time.Time
	UpdatedAt   time.Time // zero when the CMS left it NULL or unreadable
	Section     Section
	Authors     []Author // in byline (position) order; may be empty
}

// Modified is the article's last change: UpdatedAt when set and later than
// PublishedAt, else PublishedAt.
func (a *Article) Modified() time.Time {
	if a.UpdatedAt.After(a.PublishedAt) {
		return a.UpdatedAt
	}
	return a.PublishedAt
}

// Subscriber status values.
const (
	SubscriberPending    = "pending"
	SubscriberActive     = "active"
	SubscriberBounced    = "bounced"    // the address does not exist (a hard bounce, or too many soft ones)
	SubscriberComplained = "complained" // marked our mail as spam
	SubscriberErased     = "erased"     // asked to be forgotten: no personal data left
)

// Subscription status values.
const (
	SubscriptionActive       = "active"
	SubscriptionUnsubscribed = "unsubscribed"
)

// Subscriber is one email address.
type Subscriber struct {
	ID          int64
	Email       Address
	Name        string
	Status      string
	Timezone    string // IANA name; "" when unknown (the digest's timezone applies)
	CreatedAt   time.Time
	ConfirmedAt time.Time
}

// Subscription ties a subscriber to one digest, with optional follows. No
// follows means everything.
type Subscription struct {
	ID           int64
	SubscriberID int64
	Digest       string
	Status       string
	Sections     []string // followed section slugs
	Authors      []string // followed author slugs
}

// FollowsAll reports whether the subscription follows everything.
func (s *Subscription) FollowsAll() bool { return len(s.Sections) == 0 && len(s.Authors) == 0 }

// Edition status values.
const (
	EditionPlanning  = "planning"
	EditionSending   = "sending"
	EditionDone      = "done"
	EditionCancelled = "cancelled"
)

// Edition kinds.
const (
	EditionScheduled = "scheduled"
	EditionManual    = "manual"
)

// Edition is one run of one digest.
type Edition struct {
	ID         int64
	Digest     string
	Kind       string
	Slot       string // scheduled editions: the local wall-clock slot, e.g. 2026-11-26T07:00 Europe/London
	Zone       string // delivery: local: the zone group whose slot this is ("" otherwise)
	Cutoff     time.Time
	Since      time.Time
	Sections   []string // send-now --section filter
	Authors    []string // send-now --author filter
	Status     string
	CreatedAt  time.Time
	FinishedAt time.Time
	Counts     map[string]int // deliveries by status, when loaded
}

// Delivery status values.
const (
	DeliveryPending   = "pending"
	DeliverySent      = "sent"
	DeliveryFailed    = "failed"
	DeliverySkipped   = "skipped"
	DeliveryCancelled = "cancelled"
)

// Delivery is one subscriber's message in one edition.
type Delivery struct {
	ID             int64
	EditionID      int64
	SubscriberID   int64
	SubscriptionID int64
	Email          Address
	Name           string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	LastReply      string
	MessageID      string
	SentAt         time.Time
	ArticleIDs     []int64
	Relay          string // the relay of the last attempt (host:port), "" before any
}

// ArticleQuery selects published articles for a feed or a listing.
type ArticleQuery struct {
	SectionID int64 // 0: every section
	AuthorID  int64 // 0: every author
	Limit     int   // 0: no limit
}

// FeedMembers says which articles each feed holds: the ids of its newest
// published articles, newest first (ties by id, highest first).
type FeedMembers struct {
	All      []int64
	Sections map[int64][]int64 // by section id
	Authors  map[int64][]int64 // by author id
}

// ChangeSet is the set of feeds touched by a run of recorded content changes.
type ChangeSet struct {
	All      bool
	Sections map[int64]bool // section ids
	Authors  map[int64]bool // author ids
	LastID   int64          // the highest change id read; pass it as "after" next time
	// Archive pages: the first-seen keys of changed articles (the pages
	// holding them change), and ArchiveAll when every page of the touched
	// feeds does (a section or author renamed).
	ArchiveKeys map[int64]bool
	ArchiveAll  bool
}

// ArchiveKey is an article's place in a feed's first-seen order (archive
// pages): its visible-since time, ties by id.
type ArchiveKey struct {
	Key int64 // unix seconds
	ID  int64
}

// Less orders keys.
func (k ArchiveKey) Less(o ArchiveKey) bool { return k.Key < o.Key || (k.Key == o.Key && k.ID < o.ID) }

// ArchiveQuery selects a range of one feed's first-seen order.
type ArchiveQuery struct {
	SectionID int64      // with AuthorID 0: the whole site
	AuthorID  int64      //
	After     ArchiveKey // exclusive; zero: from the first
	Through   ArchiveKey // inclusive; zero: to the last
}

// Empty reports whether no feed was touched.
func (c ChangeSet) Empty() bool { return !c.All && len(c.Sections) == 0 && len(c.Authors) == 0 }

// Header is one extra mail header. Values are plain text; the mailer encodes
// them and refuses any containing CR or LF.
type Header struct {
	Name, Value string
}

// Message is one composed email, independent of how it is sent: the digest
// package composes it, the mailer turns it into MIME and delivers it.
type Message struct {
	MessageID string // "<local@domain>", stable across retries of one delivery
	Date      time.Time
	From      string // "Name <addr>" as in smtp.from
	// ReturnPath is the envelope sender (SMTP MAIL FROM), where bounces
	// go: a VERP address naming this message when bounces.address is set;
	// empty means From's address.
	ReturnPath Address
	ReplyTo    string // optional
	ToAddr     Address
	ToName     string
	Subject    string
	Text       string // text/plain part
	HTML       string // text/html part (CSS inlined)
	Headers    []Header
	// Body, when set, is what Text and HTML were filled from: templates
	// many messages share, with this message's values. A mailer may encode
	// the shared text once per template instead of Text and HTML for every
	// message; the message on the wire is the same byte for byte. For a
	// mailer that says it composes from Body (digest.BodyMailer), Text and
	// HTML may be left empty.
	Body *Body
}

// SendOutcome classifies one delivery attempt.
type SendOutcome int

// Outcomes.
const (
	Accepted  SendOutcome = iota + 1 // the server took the message
	Temporary                        // 4xx, network error, timeout: retry later
	Permanent                        // 5xx: do not retry
)

func (o SendOutcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	}
	return "unknown"
}

// SendResult is what the mailer says about one message.
type SendResult struct {
	Outcome   SendOutcome
	Code      int    // SMTP reply code, 0 when none (network error)
	Enhanced  string // enhanced status code such as "5.1.1", when given
	Reply     string // the server's reply or the error, one line
	Bounce    bool   // a permanent 5.1.x: the address does not exist
	Ambiguous bool   // the connection was lost after the message data was sent: it may have been delivered
	Relay     string // the relay that gave this result (host:port; "file" for the file transport), "" when none was tried
}
