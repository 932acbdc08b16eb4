package store

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"testing"
	"time"
)

// Migration 0006 lets subscribers.status be complained by widening the
// check in place: every row keeps its ids, and what a database added to
// the table before 0006 ran (a later migration's column and index, as on
// a database that ran 0010 first) stays; foreign keys hold as before.
func TestLifecycleMigrationKeepsRows(t *testing.T) {
	ctx := context.Background()
	w, err := sql.Open("sqlite", DSN(t.TempDir()+"/herald.db", false))
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	s := &Store{W: w, Now: func() time.Time { return fixedNow }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	defer w.Close()
	if _, err := w.ExecContext(ctx, `CREATE TABLE herald_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version < 6 {
			if err := s.apply(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, q := range []string{
		`INSERT INTO subscribers (id, email, status, created_at, updated_at) VALUES (7, 'a@example.com', 'active', 1, 1), (9, 'b@example.com', 'bounced', 1, 2)`,
		`INSERT INTO subscriptions (id, subscriber_id, digest, created_at, updated_at) VALUES (3, 7, 'daily', 1, 1), (4, 9, 'daily', 1, 1)`,
		`INSERT INTO subscription_follows (subscription_id, kind, slug) VALUES (3, 'section', 'world')`,
		`INSERT INTO editions (id, digest, kind, cutoff, since, created_at) VALUES (1, 'daily', 'manual', 1, 0, 1)`,
		`INSERT INTO deliveries (id, edition_id, subscriber_id, subscription_id, message_id) VALUES (5, 1, 7, 3, '<m@x>')`,
		// What a later migration adds, applied here first.
		`ALTER TABLE subscribers ADD COLUMN zone_test TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX subscribers_zone_test ON subscribers (zone_test)`,
		`UPDATE subscribers SET zone_test = 'Pacific/Auckland' WHERE id = 7`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := w.ExecContext(ctx, `UPDATE subscribers SET status = 'complained' WHERE id = 7`); err == nil {
		t.Fatal("complained accepted before the migration")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("a second run: %v", err)
	}
	var n int
	for q, want := range map[string]int{
		`SELECT count(*) FROM subscriptions WHERE id IN (3, 4)`:                                      2,
		`SELECT count(*) FROM subscription_follows WHERE subscription_id = 3`:                        1,
		`SELECT count(*) FROM deliveries WHERE id = 5 AND subscriber_id = 7`:                         1,
		`SELECT count(*) FROM subscribers WHERE id = 7 AND zone_test = 'Pacific/Auckland'`:           1,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'subscribers_zone_test'`: 1,
		`SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'`:                   1,
	} {
		if err := w.QueryRowContext(ctx, q).Scan(&n); err != nil || n != want {
			t.Errorf("%s = %d, %v; want %d", q, n, err, want)
		}
	}
	if _, err := w.ExecContext(ctx, `UPDATE subscribers SET status = 'complained' WHERE id = 7`); err != nil {
		t.Errorf("complained refused: %v", err)
	}
	if _, err := w.ExecContext(ctx, `UPDATE subscribers SET status = 'gone' WHERE id = 7`); err == nil {
		t.Error("the check accepts anything now")
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO subscriptions (subscriber_id, digest, created_at, updated_at) VALUES (99, 'daily', 1, 1)`); err == nil {
		t.Error("foreign keys are off after the migration")
	}
	if _, err := w.ExecContext(ctx, `DELETE FROM subscribers WHERE id = 9`); err != nil {
		t.Fatal(err)
	}
	if err := w.QueryRowContext(ctx, `SELECT count(*) FROM subscriptions WHERE id = 4`).Scan(&n); err != nil || n != 0 {
		t.Errorf("ON DELETE CASCADE lost: %d subscriptions of a deleted subscriber", n)
	}
}
