package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

func TestFeedStateNeverGoesBackwards(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	st, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, mod, err := st.FeedState(ctx, "/feeds/all.rss")
	if err != nil || sum != "" || !mod.IsZero() {
		t.Fatalf("unrecorded feed: %q %v %v", sum, mod, err)
	}
	t1 := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	if got, err := st.SaveFeedState(ctx, "/feeds/all.rss", "aa", t1); err != nil || !got.Equal(t1) {
		t.Fatalf("save: %v %v", got, err)
	}
	// An earlier clock (restart with a skewed clock) must not move it back.
	if got, err := st.SaveFeedState(ctx, "/feeds/all.rss", "bb", t1.Add(-time.Hour)); err != nil || !got.Equal(t1) {
		t.Fatalf("save earlier: %v %v", got, err)
	}
	st.Close()
	st, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum, mod, err = st.FeedState(ctx, "/feeds/all.rss")
	if err != nil || sum != "bb" || !mod.Equal(t1) {
		t.Fatalf("after reopen: %q %v %v", sum, mod, err)
	}
}

// TestFeedStateAnswersWhileWriterWaits: a CMS holds SQLite's write lock and
// herald's single writer connection is queued behind it (a SaveFeedState
// waiting out the busy timeout); FeedState still answers at once, from the
// query_only reader pool, and sees what was committed.
func TestFeedStateAnswersWhileWriterWaits(t *testing.T) {
	s, _ := MustOpen(t)
	ctx := context.Background()
	mod := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	if _, err := s.SaveFeedState(ctx, "/feeds/all.rss", "aa", mod); err != nil {
		t.Fatal(err)
	}

	var mode string
	if err := s.R.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("reader journal_mode = %q, %v; want wal", mode, err)
	}
	if _, err := s.R.ExecContext(ctx, `INSERT INTO feed_state (path, sha256, modified_at) VALUES ('/x', 'x', 0)`); err == nil {
		t.Fatal("the reader pool accepted a write: it is not query_only")
	}

	cms, err := sql.Open("sqlite", "file:"+s.Path()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer cms.Close()
	conn, err := cms.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	locked := true
	defer func() {
		if locked {
			conn.ExecContext(ctx, `ROLLBACK`)
		}
	}()

	saved := make(chan error, 1)
	go func() {
		_, err := s.SaveFeedState(ctx, "/feeds/all.rss", "bb", mod.Add(time.Hour))
		saved <- err
	}()
	// Wait until the save holds herald's one writer connection.
	for deadline := time.Now().Add(5 * time.Second); s.W.Stats().InUse == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the queued save never took the writer connection")
		}
		time.Sleep(time.Millisecond)
	}

	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	sum, got, err := s.FeedState(qctx, "/feeds/all.rss")
	if err != nil || sum != "aa" || !got.Equal(mod) {
		t.Fatalf("FeedState while the writer waits: %q %v %v; want aa %v", sum, got, err, mod)
	}

	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	locked = false
	if err := <-saved; err != nil {
		t.Fatalf("queued save: %v", err)
	}
	sum, got, err = s.FeedState(ctx, "/feeds/all.rss")
	if err != nil || sum != "bb" || !got.Equal(mod.Add(time.Hour)) {
		t.Fatalf("FeedState after the save committed: %q %v %v", sum, got, err)
	}
}
