package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

const editionCols = `id, digest, kind, slot, zone, cutoff, since, sections, authors, status, created_at, finished_at`

func scanEdition(sc scanner) (model.Edition, error) {
	var (
		e                         model.Edition
		slot                      sql.NullString
		cutoff, since, created    int64
		finished                  sql.NullInt64
		sectionsJSON, authorsJSON string
	)
	if err := sc.Scan(&e.ID, &e.Digest, &e.Kind, &slot, &e.Zone, &cutoff, &since, &sectionsJSON, &authorsJSON,
		&e.Status, &created, &finished); err != nil {
		return e, err
	}
	e.Slot = slot.String
	e.Cutoff = time.Unix(cutoff, 0).UTC()
	e.Since = time.Unix(since, 0).UTC()
	e.CreatedAt = time.Unix(created, 0).UTC()
	if finished.Valid {
		e.FinishedAt = time.Unix(finished.Int64, 0).UTC()
	}
	_ = json.Unmarshal([]byte(sectionsJSON), &e.Sections)
	_ = json.Unmarshal([]byte(authorsJSON), &e.Authors)
	return e, nil
}

func jsonList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// CreateEdition records a new edition in status planning. A scheduled
// edition is keyed by (digest, slot): when that slot already has one, the
// existing edition is returned with created false and nothing changes. A
// local digest's scheduled edition records its zone group in Zone.
func (s *Store) CreateEdition(ctx context.Context, e model.Edition) (model.Edition, bool, error) {
	var slot any
	if e.Kind == model.EditionScheduled {
		if e.Slot == "" {
			return e, false, errors.New("store: create edition: a scheduled edition needs a slot")
		}
		slot = e.Slot
	}
	now := s.Now().Unix()
	res, err := s.W.ExecContext(ctx, `INSERT OR IGNORE INTO editions (digest, kind, slot, zone, cutoff, since, sections, authors, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'planning', ?)`,
		e.Digest, e.Kind, slot, e.Zone, e.Cutoff.Unix(), e.Since.Unix(), jsonList(e.Sections), jsonList(e.Authors), now)
	if err != nil {
		return e, false, fmt.Errorf("store: create edition of %s: %w", e.Digest, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		got, err := scanEdition(s.W.QueryRowContext(ctx, `SELECT `+editionCols+` FROM editions WHERE digest = ? AND slot = ?`, e.Digest, e.Slot))
		if err != nil {
			return e, false, fmt.Errorf("store: edition of %s for slot %s: %w", e.Digest, e.Slot, err)
		}
		return got, false, nil
	}
	id, _ := res.LastInsertId()
	got, err := s.Edition(ctx, id)
	return got, true, err
}

// EditionStatus returns an edition's status alone (cheap enough to poll
// while sending), or ErrNotFound.
func (s *Store) EditionStatus(ctx context.Context, id int64) (string, error) {
	stmt, err := s.editionStatus.get(ctx, s.R, `SELECT status FROM editions WHERE id = ?`)
	if err != nil {
		return "", fmt.Errorf("store: edition %d: %w", id, err)
	}
	var st string
	err = stmt.QueryRowContext(ctx, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: edition %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: edition %d: %w", id, err)
	}
	return st, nil
}

// Edition returns one edition with its delivery counts, or ErrNotFound.
func (s *Store) Edition(ctx context.Context, id int64) (model.Edition, error) {
	e, err := scanEdition(s.W.QueryRowContext(ctx, `SELECT `+editionCols+` FROM editions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("store: edition %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("store: edition %d: %w", id, err)
	}
	if e.Counts, err = s.EditionCounts(ctx, id); err != nil {
		return e, err
	}
	return e, nil
}

// EditionCounts returns an edition's deliveries counted by status.
func (s *Store) EditionCounts(ctx context.Context, id int64) (map[string]int, error) {
	out := map[string]int{}
	err := eachRow(ctx, s.W, `SELECT status, count(*) FROM deliveries INDEXED BY deliveries_edition_status_id
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

// Editions returns the most recent editions (of digest, or of every digest
// when digest is ""), newest first, with their delivery counts.
func (s *Store) Editions(ctx context.Context, digest string, limit int) ([]model.Edition, error) {
	if limit <= 0 {
		limit = 20
	}
	out, err := queryRows(ctx, s.R, `SELECT `+editionCols+` FROM editions
		WHERE ? = '' OR digest = ? ORDER BY id DESC LIMIT ?`, scanEdition, digest, digest, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list editions: %w", err)
	}
	for i := range out {
		if out[i].Counts, err = s.EditionCounts(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UnfinishedEdition returns the oldest edition of digest still planning or
// sending, and false when there is none.
func (s *Store) UnfinishedEdition(ctx context.Context, digest string) (model.Edition, bool, error) {
	e, err := scanEdition(s.W.QueryRowContext(ctx, `SELECT `+editionCols+` FROM editions
		WHERE digest = ? AND status IN ('planning', 'sending') ORDER BY id LIMIT 1`, digest))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("store: unfinished edition of %s: %w", digest, err)
	}
	return e, true, nil
}

// UnfinishedWholeEditionIDs returns the ids of every edition of digest
// still planning or sending that is for the whole digest rather than a
// zone group (manual editions, and scheduled ones of delivery: digest).
func (s *Store) UnfinishedWholeEditionIDs(ctx context.Context, digest string) ([]int64, error) {
	out, err := queryRows(ctx, s.W, `SELECT id FROM editions WHERE digest = ? AND status IN ('planning', 'sending') AND zone = '' ORDER BY id`,
		func(sc scanner) (int64, error) {
			var id int64
			err := sc.Scan(&id)
			return id, err
		}, digest)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished editions of %s: %w", digest, err)
	}
	return out, nil
}

// UnfinishedZoneEdition returns the oldest scheduled edition of a local
// digest's zone group still planning or sending, and false when there is
// none.
func (s *Store) UnfinishedZoneEdition(ctx context.Context, digest, zone string) (model.Edition, bool, error) {
	e, err := scanEdition(s.W.QueryRowContext(ctx, `SELECT `+editionCols+` FROM editions
		WHERE digest = ? AND status IN ('planning', 'sending') AND zone = ? ORDER BY id LIMIT 1`, digest, zone))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("store: unfinished edition of %s in %s: %w", digest, zone, err)
	}
	return e, true, nil
}

// SetEditionStatus moves an edition to status. Done and cancelled record
// the finishing time; cancelled also cancels its pending deliveries. Only a
// planning edition moves to sending (errNotPlanning otherwise): a plan
// that ends after an editor cancelled its edition leaves it cancelled.
func (s *Store) SetEditionStatus(ctx context.Context, id int64, status string) error {
	now := s.Now().Unix()
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		if status == model.EditionSending {
			if err := stillPlanning(ctx, tx, id); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return ErrNotFound
				}
				return err
			}
		}
		var finished any
		if status == model.EditionDone || status == model.EditionCancelled {
			finished = now
		}
		res, err := tx.ExecContext(ctx, `UPDATE editions SET status = ?, finished_at = ? WHERE id = ?`, status, finished, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if status == model.EditionCancelled {
			_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled' WHERE edition_id = ? AND status = 'pending'`, id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: edition %d to %s: %w", id, status, err)
	}
	return nil
}

// PlanningCursor returns the highest subscription id already planned for
// an edition.
func (s *Store) PlanningCursor(ctx context.Context, editionID int64) (int64, error) {
	var c int64
	if err := s.W.QueryRowContext(ctx, `SELECT planned_through FROM editions WHERE id = ?`, editionID).Scan(&c); err != nil {
		return 0, fmt.Errorf("store: planning cursor of edition %d: %w", editionID, err)
	}
	return c, nil
}

// InsertDeliveries records one page of planned deliveries (status pending
// or skipped, with their article ids and Message-IDs) and moves the edition's planning
// cursor to through, in one transaction. INSERT OR IGNORE keyed by
// (edition, subscriber) makes a resumed page harmless.
func (s *Store) InsertDeliveries(ctx context.Context, editionID int64, ds []model.Delivery, through int64) error {
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		if err := stillPlanning(ctx, tx, editionID); err != nil {
			return err
		}
		if err := insertDeliveries(ctx, tx, editionID, ds); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE editions SET planned_through = max(planned_through, ?) WHERE id = ?`, through, editionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: insert deliveries of edition %d: %w", editionID, err)
	}
	return nil
}

// errNotPlanning is a plan's write refused because its edition is no
// longer planning: an editor cancelled it meanwhile.
var errNotPlanning = &model.Error{Code: model.EFINISHED, Message: "edition no longer planning"}

// stillPlanning returns errNotPlanning unless edition id is planning. In a
// transaction that holds the write lock from its start (Tx), what it
// reads holds until the commit: a cancel commits before it or after the
// page, whose pending deliveries it then cancels.
func stillPlanning(ctx context.Context, tx *sql.Tx, id int64) error {
	var st string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM editions WHERE id = ?`, id).Scan(&st); err != nil {
		return err
	}
	if st != model.EditionPlanning {
		return errNotPlanning.With("edition %d is %s, no longer planning", id, st)
	}
	return nil
}

// insertDeliveries inserts planned deliveries of an edition inside tx,
// deliveryRows to a statement: a statement costs far more than a row in
// SQLite, and one per delivery was two thirds of planning's time. INSERT
// OR IGNORE keyed by (edition, subscriber) makes a resumed page harmless.
func insertDeliveries(ctx context.Context, tx *sql.Tx, editionID int64, ds []model.Delivery) error {
	const q = `INSERT OR IGNORE INTO deliveries
		(edition_id, subscriber_id, subscription_id, status, next_attempt_at, article_ids, message_id) VALUES `
	var full *sql.Stmt
	args := make([]any, 0, 6*min(len(ds), deliveryRows))
	for start := 0; start < len(ds); start += deliveryRows {
		page := ds[start:min(start+deliveryRows, len(ds))]
		args = args[:0]
		for _, d := range page {
			args = append(args, editionID, d.SubscriberID, d.SubscriptionID, d.Status, idList(d.ArticleIDs), d.MessageID)
		}
		values := strings.Repeat("(?, ?, ?, ?, 0, ?, ?), ", len(page)-1) + "(?, ?, ?, ?, 0, ?, ?)"
		if len(page) < deliveryRows {
			if _, err := tx.ExecContext(ctx, q+values, args...); err != nil {
				return err
			}
			continue
		}
		if full == nil {
			var err error
			if full, err = tx.PrepareContext(ctx, q+values); err != nil {
				return err
			}
			defer full.Close()
		}
		if _, err := full.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// deliveryRows is how many deliveries one INSERT carries (6 variables
// each, well under SQLite's limit).
const deliveryRows = 100

// ReceivedArticles returns, for each of subscriberIDs, the ids among
// articleIDs they already received from digest: the articles their sent
// deliveries of digest's editions carried (article_ids), and those
// received_articles kept when housekeeping deleted older deliveries.
//
// A sent delivery is read where it is rather than copied per article
// into received_articles as each message is recorded: that copy was
// nine rows a message and a twelfth of send-now's CPU
// (docs/benchmarks.md). Only deliveries of editions that can have carried
// one of the candidates are read: an edition carried an article only if
// herald had seen it published by the edition's cutoff, and the first
// time it did never moves (herald_article_first_seen, which outlives a
// deleted article; herald_article_visible's, when earlier, for rows set
// by hand), so editions cut off before the earliest first sighting among
// articleIDs cannot hold any of them. Each reader's deliveries are read
// from the first sent delivery of those editions on, by the reader's index
// (subscriber_id, id): a reader's own deliveries since then, however many
// editions (zone groups, manual ones) the digest had.
//
// The deliveries are read before the archive: housekeeping moves a
// delivery's articles to received_articles and deletes it in one
// transaction, so whichever side of it these reads fall, one of them sees
// the articles.
func (s *Store) ReceivedArticles(ctx context.Context, digest string, subscriberIDs, articleIDs []int64) (map[int64]map[int64]bool, error) {
	out := map[int64]map[int64]bool{}
	if len(subscriberIDs) == 0 || len(articleIDs) == 0 {
		return out, nil
	}
	floor, first, ok, err := s.carryingRange(ctx, digest, articleIDs)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := s.sentReceived(ctx, out, digest, floor, first, subscriberIDs, articleIDs); err != nil {
			return nil, err
		}
	}
	if err := s.archivedReceived(ctx, out, digest, subscriberIDs, articleIDs); err != nil {
		return nil, err
	}
	return out, nil
}

// carryingRange returns the earliest first sighting among articleIDs
// (floor, unix seconds) and the id of the first sent delivery of digest's
// editions cut off since then (first); ok is false when there is none.
func (s *Store) carryingRange(ctx context.Context, digest string, articleIDs []int64) (floor, first int64, ok bool, err error) {
	var f, d sql.NullInt64
	if err := s.R.QueryRowContext(ctx, `SELECT min(min(v.seen_at, coalesce(fs.seen_at, v.seen_at))) FROM json_each(?) k
		JOIN herald_article_visible v ON v.article_id = k.value
		LEFT JOIN herald_article_first_seen fs ON fs.article_id = k.value`, idList(articleIDs)).Scan(&f); err != nil {
		return 0, 0, false, fmt.Errorf("store: first sighting of %d articles: %w", len(articleIDs), err)
	}
	if !f.Valid {
		return 0, 0, false, nil // none is (still) published: none can be a candidate
	}
	if err := s.R.QueryRowContext(ctx, `SELECT min((SELECT min(d.id) FROM deliveries d WHERE d.edition_id = e.id AND d.status = 'sent'))
		FROM editions e WHERE e.digest = ? AND e.cutoff >= ?`, digest, f.Int64).Scan(&d); err != nil {
		return 0, 0, false, fmt.Errorf("store: first delivery of %s that can carry an article: %w", digest, err)
	}
	return f.Int64, d.Int64, d.Valid, nil
}

// sentReceivedSQL reads the sent deliveries of a digest to subs readers
// from a delivery id on, in editions cut off no earlier than a time (its
// arguments in that order: digest, time, id, readers), by the reader's
// index (TestSentArticlesByReader).
func sentReceivedSQL(subs int) string {
	return `SELECT d.subscriber_id, d.article_ids FROM deliveries d INDEXED BY deliveries_subscriber
		JOIN editions e ON e.id = d.edition_id
		WHERE e.digest = ? AND e.cutoff >= ? AND d.id >= ? AND d.status = 'sent'
		  AND d.subscriber_id IN (` + placeholders(subs) + `)`
}

// sentReceived adds to out, for each of subscriberIDs, the ids among
// articleIDs that their sent deliveries from first on carried, in
// digest's editions cut off no earlier than floor.
func (s *Store) sentReceived(ctx context.Context, out map[int64]map[int64]bool, digest string, floor, first int64, subscriberIDs, articleIDs []int64) error {
	want := make(map[int64]bool, len(articleIDs))
	for _, id := range articleIDs {
		want[id] = true
	}
	const chunk = 500
	for start := 0; start < len(subscriberIDs); start += chunk {
		end := min(start+chunk, len(subscriberIDs))
		args := make([]any, 0, 3+end-start)
		args = append(args, digest, floor, first)
		for _, id := range subscriberIDs[start:end] {
			args = append(args, id)
		}
		err := eachRow(ctx, s.R, sentReceivedSQL(end-start), func(sc scanner) error {
			var sub int64
			var raw string
			if err := sc.Scan(&sub, &raw); err != nil {
				return err
			}
			ids, err := parseIDList(raw)
			if err != nil {
				return fmt.Errorf("article_ids of a delivery to subscriber %d: %w", sub, err)
			}
			for _, a := range ids {
				if want[a] {
					addArticle(out, sub, a)
				}
			}
			return nil
		}, args...)
		if err != nil {
			return fmt.Errorf("store: received articles: %w", err)
		}
	}
	return nil
}

// addArticle adds article art to subscriber sub's set in out.
func addArticle(out map[int64]map[int64]bool, sub, art int64) {
	m := out[sub]
	if m == nil {
		m = map[int64]bool{}
		out[sub] = m
	}
	m[art] = true
}

// archivedReceived adds to out, for each of subscriberIDs, the ids among
// articleIDs that received_articles holds for them in digest: the
// articles of deliveries housekeeping has since deleted (and, from
// before 2026-11-29, of every sent delivery).
func (s *Store) archivedReceived(ctx context.Context, out map[int64]map[int64]bool, digest string, subscriberIDs, articleIDs []int64) error {
	const chunk = 500
	for start := 0; start < len(subscriberIDs); start += chunk {
		end := min(start+chunk, len(subscriberIDs))
		args := make([]any, 0, 1+end-start+len(articleIDs))
		args = append(args, digest)
		for _, id := range subscriberIDs[start:end] {
			args = append(args, id)
		}
		q := `SELECT subscriber_id, article_id FROM received_articles WHERE digest = ? AND subscriber_id IN (` +
			placeholders(end-start) + `)`
		// A long candidate list is filtered here rather than in SQL, to stay
		// well under SQLite's variable limit.
		filter := len(articleIDs) <= 2000
		if filter {
			q += ` AND article_id IN (` + placeholders(len(articleIDs)) + `)`
			for _, id := range articleIDs {
				args = append(args, id)
			}
		}
		var want map[int64]bool
		if !filter {
			want = make(map[int64]bool, len(articleIDs))
			for _, id := range articleIDs {
				want[id] = true
			}
		}
		err := eachRow(ctx, s.R, q, func(sc scanner) error {
			var sub, art int64
			if err := sc.Scan(&sub, &art); err != nil {
				return err
			}
			if want == nil || want[art] {
				addArticle(out, sub, art)
			}
			return nil
		}, args...)
		if err != nil {
			return fmt.Errorf("store: received articles: %w", err)
		}
	}
	return nil
}

// UnfinishedEditionIDs returns the ids of every edition of digest still
// planning or sending.
func (s *Store) UnfinishedEditionIDs(ctx context.Context, digest string) ([]int64, error) {
	out, err := queryRows(ctx, s.W, `SELECT id FROM editions WHERE digest = ? AND status IN ('planning', 'sending') ORDER BY id`,
		func(sc scanner) (int64, error) {
			var id int64
			err := sc.Scan(&id)
			return id, err
		}, digest)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished editions of %s: %w", digest, err)
	}
	return out, nil
}
