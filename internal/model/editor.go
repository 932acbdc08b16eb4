package model

import "time"

// Editor roles: an editor may preview, send, cancel and resume; an admin may
// also manage editors and subscribers.
const (
	RoleEditor = "editor"
	RoleAdmin  = "admin"
)

// Editor is an account of the editors' web UI.
type Editor struct {
	ID    int64
	Email Address
	Name  string
	Role  string
	// Timezone is the zone the dashboard shows times in ("" for UTC).
	Timezone string
	// PasswordHash is the argon2id hash in PHC form; never shown or logged.
	PasswordHash string
	// SessionGen changes with the password: a session made under another
	// generation is no longer valid.
	SessionGen  int64
	CreatedAt   time.Time
	LastLoginAt time.Time // zero: never
}

// IsAdmin reports whether the editor has the admin role.
func (e Editor) IsAdmin() bool { return e.Role == RoleAdmin }

// AuditEntry is one line of the audit log: who did what, when.
type AuditEntry struct {
	ID       int64
	At       time.Time
	EditorID int64  // 0: the command line
	Actor    string // the editor's address at the time, or "cli"
	Action   string // login, send_now, cancel, resume, import, editor_add, ...
	Target   string // what it acted on: an edition, a digest, an address
	Detail   string // the parameters, as text
	Client   string // the client address, for web actions
}

// SubscriberQuery selects a page of subscribers, newest first.
type SubscriberQuery struct {
	Email  string // a case-insensitive prefix of the address ("" for any)
	Status string // "" for any
	Digest string // only subscribers with an active subscription to it ("" for any)
	Before int64  // keyset cursor: ids below this (0: from the newest)
	Limit  int
}

// DeliveryRecord is a delivery with the edition it belongs to, for a
// subscriber's history.
type DeliveryRecord struct {
	Delivery
	Digest    string
	Kind      string
	CreatedAt time.Time // the edition's
}
