package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
)

// Setting returns a stored setting, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.W.QueryRowContext(ctx, `SELECT value FROM herald_settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: setting %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %q: %w", key, err)
	}
	return v, nil
}

// GeneratedSecret returns the token-signing key herald generated on first
// start, creating and storing a random 32-byte key if there is none yet.
func (s *Store) GeneratedSecret(ctx context.Context) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: generate secret: %w", err)
	}
	// INSERT OR IGNORE keeps the first key when two processes race.
	if _, err := s.W.ExecContext(ctx, `INSERT OR IGNORE INTO herald_settings (key, value) VALUES ('secret', ?)`,
		hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("store: store secret: %w", err)
	}
	return s.Setting(ctx, "secret")
}
