package store

import (
	"context"
	"fmt"
	"github.com/heraldnews/herald/internal/model"
	"strconv"
	"strings"
	"time"
)

// Change is one recorded content change: which feed it touches.
type Change struct {
	ID        int64
	Feed      string // "all", "section:<id>" or "author:<id>"
	ChangedAt time.Time
}

// ChangeSet is model.ChangeSet.
type ChangeSet = model.ChangeSet

// LastChangeID is the id of the newest recorded change (0 when none).
func (s *Store) LastChangeID(ctx context.Context) (int64, error) {
	var id int64
	err := s.R.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM herald_changes`).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: last change id: %w", err)
	}
	return id, nil
}

// ChangesSince collects the feeds touched by changes with id > after.
func (s *Store) ChangesSince(ctx context.Context, after int64) (ChangeSet, error) {
	cs := ChangeSet{Sections: map[int64]bool{}, Authors: map[int64]bool{}, ArchiveKeys: map[int64]bool{}, LastID: after}
	err := eachRow(ctx, s.R, `SELECT max(id), feed FROM herald_changes WHERE id > ? GROUP BY feed`, func(sc scanner) error {
		var id int64
		var feed string
		if err := sc.Scan(&id, &feed); err != nil {
			return err
		}
		cs.LastID = max(cs.LastID, id)
		kind, ref, _ := strings.Cut(feed, ":")
		n, _ := strconv.ParseInt(ref, 10, 64)
		switch kind {
		case "all":
			cs.All = true
		case "section":
			cs.Sections[n] = true
		case "author":
			cs.Authors[n] = true
		case "archive":
			if ref == "*" {
				cs.ArchiveAll = true
			} else {
				cs.ArchiveKeys[n] = true
			}
		}
		return nil
	}, after)
	if err != nil {
		return cs, fmt.Errorf("store: changes since %d: %w", after, err)
	}
	return cs, nil
}

// PruneChanges deletes recorded changes older than before, keeping the
// newest row so ids keep growing (AUTOINCREMENT also guarantees that).
func (s *Store) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.W.ExecContext(ctx, `DELETE FROM herald_changes WHERE changed_at < ?
		AND id < (SELECT max(id) FROM herald_changes)`, before.Unix())
	if err != nil {
		return 0, fmt.Errorf("store: prune changes: %w", err)
	}
	return res.RowsAffected()
}

// NextEmbargo is the earliest published_at still in the future among
// published articles (zero when none): the moment feeds must refresh
// although no row changed.
func (s *Store) NextEmbargo(ctx context.Context) (time.Time, error) {
	var ts *int64
	err := s.R.QueryRowContext(ctx, `SELECT min(unixepoch(published_at)) FROM articles
		WHERE status = 'published' AND unixepoch(published_at) > ?`, s.Now().Unix()).Scan(&ts)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: next embargo: %w", err)
	}
	if ts == nil {
		return time.Time{}, nil
	}
	return time.Unix(*ts, 0).UTC(), nil
}
