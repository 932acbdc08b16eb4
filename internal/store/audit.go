package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// RecordAudit appends one entry to the audit log (At defaults to now).
func (s *Store) RecordAudit(ctx context.Context, e model.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.Now()
	}
	var editor any
	if e.EditorID != 0 {
		editor = e.EditorID
	}
	_, err := s.W.ExecContext(ctx, `INSERT INTO audit_log (at, editor_id, actor, action, target, detail, client)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.At.Unix(), editor, e.Actor, e.Action, e.Target, e.Detail, e.Client)
	if err != nil {
		return fmt.Errorf("store: record audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog returns up to limit entries newest first: at or after since
// (zero: any time) and with ids below before (0: from the newest).
func (s *Store) AuditLog(ctx context.Context, since time.Time, before int64, limit int) ([]model.AuditEntry, error) {
	if limit <= 0 {
		limit = 50
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	var from int64
	if !since.IsZero() {
		from = since.Unix()
	}
	// Ids grow with time: the oldest id at or after since bounds the walk
	// down the primary key, so a narrow window never scans the whole log.
	out, err := queryRows(ctx, s.R, `SELECT id, at, editor_id, actor, action, target, detail, client FROM audit_log
		WHERE id < ? AND id >= (SELECT coalesce(min(id), 9223372036854775807) FROM audit_log WHERE at >= ?)
		ORDER BY id DESC LIMIT ?`, func(sc scanner) (model.AuditEntry, error) {
		var (
			e      model.AuditEntry
			at     int64
			editor sql.NullInt64
		)
		err := sc.Scan(&e.ID, &at, &editor, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Client)
		e.At, e.EditorID = time.Unix(at, 0).UTC(), editor.Int64
		return e, err
	}, before, from, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return out, nil
}
