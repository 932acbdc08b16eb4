package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

func idList(ids []int64) string {
	if len(ids) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.Grow(len(ids) * 6)
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}

const deliveryCols = `d.id, d.edition_id, d.subscriber_id, d.subscription_id, sb.email, sb.name, d.status, d.attempts,
	d.next_attempt_at, d.last_reply, d.message_id, d.sent_at, d.article_ids, d.relay`

func scanDelivery(sc scanner) (model.Delivery, error) {
	var (
		d      model.Delivery
		next   int64
		sent   sql.NullInt64
		idJSON string
	)
	if err := sc.Scan(&d.ID, &d.EditionID, &d.SubscriberID, &d.SubscriptionID, &d.Email, &d.Name, &d.Status,
		&d.Attempts, &next, &d.LastReply, &d.MessageID, &sent, &idJSON, &d.Relay); err != nil {
		return d, err
	}
	d.NextAttemptAt = time.Unix(next, 0).UTC()
	if sent.Valid {
		d.SentAt = time.Unix(sent.Int64, 0).UTC()
	}
	ids, err := parseIDList(idJSON)
	if err != nil {
		return d, fmt.Errorf("delivery %d: article_ids: %w", d.ID, err)
	}
	d.ArticleIDs = ids
	return d, nil
}

// parseIDList reads article_ids, the JSON array of integers idList
// writes, without encoding/json's reflection (a tenth of the CPU of
// reading a page of deliveries). Anything but a plain array of decimal
// integers, spaces allowed, goes to json.Unmarshal, which decides.
func parseIDList(s string) ([]int64, error) {
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '[' {
		return unmarshalIDs(s)
	}
	if j := skipSpace(s, i+1); j < len(s) && s[j] == ']' {
		if skipSpace(s, j+1) != len(s) {
			return unmarshalIDs(s)
		}
		return []int64{}, nil
	}
	ids := make([]int64, 0, strings.Count(s, ",")+1)
	for i++; ; {
		i = skipSpace(s, i)
		start := i
		if i < len(s) && s[i] == '-' {
			i++
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		n, err := strconv.ParseInt(s[start:i], 10, 64)
		if err != nil || i-start > 1 && s[start] == '0' || i-start > 2 && s[start:start+2] == "-0" {
			return unmarshalIDs(s) // not an integer, or leading zeros JSON forbids
		}
		ids = append(ids, n)
		if i = skipSpace(s, i); i == len(s) {
			return unmarshalIDs(s)
		}
		switch s[i] {
		case ',':
			i++
		case ']':
			if skipSpace(s, i+1) != len(s) {
				return unmarshalIDs(s)
			}
			return ids, nil
		default:
			return unmarshalIDs(s)
		}
	}
}

func unmarshalIDs(s string) ([]int64, error) {
	var ids []int64
	err := json.Unmarshal([]byte(s), &ids)
	return ids, err
}

// skipSpace returns the index of the first byte of s from i on that is not
// JSON whitespace.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// DueDeliveries returns up to limit pending deliveries of an edition whose
// next attempt is due at now, with ids above afterID, in id order, each
// with the subscriber's address and name. The outbox pages through them.
func (s *Store) DueDeliveries(ctx context.Context, editionID int64, now time.Time, afterID int64, limit int) ([]model.Delivery, error) {
	page := make([]model.Delivery, 0, min(max(limit, 0), 1024)) // a page is usually full
	out, err := queryRowsInto(ctx, s.R, page, `SELECT `+deliveryCols+` FROM deliveries d INDEXED BY deliveries_edition_status_id
		JOIN subscribers sb ON sb.id = d.subscriber_id
		WHERE d.edition_id = ? AND d.status = 'pending' AND d.id > ? AND d.next_attempt_at <= ?
		ORDER BY d.id LIMIT ?`, scanDelivery, editionID, afterID, now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due deliveries of edition %d: %w", editionID, err)
	}
	return out, nil
}

// CancelIneligible cancels the pending deliveries of an edition with ids in
// (afterID, throughID] whose subscriber is no longer active (unsubscribed
// address, bounced, complained, erased, pending again) or on the
// suppression list, or whose subscription was unsubscribed since planning, so no mail goes to someone who left while the
// edition was being sent or retried. It returns how many it cancelled. The
// outbox calls it for each page it is about to send: scoped to the page, it
// costs that page's rows, not a scan of every pending delivery and every
// subscriber per page (which made a 1M-subscriber edition quadratic:
// docs/benchmarks.md).
func (s *Store) CancelIneligible(ctx context.Context, editionID, afterID, throughID int64) (int64, error) {
	res, err := s.W.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled',
			last_reply = 'not sent: unsubscribed, bounced, suppressed or removed before sending'
		WHERE id IN (SELECT id FROM deliveries INDEXED BY deliveries_edition_status_id
				WHERE edition_id = ? AND status = 'pending' AND id > ? AND id <= ?)
		  AND (NOT EXISTS (SELECT 1 FROM subscribers sb WHERE sb.id = deliveries.subscriber_id AND sb.status = 'active' AND `+notSuppressedSQL+`)
			OR EXISTS (SELECT 1 FROM subscriptions sc WHERE sc.id = deliveries.subscription_id AND sc.status <> 'active'))`,
		editionID, afterID, throughID)
	if err != nil {
		return 0, fmt.Errorf("store: cancel ineligible deliveries of edition %d: %w", editionID, err)
	}
	return res.RowsAffected()
}

// NextAttempt returns when the earliest pending delivery of an edition is
// due, and false when none is pending.
func (s *Store) NextAttempt(ctx context.Context, editionID int64) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.W.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM deliveries INDEXED BY deliveries_edition_status_id
		WHERE edition_id = ? AND status = 'pending'`, editionID).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next attempt of edition %d: %w", editionID, err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(next.Int64, 0).UTC(), true, nil
}

