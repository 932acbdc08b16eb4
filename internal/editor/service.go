package editor

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
)

// Store is what accounts and the audit log need; internal/store implements it.
type Store interface {
	AddEditor(ctx context.Context, e model.Editor) (model.Editor, error)
	EditorByEmail(ctx context.Context, email model.Address) (model.Editor, error)
	EditorByID(ctx context.Context, id int64) (model.Editor, error)
	Editors(ctx context.Context) ([]model.Editor, error)
	RemoveEditor(ctx context.Context, id int64) error
	SetEditorPassword(ctx context.Context, id int64, hash string) (model.Editor, error)
	EditorLoggedIn(ctx context.Context, id int64, at time.Time) error
	SetEditorTimezone(ctx context.Context, id int64, zone string) error
	RecordAudit(ctx context.Context, e model.AuditEntry) error
	AuditLog(ctx context.Context, since time.Time, before int64, limit int) ([]model.AuditEntry, error)
}

// Errors.
var (
	// ErrBadLogin: the address has no account or the password is wrong;
	// one error, one message, so a login form tells nobody which.
	ErrBadLogin = &model.Error{Code: model.EINVALID, Message: "That email and password do not match an editor account."}
	// ErrWrongPassword: the current password given to change it is wrong.
	ErrWrongPassword = &model.Error{Code: model.EINVALID, Message: "the current password is not right"}
	// ErrBadRole: a role other than editor or admin.
	ErrBadRole = &model.Error{Code: model.EINVALID, Message: "the role must be editor or admin"}
	// ErrLastAdmin: removing the only admin would leave nobody to manage editors.
	ErrLastAdmin = &model.Error{Code: model.ECONFLICT, Message: "that is the last admin; add another admin first"}
)

// Actor is who does something: an editor in the web UI, or the command line.
type Actor struct {
	EditorID int64
	Name     string // the editor's address, or "cli"
	Client   string // the client address (web)
}

// CLI is the command line as an actor.
var CLI = Actor{Name: "cli"}

// ActorOf is the editor e acting from client.
func ActorOf(e model.Editor, client string) Actor {
	return Actor{EditorID: e.ID, Name: string(e.Email), Client: client}
}

// Service manages editor accounts and the audit log.
type Service struct {
	store Store
	now   func() time.Time
	log   *slog.Logger

	dummyOnce sync.Once
	dummy     string // a hash verified for unknown addresses
}

// New returns a Service over st; now and log may be nil.
func New(st Store, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: st, now: now, log: log}
}

// NewAccount is an account to add.
type NewAccount struct {
	Email, Name, Role, Timezone, Password string
}

// Add creates an account and records it in the audit log.
func (s *Service) Add(ctx context.Context, a NewAccount, by Actor) (model.Editor, error) {
	addr, err := model.ParseAddress(a.Email)
	if err != nil {
		return model.Editor{}, err
	}
	if a.Role == "" {
		a.Role = model.RoleEditor
	}
	if a.Role != model.RoleEditor && a.Role != model.RoleAdmin {
		return model.Editor{}, ErrBadRole
	}
	if err := checkZone(a.Timezone); err != nil {
		return model.Editor{}, err
	}
	if err := CheckPassword(a.Password); err != nil {
		return model.Editor{}, err
	}
	hash, err := HashPassword(a.Password)
	if err != nil {
		return model.Editor{}, err
	}
	e, err := s.store.AddEditor(ctx, model.Editor{Email: addr, Name: sanitize.Line(a.Name), Role: a.Role, Timezone: a.Timezone, PasswordHash: hash})
	if err != nil {
		return e, err
	}
	s.Record(ctx, by, "editor_add", string(addr), "role="+e.Role)
	return e, nil
}

// Remove deletes the account of email (never the last admin).
func (s *Service) Remove(ctx context.Context, email string, by Actor) error {
	e, err := s.byEmail(ctx, email)
	if err != nil {
		return err
	}
	if e.IsAdmin() {
		all, err := s.store.Editors(ctx)
		if err != nil {
			return err
		}
		admins := 0
		for _, x := range all {
			if x.IsAdmin() {
				admins++
			}
		}
		if admins <= 1 {
			return ErrLastAdmin
		}
	}
	if err := s.store.RemoveEditor(ctx, e.ID); err != nil {
		return err
	}
	s.Record(ctx, by, "editor_remove", string(e.Email), "")
	return nil
}

// SetPassword gives the account of email a new password; every session
// made before stops working.
func (s *Service) SetPassword(ctx context.Context, email, password string, by Actor) (model.Editor, error) {
	e, err := s.byEmail(ctx, email)
	if err != nil {
		return e, err
	}
	if err := CheckPassword(password); err != nil {
		return e, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return e, err
	}
	if e, err = s.store.SetEditorPassword(ctx, e.ID, hash); err != nil {
		return e, err
	}
	s.Record(ctx, by, "editor_passwd", string(e.Email), "every session ended")
	return e, nil
}

