package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LastSlot returns the last scheduled slot recorded as run for digest: its
// local wall-clock key and the instant it ran for. A digest with no recorded
// slot gives "" and the zero time.
func (s *Store) LastSlot(ctx context.Context, digest string) (string, time.Time, error) {
	var (
		key string
		at  int64
	)
	err := s.W.QueryRowContext(ctx, `SELECT slot, slot_at FROM schedule_slots WHERE digest = ?`, digest).Scan(&key, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: last slot of digest %q: %w", digest, err)
	}
	return key, time.Unix(at, 0).UTC(), nil
}

// RecordSlot records that the slot key of digest, due at slotAt, ran at
// ranAt. The record never goes backwards: a slot earlier than the one
// already recorded leaves the row as it is.
func (s *Store) RecordSlot(ctx context.Context, digest, key string, slotAt, ranAt time.Time) error {
	_, err := s.W.ExecContext(ctx, `INSERT INTO schedule_slots (digest, slot, slot_at, ran_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (digest) DO UPDATE SET slot = excluded.slot, slot_at = excluded.slot_at, ran_at = excluded.ran_at
		WHERE excluded.slot_at >= schedule_slots.slot_at`,
		digest, key, slotAt.Unix(), ranAt.Unix())
	if err != nil {
		return fmt.Errorf("store: record slot %q of digest %q: %w", key, digest, err)
	}
	return nil
}
