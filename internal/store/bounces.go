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

// SentByDelivery returns the message of delivery id, or ErrNotFound.
func (s *Store) SentByDelivery(ctx context.Context, id int64) (model.SentMessage, error) {
	return s.sent(ctx, `SELECT d.id, 0, d.edition_id, d.subscriber_id, d.subscription_id, sb.email
		FROM deliveries d JOIN subscribers sb ON sb.id = d.subscriber_id WHERE d.id = ?`, id)
}

// SentByMail returns transactional mail id, or ErrNotFound.
func (s *Store) SentByMail(ctx context.Context, id int64) (model.SentMessage, error) {
	return s.sent(ctx, `SELECT 0, m.id, 0, m.subscriber_id, coalesce(m.subscription_id, 0), sb.email
		FROM mail_queue m JOIN subscribers sb ON sb.id = m.subscriber_id WHERE m.id = ?`, id)
}

// SentByMessageID returns the delivery or transactional mail that went out
// with Message-ID msgID ("<...>"), or ErrNotFound. A delivery has its id
// from planning, so one still pending after an attempt whose outcome was
// ambiguous (or that a server took and reported a failure for) is found too.
func (s *Store) SentByMessageID(ctx context.Context, msgID string) (model.SentMessage, error) {
	return s.sent(ctx, `SELECT * FROM (
		SELECT d.id, 0, d.edition_id, d.subscriber_id, d.subscription_id, sb.email
		FROM deliveries d JOIN subscribers sb ON sb.id = d.subscriber_id WHERE d.message_id = ?
		UNION ALL
		SELECT 0, m.id, 0, m.subscriber_id, coalesce(m.subscription_id, 0), sb.email
		FROM mail_queue m JOIN subscribers sb ON sb.id = m.subscriber_id WHERE m.message_id = ?) LIMIT 1`, msgID, msgID)
}

// LastSentTo returns the latest message herald sent to address at or before
// before: a delivery or a transactional mail the server accepted, or
// ErrNotFound when herald never mailed it.
func (s *Store) LastSentTo(ctx context.Context, address model.Address, before time.Time) (model.SentMessage, error) {
	return s.sent(ctx, `SELECT did, mid, eid, sid, suid, email FROM (
		SELECT d.id AS did, 0 AS mid, d.edition_id AS eid, d.subscriber_id AS sid, d.subscription_id AS suid, sb.email, d.sent_at AS at
		FROM subscribers sb JOIN deliveries d INDEXED BY deliveries_subscriber ON d.subscriber_id = sb.id
		WHERE sb.email = ? AND d.status = 'sent' AND d.sent_at <= ?
		UNION ALL
		SELECT 0, m.id, 0, m.subscriber_id, coalesce(m.subscription_id, 0), sb.email, m.sent_at
		FROM subscribers sb JOIN mail_queue m ON m.subscriber_id = sb.id
		WHERE sb.email = ? AND m.status = 'sent' AND m.sent_at <= ?)
		ORDER BY at DESC LIMIT 1`, address, before.Unix(), address, before.Unix())
}

func (s *Store) sent(ctx context.Context, q string, args ...any) (model.SentMessage, error) {
	var m model.SentMessage
	err := s.R.QueryRowContext(ctx, q, args...).Scan(&m.DeliveryID, &m.MailID, &m.EditionID, &m.SubscriberID, &m.SubscriptionID, &m.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("store: sent message: %w", ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: sent message: %w", err)
	}
	return m, nil
}

// SoftBounces counts the distinct messages (editions; each transactional
// mail on its own) that soft-bounced for a subscriber since since.
func (s *Store) SoftBounces(ctx context.Context, subscriberID int64, since time.Time) (int, error) {
	var n int
	err := s.W.QueryRowContext(ctx, `SELECT count(DISTINCT coalesce(edition_id, -mail_id, -id)) FROM bounce_events
		WHERE subscriber_id = ? AND kind = 'soft' AND created_at >= ?`, subscriberID, since.Unix()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: soft bounces of %d: %w", subscriberID, err)
	}
	return n, nil
}

// RecordReport stores a bounce event and applies effect, in one
// transaction. The same report twice (a webhook retried, a DSN and a
// webhook for one failure) is stored once. It reports whether the effect
// changed the subscriber (a subscriber already bounced is not bounced
// again).
func (s *Store) RecordReport(ctx context.Context, ev model.BounceEvent, effect string) (bool, error) {
	now := s.Now().Unix()
	changed := false
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		var dup int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM bounce_events WHERE subscriber_id = ? AND kind = ? AND status = ?
			AND coalesce(delivery_id, 0) = ? AND coalesce(mail_id, 0) = ?`,
			ev.SubscriberID, ev.Kind, ev.Status, ev.DeliveryID, ev.MailID).Scan(&dup); err != nil {
			return err
		}
		if dup == 0 || ev.DeliveryID == 0 && ev.MailID == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bounce_events (delivery_id, mail_id, edition_id, subscriber_id, kind, status, diagnostic, source, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, nullID(ev.DeliveryID), nullID(ev.MailID), nullID(ev.EditionID), nullID(ev.SubscriberID),
				ev.Kind, ev.Status, ev.Diagnostic, ev.Source, now); err != nil {
				return err
			}
		}
		var res sql.Result
		var err error
		switch effect {
		case model.EffectBounced:
			res, err = tx.ExecContext(ctx, `UPDATE subscribers SET status = 'bounced', updated_at = ?
				WHERE id = ? AND status IN ('pending', 'active')`, now, ev.SubscriberID)
		case model.EffectComplained:
			res, err = tx.ExecContext(ctx, `UPDATE subscribers SET status = 'complained', updated_at = ?
				WHERE id = ? AND status <> 'complained'`, now, ev.SubscriberID)
			if err == nil {
				_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET status = 'unsubscribed', updated_at = ? WHERE subscriber_id = ?`, now, ev.SubscriberID)
			}
		case model.EffectUnsubscribe:
			res, err = tx.ExecContext(ctx, `UPDATE subscriptions SET status = 'unsubscribed', updated_at = ?
				WHERE id = ? AND status = 'active'`, now, ev.SubscriptionID)
		default:
			return nil
		}
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		changed = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: record %s report for subscriber %d: %w", ev.Kind, ev.SubscriberID, err)
	}
	return changed, nil
}

