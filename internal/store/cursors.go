package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// Local delivery: the zones readers live in, one zone's readers of a
// digest, and each reader's cursor (reader_cursors).

// SubscriberZones returns every distinct timezone subscribers have, ""
// (unknown) included, whatever their status or digests: a superset of the
// zones a local digest must schedule. It costs one index seek per zone.
func (s *Store) SubscriberZones(ctx context.Context) ([]string, error) {
	out, err := queryRows(ctx, s.R, `WITH RECURSIVE z(tz) AS (
			SELECT (SELECT min(timezone) FROM subscribers INDEXED BY subscribers_timezone)
			UNION ALL
			SELECT (SELECT min(timezone) FROM subscribers INDEXED BY subscribers_timezone WHERE timezone > z.tz) FROM z WHERE z.tz IS NOT NULL)
		SELECT tz FROM z WHERE tz IS NOT NULL`, func(sc scanner) (string, error) {
		var tz string
		err := sc.Scan(&tz)
		return tz, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: subscriber zones: %w", err)
	}
	return out, nil
}

// ZoneSubscriptions returns up to limit active subscriptions of digest
// whose active, unsuppressed subscriber's timezone is zone ("" for unknown), with
// subscriber ids above afterSubscriberID, in subscriber id order, with
// their follows. Planning a local edition pages through them, one zone at
// a time, walking only that zone's readers.
func (s *Store) ZoneSubscriptions(ctx context.Context, digest, zone string, afterSubscriberID int64, limit int) ([]model.Subscription, error) {
	out, err := queryRows(ctx, s.R, `SELECT su.id, su.subscriber_id FROM subscribers sb INDEXED BY subscribers_timezone
		CROSS JOIN subscriptions su ON su.subscriber_id = sb.id AND su.digest = ?
		WHERE sb.timezone = ? AND sb.status = 'active' AND sb.id > ? AND su.status = 'active' AND `+notSuppressedSQL+`
		ORDER BY sb.id LIMIT ?`, func(sc scanner) (model.Subscription, error) {
		sub := model.Subscription{Digest: digest, Status: model.SubscriptionActive}
		err := sc.Scan(&sub.ID, &sub.SubscriberID)
		return sub, err
	}, digest, zone, afterSubscriberID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: subscriptions of %s in zone %q: %w", digest, zone, err)
	}
	if err := s.attachFollows(ctx, out); err != nil {
		return nil, fmt.Errorf("store: subscriptions of %s in zone %q: %w", digest, zone, err)
	}
	return out, nil
}

// ReaderCursors returns the cursors of subscriberIDs in digest; readers
// without one are absent.
func (s *Store) ReaderCursors(ctx context.Context, digest string, subscriberIDs []int64) (map[int64]model.ReaderCursor, error) {
	out := make(map[int64]model.ReaderCursor, len(subscriberIDs))
	const chunk = 500
	for start := 0; start < len(subscriberIDs); start += chunk {
		end := min(start+chunk, len(subscriberIDs))
		args := make([]any, 0, 1+end-start)
		args = append(args, digest)
		for _, id := range subscriberIDs[start:end] {
			args = append(args, id)
		}
		err := eachRow(ctx, s.W, `SELECT subscriber_id, through, slot_at, zone FROM reader_cursors
			WHERE digest = ? AND subscriber_id IN (`+placeholders(end-start)+`)`, func(sc scanner) error {
			var (
				c             model.ReaderCursor
				through, slot int64
			)
			if err := sc.Scan(&c.SubscriberID, &through, &slot, &c.Zone); err != nil {
				return err
			}
			c.Through, c.SlotAt = time.Unix(through, 0).UTC(), unixOrZero(slot)
			out[c.SubscriberID] = c
			return nil
		}, args...)
		if err != nil {
			return nil, fmt.Errorf("store: reader cursors of %s: %w", digest, err)
		}
	}
	return out, nil
}

// VisibleTimes returns when each of the articles ids became visible (the
// later of published_at and when herald first saw it published, as
// CandidateArticles reads it): a local edition gives each reader their own
// window among its candidates. Unknown ids are absent.
func (s *Store) VisibleTimes(ctx context.Context, ids []int64) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		end := min(start+chunk, len(ids))
		args := make([]any, 0, end-start)
		for _, id := range ids[start:end] {
			args = append(args, id)
		}
		err := eachRow(ctx, s.R, `SELECT a.id, max(unixepoch(a.published_at), v.seen_at) FROM articles a
			JOIN herald_article_visible v ON v.article_id = a.id WHERE a.id IN (`+placeholders(end-start)+`)`, func(sc scanner) error {
			var id int64
			var at sql.NullInt64
			if err := sc.Scan(&id, &at); err != nil {
				return err
			}
			if at.Valid {
				out[id] = time.Unix(at.Int64, 0).UTC()
			}
			return nil
		}, args...)
		if err != nil {
			return nil, fmt.Errorf("store: visible times: %w", err)
		}
	}
	return out, nil
}

