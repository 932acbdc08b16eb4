package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

const mailCols = `id, kind, subscriber_id, coalesce(subscription_id, 0), to_addr, status, attempts, next_attempt_at,
	last_reply, message_id, created_at, sent_at`

func scanMail(sc scanner) (model.Mail, error) {
	var (
		m             model.Mail
		next, created int64
		sent          sql.NullInt64
	)
	if err := sc.Scan(&m.ID, &m.Kind, &m.SubscriberID, &m.SubscriptionID, &m.To, &m.Status, &m.Attempts, &next,
		&m.LastReply, &m.MessageID, &created, &sent); err != nil {
		return m, err
	}
	m.NextAttemptAt, m.CreatedAt = time.Unix(next, 0).UTC(), time.Unix(created, 0).UTC()
	if sent.Valid {
		m.SentAt = time.Unix(sent.Int64, 0).UTC()
	}
	return m, nil
}

// EnqueueMail queues one transactional mail, due now, and returns its id.
func (s *Store) EnqueueMail(ctx context.Context, m model.Mail) (int64, error) {
	now := s.Now().Unix()
	res, err := s.W.ExecContext(ctx, `INSERT INTO mail_queue (kind, subscriber_id, subscription_id, to_addr, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, m.Kind, m.SubscriberID, nullID(m.SubscriptionID), m.To, now, now)
	if err != nil {
		return 0, fmt.Errorf("store: queue %s mail to subscriber %d: %w", m.Kind, m.SubscriberID, err)
	}
	return res.LastInsertId()
}

// MailedSince reports whether a transactional mail to the address was
// queued after since (the per-address throttle).
func (s *Store) MailedSince(ctx context.Context, to model.Address, since time.Time) (bool, error) {
	var n int
	err := s.W.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM mail_queue WHERE to_addr = ? AND created_at > ? LIMIT 1)`,
		to, since.Unix()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: mail to %s since %s: %w", to, since.Format(time.RFC3339), err)
	}
	return n > 0, nil
}

// DueMail returns up to limit pending transactional mails due at now,
// oldest first.
func (s *Store) DueMail(ctx context.Context, now time.Time, limit int) ([]model.Mail, error) {
	out, err := queryRows(ctx, s.W, `SELECT `+mailCols+` FROM mail_queue WHERE status = 'pending' AND next_attempt_at <= ?
		ORDER BY id LIMIT ?`, scanMail, now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due mail: %w", err)
	}
	return out, nil
}

// NextMailAttempt returns when the earliest pending transactional mail is
// due, and false when none is pending.
func (s *Store) NextMailAttempt(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := s.W.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM mail_queue WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("store: next mail attempt: %w", err)
	}
	return time.Unix(next.Int64, 0).UTC(), next.Valid, nil
}

// MailByID returns one transactional mail, or ErrNotFound.
func (s *Store) MailByID(ctx context.Context, id int64) (model.Mail, error) {
	m, err := scanMail(s.W.QueryRowContext(ctx, `SELECT `+mailCols+` FROM mail_queue WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("store: mail %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: mail %d: %w", id, err)
	}
	return m, nil
}

// RecordMail stores one attempt's result: status (sent, failed, or pending
// for a retry), attempts, next attempt, reply, Message-ID and sent time.
// bounced marks a pending or active subscriber bounced: a permanent 5.1.x
// reply says the address does not exist, as it does for a digest.
func (s *Store) RecordMail(ctx context.Context, m model.Mail, bounced bool) error {
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		var sent any
		if !m.SentAt.IsZero() {
			sent = m.SentAt.Unix()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mail_queue SET status = ?, attempts = ?, next_attempt_at = ?, last_reply = ?,
			message_id = ?, sent_at = ? WHERE id = ? AND status = 'pending'`,
			m.Status, m.Attempts, m.NextAttemptAt.Unix(), m.LastReply, m.MessageID, sent, m.ID); err != nil {
			return err
		}
		if bounced {
			_, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'bounced', updated_at = ?
				WHERE id = ? AND status IN ('pending', 'active')`, s.Now().Unix(), m.SubscriberID)
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record mail %d: %w", m.ID, err)
	}
	return nil
}
