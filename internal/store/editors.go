package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// ErrEditorExists is returned when an editor with that address exists.
var ErrEditorExists = &model.Error{Code: model.ECONFLICT, Message: "an editor with that address exists"}

const editorCols = `id, email, name, role, timezone, password_hash, session_gen, created_at, last_login_at`

func scanEditor(sc scanner) (model.Editor, error) {
	var (
		e       model.Editor
		created int64
		login   sql.NullInt64
	)
	if err := sc.Scan(&e.ID, &e.Email, &e.Name, &e.Role, &e.Timezone, &e.PasswordHash, &e.SessionGen, &created, &login); err != nil {
		return e, err
	}
	e.CreatedAt = time.Unix(created, 0).UTC()
	if login.Valid {
		e.LastLoginAt = time.Unix(login.Int64, 0).UTC()
	}
	return e, nil
}

// AddEditor creates an editor account; ErrEditorExists when the address
// has one.
func (s *Store) AddEditor(ctx context.Context, e model.Editor) (model.Editor, error) {
	now := s.Now().Unix()
	res, err := s.W.ExecContext(ctx, `INSERT INTO editors (email, name, role, timezone, password_hash, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.Email, e.Name, e.Role, e.Timezone, e.PasswordHash, now, now)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return e, fmt.Errorf("store: add editor %s: %w", e.Email, ErrEditorExists.With("an editor %s exists", e.Email))
		}
		return e, fmt.Errorf("store: add editor %s: %w", e.Email, err)
	}
	id, _ := res.LastInsertId()
	return s.EditorByID(ctx, id)
}

// EditorByEmail returns the editor with that address, or ErrNotFound.
func (s *Store) EditorByEmail(ctx context.Context, email model.Address) (model.Editor, error) {
	return s.editor(ctx, `email = ?`, email)
}

// EditorByID returns one editor, or ErrNotFound.
func (s *Store) EditorByID(ctx context.Context, id int64) (model.Editor, error) {
	return s.editor(ctx, `id = ?`, id)
}

func (s *Store) editor(ctx context.Context, where string, arg any) (model.Editor, error) {
	e, err := scanEditor(s.R.QueryRowContext(ctx, `SELECT `+editorCols+` FROM editors WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("store: editor %v: %w", arg, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("store: editor %v: %w", arg, err)
	}
	return e, nil
}

// Editors lists every editor by address.
func (s *Store) Editors(ctx context.Context) ([]model.Editor, error) {
	out, err := queryRows(ctx, s.R, `SELECT `+editorCols+` FROM editors ORDER BY email`, scanEditor)
	if err != nil {
		return nil, fmt.Errorf("store: list editors: %w", err)
	}
	return out, nil
}

// RemoveEditor deletes an editor account (their sessions stop working:
// the session check finds no editor); ErrNotFound when there is none.
func (s *Store) RemoveEditor(ctx context.Context, id int64) error {
	res, err := s.W.ExecContext(ctx, `DELETE FROM editors WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: remove editor %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: remove editor %d: %w", id, ErrNotFound)
	}
	return nil
}

// SetEditorPassword stores a new password hash and moves the editor to a
// new session generation, so every session made before stops working.
func (s *Store) SetEditorPassword(ctx context.Context, id int64, hash string) (model.Editor, error) {
	res, err := s.W.ExecContext(ctx, `UPDATE editors SET password_hash = ?, session_gen = session_gen + 1, updated_at = ? WHERE id = ?`,
		hash, s.Now().Unix(), id)
	if err != nil {
		return model.Editor{}, fmt.Errorf("store: set password of editor %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return model.Editor{}, fmt.Errorf("store: set password of editor %d: %w", id, ErrNotFound)
	}
	return s.EditorByID(ctx, id)
}

// EditorLoggedIn records a successful login.
func (s *Store) EditorLoggedIn(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.W.ExecContext(ctx, `UPDATE editors SET last_login_at = ? WHERE id = ?`, at.Unix(), id); err != nil {
		return fmt.Errorf("store: editor %d logged in: %w", id, err)
	}
	return nil
}

// SetEditorTimezone sets the zone an editor reads times in ("" for UTC).
func (s *Store) SetEditorTimezone(ctx context.Context, id int64, zone string) error {
	res, err := s.W.ExecContext(ctx, `UPDATE editors SET timezone = ?, updated_at = ? WHERE id = ?`, zone, s.Now().Unix(), id)
	if err != nil {
		return fmt.Errorf("store: set timezone of editor %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: set timezone of editor %d: %w", id, ErrNotFound)
	}
	return nil
}