// Deliveries returns up to limit deliveries of an edition with ids above
// afterID, in id order (any status), for listing.
func (s *Store) Deliveries(ctx context.Context, editionID, afterID int64, limit int) ([]model.Delivery, error) {
	out, err := queryRows(ctx, s.R, `SELECT `+deliveryCols+` FROM deliveries d
		JOIN subscribers sb ON sb.id = d.subscriber_id
		WHERE d.edition_id = ? AND d.id > ? ORDER BY d.id LIMIT ?`, scanDelivery, editionID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of edition %d: %w", editionID, err)
	}
	return out, nil
}

// RecordDeliveries writes the outcome of a batch of attempts in one
// transaction. Each d carries its new state: Status (sent, failed or
// pending for a retry), Attempts, NextAttemptAt, LastReply, Relay, and for
// sent ones SentAt and ArticleIDs. MessageID is recorded only for a
// delivery planned without one; a planned delivery keeps the id it was
// planned with. A sent delivery's article_ids become the articles it
// carried: selection reads them there (ReceivedArticles), so none is sent
// to that reader twice. bounced lists subscribers to mark bounced (a
// permanent 5.1.x). Only
// rows still pending are updated, so a cancelled edition stays cancelled —
// except that a message the server accepted is recorded sent even if the
// edition was cancelled while it was on its way: "what was sent to whom"
// must stay true.
func (s *Store) RecordDeliveries(ctx context.Context, ds []model.Delivery, bounced []int64) error {
	// Prepared before the transaction: the writer's one connection is the
	// transaction's until it ends.
	var prep [len(markSQL)]*sql.Stmt
	for i, once := range []*onceStmt{&s.upd, &s.updID} {
		var err error
		if prep[i], err = once.get(ctx, s.W, markSQL[i]); err != nil {
			return fmt.Errorf("store: record %d deliveries: %w", len(ds), err)
		}
	}
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		upd, updID := tx.StmtContext(ctx, prep[0]), tx.StmtContext(ctx, prep[1])
		for _, d := range ds {
			var sent, carried any
			if !d.SentAt.IsZero() {
				sent = d.SentAt.Unix()
			}
			if d.Status == model.DeliverySent {
				carried = idList(d.ArticleIDs)
			}
			res, err := upd.ExecContext(ctx, d.Status, d.Attempts, d.NextAttemptAt.Unix(), d.LastReply, sent, d.Relay, d.ID, carried)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				// Planned without a Message-ID (or no longer pending): the
				// one attempted is recorded with the rest.
				if _, err := updID.ExecContext(ctx, d.Status, d.Attempts, d.NextAttemptAt.Unix(), d.LastReply, sent, d.Relay, d.ID, carried, d.MessageID); err != nil {
					return err
				}
			}
		}
		now := s.Now().Unix()
		for _, id := range bounced {
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'bounced', updated_at = ? WHERE id = ? AND status = 'active'`, now, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record %d deliveries: %w", len(ds), err)
	}
	return nil
}

// markSQL are the statements: upd, the new state of a delivery planned
// with its Message-ID, leaving that column and so its index untouched (a
// random index write per message was a fifth of send-now's time); updID,
// the same with the Message-ID, for a delivery planned without one. Both
// write a sent delivery's article_ids as the articles it carried (fewer
// than planned when some were withdrawn meanwhile). Only rows still pending are updated, except
// that an accepted message is recorded sent even in a cancelled edition,
// and never with fewer attempts than the row has: a result replayed from
// the journal after a later attempt was recorded changes nothing.
var markSQL = [2]string{
	`UPDATE deliveries SET status = ?1, attempts = ?2, next_attempt_at = ?3, last_reply = ?4, sent_at = ?5, relay = ?6,
		article_ids = coalesce(?8, article_ids)
		WHERE id = ?7 AND message_id <> '' AND attempts <= ?2 AND (status = 'pending' OR (status = 'cancelled' AND ?1 = 'sent'))`,
	`UPDATE deliveries SET status = ?1, attempts = ?2, next_attempt_at = ?3, last_reply = ?4, message_id = ?9, sent_at = ?5, relay = ?6,
		article_ids = coalesce(?8, article_ids)
		WHERE id = ?7 AND message_id = '' AND attempts <= ?2 AND (status = 'pending' OR (status = 'cancelled' AND ?1 = 'sent'))`,
}

// PendingArticles returns, for each of subscriberIDs, the ids of articles
// waiting in their pending deliveries of the editions editionIDs (other
// unfinished editions of a digest, being retried), so a new edition does
// not carry them a second time.
func (s *Store) PendingArticles(ctx context.Context, editionIDs, subscriberIDs []int64) (map[int64]map[int64]bool, error) {
	out := map[int64]map[int64]bool{}
	if len(editionIDs) == 0 || len(subscriberIDs) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(editionIDs)+len(subscriberIDs))
	for _, id := range editionIDs {
		args = append(args, id)
	}
	for _, id := range subscriberIDs {
		args = append(args, id)
	}
	err := eachRow(ctx, s.R, `SELECT d.subscriber_id, j.value FROM deliveries d INDEXED BY deliveries_edition_status_id, json_each(d.article_ids) j
		WHERE d.edition_id IN (`+placeholders(len(editionIDs))+`) AND d.status = 'pending'
		  AND d.subscriber_id IN (`+placeholders(len(subscriberIDs))+`)`, func(sc scanner) error {
		var sub, art int64
		if err := sc.Scan(&sub, &art); err != nil {
			return err
		}
		addArticle(out, sub, art)
		return nil
	}, args...)
	if err != nil {
		return nil, fmt.Errorf("store: pending articles: %w", err)
	}
	return out, nil
}
