package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// pruneBatch is how many rows one housekeeping transaction deletes, so a
// CMS waiting for the write lock never waits long.
const pruneBatch = 2000

// PrunePending deletes subscribers still pending whose last request is
// older than before (they never confirmed), with their subscriptions and
// queued mail; one that was ever sent a digest stays. It returns how many
// it deleted.
func (s *Store) PrunePending(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.W.ExecContext(ctx, `DELETE FROM subscribers WHERE id IN (
			SELECT sb.id FROM subscribers sb INDEXED BY subscribers_status_updated
			WHERE sb.status = 'pending' AND sb.updated_at < ?
			  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.subscriber_id = sb.id)
			LIMIT ?)`, before.Unix(), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("store: prune pending subscribers: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// PruneDeliveries deletes the deliveries of finished editions created
// before before, their bounce events, and finished transactional mail
// older than that. What a reader received outlives their delivery while a
// digest's lookback can still need it: in the transaction that deletes a
// sent delivery, the articles it carried that are visible since
// keepArticles or later move to received_articles (ReceivedArticles reads
// both); received-article records of articles visible since before
// keepArticles go (with those of articles no longer in the database). It
// returns how many deliveries it deleted.
func (s *Store) PruneDeliveries(ctx context.Context, before, keepArticles time.Time) (int64, error) {
	total, err := s.pruneSentDeliveries(ctx, before, keepArticles)
	if err != nil {
		return total, err
	}
	steps := []struct{ what, query string }{
		{"bounce events", `DELETE FROM bounce_events WHERE id IN (SELECT id FROM bounce_events WHERE created_at < ? LIMIT ?)`},
		{"transactional mail", `DELETE FROM mail_queue WHERE id IN (SELECT id FROM mail_queue
			WHERE status <> 'pending' AND created_at < ? LIMIT ?)`},
	}
	for _, st := range steps {
		for {
			res, err := s.W.ExecContext(ctx, st.query, before.Unix(), pruneBatch)
			if err != nil {
				return total, fmt.Errorf("store: prune %s: %w", st.what, err)
			}
			if n, _ := res.RowsAffected(); n < pruneBatch {
				break
			}
		}
	}
	return total, s.pruneReceived(ctx, keepArticles)
}

// pruneSentDeliveries deletes the deliveries of finished editions created
// before before, pruneBatch at a time, each batch in one transaction with
// the archive of what its sent deliveries carried (PruneDeliveries).
func (s *Store) pruneSentDeliveries(ctx context.Context, before, keepArticles time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.Tx(ctx, func(tx *sql.Tx) error {
			var ids string
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(json_group_array(id), '[]') FROM (SELECT d.id FROM editions e
				JOIN deliveries d ON d.edition_id = e.id
				WHERE e.created_at < ? AND e.status IN ('done', 'cancelled') LIMIT ?)`, before.Unix(), pruneBatch).Scan(&ids); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO received_articles (subscriber_id, digest, article_id, delivery_id)
				SELECT d.subscriber_id, e.digest, j.value, d.id
				FROM json_each(?1) k CROSS JOIN deliveries d ON d.id = k.value CROSS JOIN editions e ON e.id = d.edition_id
				  CROSS JOIN json_each(d.article_ids) j
				JOIN herald_article_visible v ON v.article_id = j.value JOIN articles a ON a.id = j.value
				WHERE d.status = 'sent' AND max(coalesce(unixepoch(a.published_at), 0), v.seen_at) >= ?2`, ids, keepArticles.Unix()); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))`, ids)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: prune deliveries: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// pruneReceived deletes the received-article records whose delivery is
// gone and whose article is visible since before keep (or gone). The rows
// are found on the reader pool — a scan of the whole table must not hold
// the write lock the CMS needs — and deleted by key.
func (s *Store) pruneReceived(ctx context.Context, keep time.Time) error {
	type key struct {
		digest   string
		sub, art int64
	}
	for {
		keys, err := queryRows(ctx, s.R, `SELECT r.digest, r.subscriber_id, r.article_id FROM received_articles r
			WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = r.delivery_id)
			  AND NOT EXISTS (SELECT 1 FROM herald_article_visible v JOIN articles a ON a.id = v.article_id
				WHERE v.article_id = r.article_id AND max(coalesce(unixepoch(a.published_at), 0), v.seen_at) >= ?)
			LIMIT ?`, func(sc scanner) (key, error) {
			var k key
			err := sc.Scan(&k.digest, &k.sub, &k.art)
			return k, err
		}, keep.Unix(), pruneBatch)
		if err != nil || len(keys) == 0 {
			if err != nil {
				err = fmt.Errorf("store: prune received articles: %w", err)
			}
			return err
		}
		args := make([]any, 0, 3*len(keys))
		vals := make([]string, len(keys))
		for i, k := range keys {
			args = append(args, k.digest, k.sub, k.art)
			vals[i] = "(?, ?, ?)"
		}
		if _, err := s.W.ExecContext(ctx, `DELETE FROM received_articles WHERE (digest, subscriber_id, article_id) IN (VALUES `+
			strings.Join(vals, ", ")+`)`, args...); err != nil {
			return fmt.Errorf("store: prune received articles: %w", err)
		}
		if len(keys) < pruneBatch {
			return nil
		}
	}
}

// tableColumns returns a table's TEXT columns, or none when it does not
// exist.
func tableColumns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, type FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		if typ == "TEXT" || typ == "" {
			out = append(out, name)
		}
	}
	return out, rows.Err()
}
