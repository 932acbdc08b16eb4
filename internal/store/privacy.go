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

// ErasedAddress is the placeholder an erased subscriber's address becomes:
// unique, and no one's.
func ErasedAddress(id int64) model.Address {
	return model.Address(fmt.Sprintf("erased-%d@erased.invalid", id))
}

// EraseSubscriber removes a subscriber's personal data, in one
// transaction: the address (a placeholder takes its place), the name, the
// time zone and every follow; every subscription ends; the last SMTP replies of its
// deliveries, the diagnostics of its bounce events, its queued mail and
// subscribe requests go; in any audit table the address is replaced.
// Only the keyed hash of the case-folded address stays, on the suppression
// list (key is SuppressionKey's), so neither an import nor a stranger's
// sign-up brings it back without the owner confirming. Deliveries stay,
// as counts.
func (s *Store) EraseSubscriber(ctx context.Context, id int64, key []byte) error {
	now := s.Now().Unix()
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		var email model.Address
		err := tx.QueryRowContext(ctx, `SELECT email FROM subscribers WHERE id = ?`, id).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE subscribers SET email = ?, name = '', timezone = '', status = 'erased', confirmed_at = NULL, updated_at = ? WHERE id = ?`,
				[]any{ErasedAddress(id), now, id}},
			{`DELETE FROM subscription_follows WHERE subscription_id IN (SELECT id FROM subscriptions WHERE subscriber_id = ?)`, []any{id}},
			{`UPDATE subscriptions SET status = 'unsubscribed', updated_at = ? WHERE subscriber_id = ?`, []any{now, id}},
			{`UPDATE deliveries SET last_reply = '' WHERE subscriber_id = ?`, []any{id}},
			{`UPDATE bounce_events SET diagnostic = '' WHERE subscriber_id = ?`, []any{id}},
			{`DELETE FROM mail_queue WHERE subscriber_id = ?`, []any{id}},
			{`DELETE FROM undo_snapshots WHERE subscriber_id = ?`, []any{id}},
			{`DELETE FROM subscribe_intake WHERE email = ? COLLATE NOCASE`, []any{email}},
			{`INSERT INTO suppressions (entry, reason, created_at) VALUES (?, 'erased', ?) ON CONFLICT (entry) DO NOTHING`,
				[]any{"#" + model.AddressHash(key, email), now}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return eraseFromAudit(ctx, tx, string(email))
	})
	if err != nil {
		return fmt.Errorf("store: erase subscriber %d: %w", id, err)
	}
	return nil
}

// eraseFromAudit replaces address in every text column of any audit
// table (the editors' audit log keeps who did what to whom).
func eraseFromAudit(ctx context.Context, tx *sql.Tx, address string) error {
	tables, err := queryTxStrings(ctx, tx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE '%audit%'`)
	if err != nil {
		return err
	}
	for _, t := range tables {
		cols, err := tableColumns(ctx, tx, t)
		if err != nil {
			return err
		}
		for _, c := range cols {
			q := fmt.Sprintf(`UPDATE %q SET %q = replace(%q, ?, '[erased]') WHERE instr(lower(%q), lower(?)) > 0`, t, c, c, c)
			if _, err := tx.ExecContext(ctx, q, address, address); err != nil {
				return err
			}
			// replace() matches case-sensitively: any other spelling.
			q = fmt.Sprintf(`UPDATE %q SET %q = '[erased]' WHERE instr(lower(%q), lower(?)) > 0`, t, c, c)
			if _, err := tx.ExecContext(ctx, q, address); err != nil {
				return err
			}
		}
	}
	return nil
}

func queryTxStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SentTo lists what herald sent or tried to send a subscriber, oldest
// first: its deliveries and its transactional mail.
func (s *Store) SentTo(ctx context.Context, subscriberID int64) ([]model.SentItem, error) {
	out, err := queryRows(ctx, s.R, `SELECT kind, status, at, message_id, ids FROM (
			SELECT e.digest AS kind, d.status, coalesce(d.sent_at, e.created_at) AS at, d.message_id, d.article_ids AS ids
			FROM deliveries d JOIN editions e ON e.id = d.edition_id WHERE d.subscriber_id = ?
			UNION ALL
			SELECT kind, status, coalesce(sent_at, created_at), message_id, '[]' FROM mail_queue WHERE subscriber_id = ?)
		ORDER BY at`, func(sc scanner) (model.SentItem, error) {
		var (
			it  model.SentItem
			at  int64
			ids string
		)
		if err := sc.Scan(&it.Kind, &it.Status, &at, &it.MessageID, &ids); err != nil {
			return it, err
		}
		it.At = time.Unix(at, 0).UTC()
		for _, f := range strings.FieldsFunc(strings.Trim(ids, "[]"), func(r rune) bool { return r == ',' }) {
			var id int64
			if _, err := fmt.Sscan(strings.TrimSpace(f), &id); err == nil {
				it.ArticleIDs = append(it.ArticleIDs, id)
			}
		}
		return it, nil
	}, subscriberID, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("store: what was sent to %d: %w", subscriberID, err)
	}
	return out, nil
}
