package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestScheduleSlots(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	st, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, at, err := st.LastSlot(ctx, "daily")
	if err != nil || key != "" || !at.IsZero() {
		t.Fatalf("unrecorded digest: %q %v %v", key, at, err)
	}

	mon := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	tue := mon.AddDate(0, 0, 1)
	steps := []struct {
		name    string
		key     string
		slotAt  time.Time
		wantKey string
		wantAt  time.Time
	}{
		{"first record", "2026-11-30T07:00 UTC", mon, "2026-11-30T07:00 UTC", mon},
		{"later slot replaces it", "2026-12-01T07:00 UTC", tue, "2026-12-01T07:00 UTC", tue},
		{"same slot again keeps it", "2026-12-01T07:00 UTC", tue, "2026-12-01T07:00 UTC", tue},
		{"earlier slot never moves it back", "2026-11-30T07:00 UTC", mon, "2026-12-01T07:00 UTC", tue},
	}
	for _, s := range steps {
		if err := st.RecordSlot(ctx, "daily", s.key, s.slotAt, s.slotAt.Add(time.Minute)); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		key, at, err := st.LastSlot(ctx, "daily")
		if err != nil || key != s.wantKey || !at.Equal(s.wantAt) {
			t.Errorf("%s: got %q %v %v, want %q %v", s.name, key, at, err, s.wantKey, s.wantAt)
		}
	}
	// Digests are independent, and the record survives a reopen.
	if err := st.RecordSlot(ctx, "weekly", "2026-11-30T08:00 Europe/London", mon.Add(time.Hour), mon.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if key, at, err := st.LastSlot(ctx, "daily"); err != nil || key != "2026-12-01T07:00 UTC" || !at.Equal(tue) {
		t.Errorf("daily after reopen: %q %v %v", key, at, err)
	}
	if key, _, err := st.LastSlot(ctx, "weekly"); err != nil || key != "2026-11-30T08:00 Europe/London" {
		t.Errorf("weekly after reopen: %q %v", key, err)
	}
}
