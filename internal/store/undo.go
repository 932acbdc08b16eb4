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

// undoEntry is one subscription as an undo snapshot keeps it.
type undoEntry struct {
	Digest   string   `json:"digest"`
	Status   string   `json:"status"`
	Sections []string `json:"sections,omitempty"`
	Authors  []string `json:"authors,omitempty"`
}

// SaveUndo keeps subs — a subscriber's subscriptions just before an
// unsubscribe — until expires, and returns the snapshot's id. Expired
// snapshots and the subscriber's earlier ones go in the same transaction.
func (s *Store) SaveUndo(ctx context.Context, subscriberID int64, subs []model.Subscription, expires time.Time) (int64, error) {
	entries := make([]undoEntry, 0, len(subs))
	for _, su := range subs {
		entries = append(entries, undoEntry{Digest: su.Digest, Status: su.Status, Sections: su.Sections, Authors: su.Authors})
	}
	b, err := json.Marshal(entries)
	if err != nil {
		return 0, err
	}
	var id int64
	now := s.Now().Unix()
	err = s.Tx(ctx, func(tx *sql.Tx) error {
		// A newer unsubscribe supersedes the reader's older undo links:
		// only the last one restores, so an old link cannot bring back
		// what the reader has since left again.
		if _, err := tx.ExecContext(ctx, `DELETE FROM undo_snapshots WHERE expires_at < ? OR subscriber_id = ?`, now, subscriberID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO undo_snapshots (subscriber_id, subscriptions, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			subscriberID, string(b), now, expires.Unix())
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: save undo of subscriber %d: %w", subscriberID, err)
	}
	return id, nil
}

// Undo returns snapshot id: whose it is and the subscriptions it kept, or
// ErrNotFound when it is gone (expired, or the subscriber erased).
func (s *Store) Undo(ctx context.Context, id int64) (int64, []model.Subscription, error) {
	var (
		subscriberID int64
		raw          string
	)
	err := s.R.QueryRowContext(ctx, `SELECT subscriber_id, subscriptions FROM undo_snapshots WHERE id = ? AND expires_at >= ?`, id, s.Now().Unix()).
		Scan(&subscriberID, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, ErrNotFound
	}
	if err != nil {
		return 0, nil, fmt.Errorf("store: undo %d: %w", id, err)
	}
	var entries []undoEntry
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		return 0, nil, fmt.Errorf("store: undo %d: %w", id, err)
	}
	subs := make([]model.Subscription, 0, len(entries))
	for _, e := range entries {
		subs = append(subs, model.Subscription{SubscriberID: subscriberID, Digest: e.Digest, Status: e.Status, Sections: e.Sections, Authors: e.Authors})
	}
	return subscriberID, subs, nil
}

// ClaimUndo removes snapshot id for the one restore it allows, and reports
// whether this call removed it: of two restores at once, one wins.
func (s *Store) ClaimUndo(ctx context.Context, id int64) (bool, error) {
	res, err := s.W.ExecContext(ctx, `DELETE FROM undo_snapshots WHERE id = ? AND expires_at >= ?`, id, s.Now().Unix())
	if err != nil {
		return false, fmt.Errorf("store: claim undo %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DropUndos removes every snapshot of a subscriber: their subscriptions
// changed in a way an older undo link must not revert.
func (s *Store) DropUndos(ctx context.Context, subscriberID int64) error {
	if _, err := s.W.ExecContext(ctx, `DELETE FROM undo_snapshots WHERE subscriber_id = ?`, subscriberID); err != nil {
		return fmt.Errorf("store: drop the undo snapshots of subscriber %d: %w", subscriberID, err)
	}
	return nil
}