// BounceEvents returns the bounce events of an edition's deliveries, by
// delivery, oldest first (for herald editions show).
func (s *Store) BounceEvents(ctx context.Context, editionID int64) ([]model.BounceEvent, error) {
	out, err := queryRows(ctx, s.R, `SELECT `+bounceEventCols+`
		FROM bounce_events INDEXED BY bounce_events_edition WHERE edition_id = ? ORDER BY delivery_id, id`, scanBounceEvent, editionID)
	if err != nil {
		return nil, fmt.Errorf("store: bounce events of edition %d: %w", editionID, err)
	}
	return out, nil
}

// DeliveryEvents returns the bounce events recorded on the deliveries ids
// (a page of an edition's), by delivery, oldest first: a seek per delivery
// in bounce_events_delivery, so a page costs the same however many
// deliveries and events its edition has.
func (s *Store) DeliveryEvents(ctx context.Context, ids []int64) ([]model.BounceEvent, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	out, err := queryRows(ctx, s.R, `SELECT `+bounceEventCols+` FROM bounce_events INDEXED BY bounce_events_delivery
		WHERE delivery_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY delivery_id, id`, scanBounceEvent, args...)
	if err != nil {
		return nil, fmt.Errorf("store: bounce events of %d deliveries: %w", len(ids), err)
	}
	return out, nil
}

// SubscriberEvents returns up to limit of a subscriber's bounce events,
// newest first: those on deliveries, on transactional mail and those
// matched by address only.
func (s *Store) SubscriberEvents(ctx context.Context, subscriberID int64, limit int) ([]model.BounceEvent, error) {
	out, err := queryRows(ctx, s.R, `SELECT `+bounceEventCols+` FROM bounce_events INDEXED BY bounce_events_subscriber
		WHERE subscriber_id = ? ORDER BY id DESC LIMIT ?`, scanBounceEvent, subscriberID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: bounce events of subscriber %d: %w", subscriberID, err)
	}
	return out, nil
}

// EditionReports returns, for each edition of ids, how many of its
// deliveries drew a report of each kind (model.Report*): a delivery
// reported twice (a DSN and a webhook) counts once. The counts are kept
// by a trigger as events are recorded (edition_reports, migration 0012),
// so this reads one row per edition and kind, however many events there
// are.
func (s *Store) EditionReports(ctx context.Context, ids []int64) (map[int64]map[string]int, error) {
	out := make(map[int64]map[string]int, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	err := eachRow(ctx, s.R, `SELECT edition_id, kind, deliveries FROM edition_reports
		WHERE edition_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, func(sc scanner) error {
		var (
			id   int64
			kind string
			n    int
		)
		if err := sc.Scan(&id, &kind, &n); err != nil {
			return err
		}
		if out[id] == nil {
			out[id] = map[string]int{}
		}
		out[id][kind] = n
		return nil
	}, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reports of %d editions: %w", len(ids), err)
	}
	return out, nil
}

const bounceEventCols = `id, coalesce(delivery_id, 0), coalesce(mail_id, 0), coalesce(edition_id, 0),
	coalesce(subscriber_id, 0), kind, status, diagnostic, source, created_at`

func scanBounceEvent(sc scanner) (model.BounceEvent, error) {
	var (
		ev model.BounceEvent
		at int64
	)
	err := sc.Scan(&ev.ID, &ev.DeliveryID, &ev.MailID, &ev.EditionID, &ev.SubscriberID, &ev.Kind, &ev.Status, &ev.Diagnostic, &ev.Source, &at)
	ev.CreatedAt = time.Unix(at, 0).UTC()
	return ev, err
}
