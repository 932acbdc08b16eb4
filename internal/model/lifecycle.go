package model

import (
	"strconv"
	"time"
)

// Intake is one POST /subscribe as the request path recorded it, waiting
// for the subscription worker: the request path does the same work
// whatever the address's state, the worker applies the rules.
type Intake struct {
	ID        int64
	Email     Address
	Name      string
	Digest    string
	Sections  []string
	Authors   []string
	Timezone  string
	CreatedAt time.Time
}

// Transactional mail kinds.
const (
	MailConfirm     = "confirm"     // double opt-in of a new, pending, bounced or erased address
	MailResubscribe = "resubscribe" // double opt-in of an active reader's unsubscribed digest
	MailManage      = "manage"      // a link to the preferences page, for a reader already subscribed
)

// Mail is one transactional message in the mail queue, sent with the
// outbox's promise (at least once, retried with backoff).
type Mail struct {
	ID             int64
	Kind           string
	SubscriberID   int64
	SubscriptionID int64 // resubscribe: the subscription its link names
	To             Address
	Status         string // a Delivery status: pending, sent, failed, cancelled
	Attempts       int
	NextAttemptAt  time.Time
	LastReply      string
	MessageID      string
	CreatedAt      time.Time
	SentAt         time.Time
}

// Suppression reasons.
const (
	SuppressedBounced    = "bounced"    // the subscriber's status
	SuppressedComplained = "complained" // the subscriber's status
	SuppressedErased     = "erased"     // the keyed hash an erased address leaves
	SuppressedOperator   = "operator"   // herald suppressions add
)

// Suppression is one entry of the suppression list: an address, a domain
// ("@example.com") or an erased address's hash ("#…").
type Suppression struct {
	Entry     string
	Reason    string
	Note      string
	CreatedAt time.Time
	// SubscriberID names the subscriber of a bounced or complained entry
	// (0 for the table's own entries), when the query reads it.
	SubscriberID int64
}

// SuppressionQuery selects a page of the suppression list's entries of one
// reason: operator and erased entries in entry order, bounced and
// complained subscribers most recently changed first.
type SuppressionQuery struct {
	Reason string // SuppressedOperator, SuppressedErased, SuppressedBounced or SuppressedComplained
	After  string // keyset cursor: the previous page's last entry's Cursor() ("" for the first page)
	Limit  int
}

// Cursor is where the page after s starts (SuppressionQuery.After): the
// entry itself, or for a subscriber's status its change time and id.
func (s Suppression) Cursor() string {
	if s.SubscriberID != 0 {
		return strconv.FormatInt(s.CreatedAt.Unix(), 10) + "." + strconv.FormatInt(s.SubscriberID, 10)
	}
	return s.Entry
}

// Lifted reports whether a completed double opt-in lifts the entry
// (bounced and erased do; complained and operator entries only go with
// `herald suppressions remove`).
func (s Suppression) Lifted() bool {
	return s.Reason == SuppressedBounced || s.Reason == SuppressedErased
}

// SentItem is one message herald sent, or tried to send, a subscriber: a
// digest delivery or a transactional mail (for "download my data").
type SentItem struct {
	Kind       string    // the digest's name, or the transactional mail's kind
	Status     string    // a Delivery status
	At         time.Time // sent, or planned when not sent
	MessageID  string
	ArticleIDs []int64
}

// Kinds of what came back after a message left (bounce events).
const (
	ReportHard        = "hard"        // the address does not exist
	ReportSoft        = "soft"        // this message failed; counted against the address
	ReportComplaint   = "complaint"   // the reader marked the message as spam
	ReportSender      = "sender"      // blames the sender or the relay, never the address
	ReportUnsubscribe = "unsubscribe" // a mail to the List-Unsubscribe mailto
)

// BounceEvent is one report recorded against a delivery or a transactional
// mail (or, matched by address only, a subscriber).
type BounceEvent struct {
	ID             int64
	DeliveryID     int64 // 0: none
	MailID         int64 // 0: none
	EditionID      int64 // the delivery's edition, 0 for transactional mail
	SubscriberID   int64
	SubscriptionID int64 // for an unsubscribe by mail
	Kind           string
	Status         string // RFC 3463, such as 5.1.1
	Diagnostic     string
	Source         string // smtp, pipe, imap, webhook:ses...
	CreatedAt      time.Time
}

// SentMessage is a message herald sent: a digest delivery or a
// transactional mail, with its subscriber.
type SentMessage struct {
	DeliveryID, MailID, EditionID int64
	SubscriberID, SubscriptionID  int64
	Email                         Address
}

// What a report does to a subscriber (store.RecordReport applies it).
const (
	EffectNone        = ""            // recorded only
	EffectBounced     = "bounced"     // the subscriber becomes bounced
	EffectComplained  = "complained"  // complained: every subscription ends
	EffectUnsubscribe = "unsubscribe" // the event's subscription ends
)
