package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// FeedState returns the recorded SHA-256 (hex) of the feed at path and when
// its bytes last changed. A feed never recorded gives "" and the zero time.
// It reads through the reader pool, so serving a feed never waits for the
// single writer connection (busy with a digest commit, or queued behind a
// CMS write); in WAL mode a reader sees every committed SaveFeedState.
func (s *Store) FeedState(ctx context.Context, path string) (string, time.Time, error) {
	var (
		sum string
		mod int64
	)
	err := s.R.QueryRowContext(ctx, `SELECT sha256, modified_at FROM feed_state WHERE path = ?`, path).Scan(&sum, &mod)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: feed state %q: %w", path, err)
	}
	return sum, time.Unix(mod, 0).UTC(), nil
}

// SaveFeedState records the feed at path as having bytes with SHA-256 sum,
// changed at modified. The stored time never goes backwards: the later of
// the recorded and the given time is kept and returned.
func (s *Store) SaveFeedState(ctx context.Context, path, sum string, modified time.Time) (time.Time, error) {
	var mod int64
	err := s.W.QueryRowContext(ctx, `INSERT INTO feed_state (path, sha256, modified_at) VALUES (?, ?, ?)
		ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256,
			modified_at = max(feed_state.modified_at, excluded.modified_at)
		RETURNING modified_at`, path, sum, modified.Unix()).Scan(&mod)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: save feed state %q: %w", path, err)
	}
	return time.Unix(mod, 0).UTC(), nil
}
