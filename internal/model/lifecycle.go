package model

import "time"

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