// ChangePassword is an editor changing their own password: the current
// one must match. Every session made before stops working.
func (s *Service) ChangePassword(ctx context.Context, id int64, current, password string, by Actor) (model.Editor, error) {
	e, err := s.store.EditorByID(ctx, id)
	if err != nil {
		return e, err
	}
	if ok, err := VerifyPassword(e.PasswordHash, current); err != nil || !ok {
		return e, ErrWrongPassword
	}
	return s.SetPassword(ctx, string(e.Email), password, by)
}

// SetTimezone sets the zone the editor with id reads times in ("" for UTC).
func (s *Service) SetTimezone(ctx context.Context, id int64, zone string) error {
	zone = strings.TrimSpace(zone)
	if err := checkZone(zone); err != nil {
		return err
	}
	return s.store.SetEditorTimezone(ctx, id, zone)
}

// checkZone refuses a zone that does not load.
func checkZone(zone string) error {
	if zone == "" {
		return nil
	}
	if _, err := time.LoadLocation(zone); err != nil || strings.EqualFold(zone, "local") {
		return (&model.Error{Code: model.EINVALID}).With("unknown timezone %q: use an IANA name such as Europe/London", zone)
	}
	return nil
}

// List returns every account.
func (s *Service) List(ctx context.Context) ([]model.Editor, error) { return s.store.Editors(ctx) }

// Editor returns the account with id (ENOTFOUND when removed).
func (s *Service) Editor(ctx context.Context, id int64) (model.Editor, error) {
	return s.store.EditorByID(ctx, id)
}

func (s *Service) byEmail(ctx context.Context, email string) (model.Editor, error) {
	addr, err := model.ParseAddress(email)
	if err != nil {
		return model.Editor{}, err
	}
	e, err := s.store.EditorByEmail(ctx, addr)
	if model.ErrorCode(err) == model.ENOTFOUND {
		return e, (&model.Error{Code: model.ENOTFOUND}).With("no editor %s", addr)
	}
	return e, err
}

// Authenticate checks an address and password. An unknown address costs
// the same hash as a known one and fails with the same ErrBadLogin.
func (s *Service) Authenticate(ctx context.Context, email, password string, client string) (model.Editor, error) {
	addr, perr := model.ParseAddress(email)
	var e model.Editor
	err := perr
	if perr == nil {
		e, err = s.store.EditorByEmail(ctx, addr)
	}
	if err != nil && model.ErrorCode(err) != model.ENOTFOUND && model.ErrorCode(err) != model.EINVALID {
		return model.Editor{}, err
	}
	hash := e.PasswordHash
	if err != nil || len(password) > MaxPassword {
		hash = s.dummyHash()
	}
	ok, verr := VerifyPassword(hash, password)
	if err != nil || verr != nil || !ok || len(password) > MaxPassword {
		if verr != nil && err == nil {
			s.log.Warn("editor password hash unreadable", "editor", e.ID, "err", verr)
		}
		// Recorded either way, so an unknown address costs what a known
		// one does; the typed address is cut to an address's length.
		typed := email
		if len(typed) > 254 {
			typed = typed[:254]
		}
		s.Record(ctx, Actor{EditorID: e.ID, Name: typed, Client: client}, "login_failed", typed, "")
		return model.Editor{}, ErrBadLogin
	}
	if err := s.store.EditorLoggedIn(ctx, e.ID, s.now()); err != nil {
		return model.Editor{}, err
	}
	e.LastLoginAt = s.now()
	s.Record(ctx, ActorOf(e, client), "login", string(e.Email), "")
	return e, nil
}

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := HashPassword("no account has this password")
		if err != nil {
			h = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		}
		s.dummy = h
	})
	return s.dummy
}

// Record appends to the audit log; a failure is logged, not returned: the
// action it records has happened.
func (s *Service) Record(ctx context.Context, by Actor, action, target, detail string) {
	e := model.AuditEntry{At: s.now(), EditorID: by.EditorID, Actor: sanitize.Line(by.Name), Action: action,
		Target: sanitize.Line(target), Detail: strings.TrimSpace(sanitize.Line(detail)), Client: by.Client}
	if err := s.store.RecordAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("audit log write failed", "action", action, "err", err)
	}
}

// Audit returns a page of the audit log, newest first.
func (s *Service) Audit(ctx context.Context, since time.Time, before int64, limit int) ([]model.AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		return nil, fmt.Errorf("editor: audit page of %d entries: want 1 to 1000", limit)
	}
	return s.store.AuditLog(ctx, since, before, limit)
}
