package store

import (
	"context"
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
