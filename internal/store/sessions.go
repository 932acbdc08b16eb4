package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Sessions is the editors' web session store, backing
// github.com/alexedwards/scs/v2 (its Store and CtxStore interfaces) with
// herald's own database. Tokens arrive hashed (scs's HashTokenInStore).
// Expiry is compared with the wall clock, the clock scs computes it with
// (not the store's Now, which tests move): internal/server/admin checks
// the idle and absolute timeouts again with its own clock.
type Sessions struct{ s *Store }

// Sessions returns the session store over this database.
func (s *Store) Sessions() *Sessions { return &Sessions{s: s} }

// FindCtx returns a session's data; found is false when there is none or
// it has expired.
func (ss *Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := ss.s.R.QueryRowContext(ctx, `SELECT data FROM editor_sessions WHERE token = ? AND expiry > ?`,
		token, time.Now().Unix()).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: find session: %w", err)
	}
	return b, true, nil
}

// CommitCtx stores a session's data until expiry, replacing what was there.
func (ss *Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := ss.s.W.ExecContext(ctx, `INSERT INTO editor_sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, token, b, expiry.Unix())
	if err != nil {
		return fmt.Errorf("store: commit session: %w", err)
	}
	return nil
}

// DeleteCtx removes a session (logging out ends it here, not only in the
// browser); a missing one is no error.
func (ss *Sessions) DeleteCtx(ctx context.Context, token string) error {
	if _, err := ss.s.W.ExecContext(ctx, `DELETE FROM editor_sessions WHERE token = ?`, token); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Find is FindCtx without a context.
func (ss *Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context.
func (ss *Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context.
func (ss *Sessions) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}

// DeleteExpired removes the sessions that have expired and reports how many.
func (ss *Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := ss.s.W.ExecContext(ctx, `DELETE FROM editor_sessions WHERE expiry <= ?`, time.Now().Unix())
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}
