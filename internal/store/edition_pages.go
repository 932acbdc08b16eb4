package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// countsSettle is how long after an edition finished its counts may still
// change: a message in flight at a cancel is recorded sent when its
// server accepts it. Counts older than this are cached in edition_counts.
const countsSettle = 5 * time.Minute

// EditionPage returns up to limit editions with ids below before (0: from
// the newest), newest first, with their delivery counts. A finished
// edition's counts come from edition_counts, so a page costs the same
// however many deliveries its editions have; only unfinished ones are
// counted live.
func (s *Store) EditionPage(ctx context.Context, before int64, limit int) ([]model.Edition, error) {
	if limit <= 0 {
		limit = 20
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	out, err := queryRows(ctx, s.R, `SELECT `+editionCols+` FROM editions WHERE id < ? ORDER BY id DESC LIMIT ?`, scanEdition, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list editions: %w", err)
	}
	for i := range out {
		if out[i].Counts, err = s.settledCounts(ctx, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EditionSummary is Edition with settled counts read from the cache.
func (s *Store) EditionSummary(ctx context.Context, id int64) (model.Edition, error) {
	e, err := scanEdition(s.R.QueryRowContext(ctx, `SELECT `+editionCols+` FROM editions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("store: edition %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("store: edition %d: %w", id, err)
	}
	e.Counts, err = s.settledCounts(ctx, e)
	return e, err
}

// LatestEdition returns a digest's most recent edition, and false when it
// has none.
func (s *Store) LatestEdition(ctx context.Context, digest string) (model.Edition, bool, error) {
	e, err := scanEdition(s.R.QueryRowContext(ctx, `SELECT `+editionCols+` FROM editions WHERE digest = ? ORDER BY id DESC LIMIT 1`, digest))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("store: latest edition of %s: %w", digest, err)
	}
	e.Counts, err = s.settledCounts(ctx, e)
	return e, err == nil, err
}

// settledCounts returns e's delivery counts: cached when e finished more
// than countsSettle ago (computed and cached the first time), else live.
func (s *Store) settledCounts(ctx context.Context, e model.Edition) (map[string]int, error) {
	settled := (e.Status == model.EditionDone || e.Status == model.EditionCancelled) &&
		!e.FinishedAt.IsZero() && s.Now().Sub(e.FinishedAt) > countsSettle
	if !settled {
		return s.liveCounts(ctx, e.ID)
	}
	var raw string
	err := s.R.QueryRowContext(ctx, `SELECT counts FROM edition_counts WHERE edition_id = ?`, e.ID).Scan(&raw)
	if err == nil {
		out := map[string]int{}
		if err := json.Unmarshal([]byte(raw), &out); err == nil {
			return out, nil
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: cached counts of edition %d: %w", e.ID, err)
	}
	out, err := s.liveCounts(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(out)
	if _, err := s.W.ExecContext(ctx, `INSERT OR REPLACE INTO edition_counts (edition_id, counts) VALUES (?, ?)`, e.ID, string(b)); err != nil {
		return nil, fmt.Errorf("store: cache counts of edition %d: %w", e.ID, err)
	}
	return out, nil
}

// liveCounts is EditionCounts on the reader pool, for pages and progress.
func (s *Store) liveCounts(ctx context.Context, id int64) (map[string]int, error) {
	out := map[string]int{}
	err := eachRow(ctx, s.R, `SELECT status, count(*) FROM deliveries INDEXED BY deliveries_edition_status_id
		WHERE edition_id = ? GROUP BY status`, func(sc scanner) error {
		var st string
		var n int
		if err := sc.Scan(&st, &n); err != nil {
			return err
		}
		out[st] = n
		return nil
	}, id)
	if err != nil {
		return nil, fmt.Errorf("store: count deliveries of edition %d: %w", id, err)
	}
	return out, nil
}

// EditionProgress returns an edition's status and live delivery counts,
// for the progress stream. It reads the database, so editions sent by
// another process (the CLI, the scheduler) show too. Once planned, an
// edition's number of deliveries no longer changes: given that total from
// an earlier call, it counts only the deliveries not sent (those still
// pending shrink as it sends) and derives sent, so a tick costs less as
// the edition advances rather than more. total <= 0 counts everything;
// while the edition is planning the total returned is 0, so the call after
// counts everything again.
func (s *Store) EditionProgress(ctx context.Context, id int64, total int) (status string, counts map[string]int, newTotal int, err error) {
	if status, err = s.EditionStatus(ctx, id); err != nil {
		return "", nil, 0, err
	}
	if total <= 0 || status == model.EditionPlanning {
		counts, err = s.liveCounts(ctx, id)
		if status == model.EditionPlanning {
			// Still growing: the next call counts everything again.
			return status, counts, 0, err
		}
		for _, n := range counts {
			newTotal += n
		}
		return status, counts, newTotal, err
	}
	counts = map[string]int{}
	rest := 0
	// Two range scans of (edition_id, status) either side of 'sent': every
	// other status, whatever statuses exist.
	err = eachRow(ctx, s.R, `SELECT status, count(*) FROM deliveries INDEXED BY deliveries_edition_status_id
		WHERE edition_id = ? AND status < 'sent' GROUP BY status
		UNION ALL
		SELECT status, count(*) FROM deliveries INDEXED BY deliveries_edition_status_id
		WHERE edition_id = ? AND status > 'sent' GROUP BY status`, func(sc scanner) error {
		var st string
		var n int
		if err := sc.Scan(&st, &n); err != nil {
			return err
		}
		counts[st] = n
		rest += n
		return nil
	}, id, id)
	if err != nil {
		return "", nil, 0, fmt.Errorf("store: progress of edition %d: %w", id, err)
	}
	counts[model.DeliverySent] = max(total-rest, 0)
	return status, counts, total, nil
}