// LocalPlanningCursor returns where planning a local edition stopped: the
// zone being walked and the last subscriber id planned in it.
func (s *Store) LocalPlanningCursor(ctx context.Context, editionID int64) (zone string, through int64, err error) {
	err = s.W.QueryRowContext(ctx, `SELECT planned_zone, planned_through FROM editions WHERE id = ?`, editionID).Scan(&zone, &through)
	if err != nil {
		return "", 0, fmt.Errorf("store: planning cursor of edition %d: %w", editionID, err)
	}
	return zone, through, nil
}

// InsertLocalDeliveries records one page of a local digest's planned
// deliveries with their cursor moves, and moves the edition's planning
// cursor to (zone, through), in one transaction. Each delivery is recorded
// only if its reader's cursor still is the one the planner read; the
// others (another planner got there first) are dropped, and their
// subscriber ids returned. The transaction holds the write lock from its start, so the
// cursors it reads cannot change before it writes them: one read and one
// upsert per page, driven by the page's rows. INSERT OR IGNORE keyed by
// (edition, subscriber) makes a resumed page harmless.
func (s *Store) InsertLocalDeliveries(ctx context.Context, editionID int64, digest string, moves []model.CursorMove, zone string, through int64) (dropped []int64, err error) {
	ids := make([]int64, len(moves))
	for i, m := range moves {
		ids[i] = m.Delivery.SubscriberID
	}
	err = s.Tx(ctx, func(tx *sql.Tx) error {
		if err := stillPlanning(ctx, tx, editionID); err != nil {
			return err
		}
		now, err := cursorsIn(ctx, tx, digest, ids)
		if err != nil {
			return err
		}
		var rows []cursorRow
		ok := make([]bool, len(moves))
		for i, m := range moves {
			cur, found := now[m.Delivery.SubscriberID]
			ok[i] = found == m.Found && (!found || cur == cursorRow{S: cur.S, T: m.From.Through.Unix(), A: zeroOrUnix(m.From.SlotAt), Z: m.From.Zone})
			if ok[i] {
				rows = append(rows, cursorRow{S: m.Delivery.SubscriberID, T: m.To.Through.Unix(), A: zeroOrUnix(m.To.SlotAt), Z: m.To.Zone})
			}
		}
		if len(rows) > 0 {
			b, err := json.Marshal(rows)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reader_cursors (digest, subscriber_id, through, slot_at, zone)
				SELECT ?, value->>'s', value->>'t', value->>'a', value->>'z' FROM json_each(?) WHERE true
				ON CONFLICT (digest, subscriber_id) DO UPDATE SET through = excluded.through, slot_at = excluded.slot_at, zone = excluded.zone`,
				digest, string(b)); err != nil {
				return err
			}
		}
		ds := make([]model.Delivery, 0, len(moves))
		dropped = dropped[:0]
		for i, m := range moves {
			if !ok[i] {
				dropped = append(dropped, m.Delivery.SubscriberID)
				continue
			}
			ds = append(ds, m.Delivery)
		}
		if err := insertDeliveries(ctx, tx, editionID, ds); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE editions SET planned_zone = ?, planned_through = ? WHERE id = ?`, zone, through, editionID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert local deliveries of edition %d: %w", editionID, err)
	}
	return dropped, nil
}

// cursorRow is one reader's cursor as stored: subscriber, through, slot_at
// (unix seconds, 0 for none) and zone; also the JSON the upsert reads.
type cursorRow struct {
	S int64  `json:"s"`
	T int64  `json:"t"`
	A int64  `json:"a"`
	Z string `json:"z"`
}

// cursorsIn reads the cursors of ids in digest inside tx.
func cursorsIn(ctx context.Context, tx *sql.Tx, digest string, ids []int64) (map[int64]cursorRow, error) {
	out := make(map[int64]cursorRow, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		end := min(start+chunk, len(ids))
		args := make([]any, 0, 1+end-start)
		args = append(args, digest)
		for _, id := range ids[start:end] {
			args = append(args, id)
		}
		err := eachTxRow(ctx, tx, `SELECT subscriber_id, through, slot_at, zone FROM reader_cursors
			WHERE digest = ? AND subscriber_id IN (`+placeholders(end-start)+`)`, func(sc scanner) error {
			var c cursorRow
			if err := sc.Scan(&c.S, &c.T, &c.A, &c.Z); err != nil {
				return err
			}
			out[c.S] = c
			return nil
		}, args...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// eachTxRow is eachRow inside a transaction.
func eachTxRow(ctx context.Context, tx *sql.Tx, query string, fn func(scanner) error, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func zeroOrUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func unixOrZero(u int64) time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(u, 0).UTC()
}
