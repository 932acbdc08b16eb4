package scheduler

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/heraldnews/herald/internal/config"
)

// fakeZones is a ZoneSource the test changes.
type fakeZones struct {
	mu    sync.Mutex
	zones []string
}

func (f *fakeZones) SubscriberZones(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.zones), nil
}

func (f *fakeZones) set(zones ...string) { f.mu.Lock(); f.zones = zones; f.mu.Unlock() }

func localSpec(spec, tz string) config.Digest {
	d := digestOf(spec, tz)
	d.Delivery = config.DeliveryLocal
	return d
}

// A local digest runs one slot per zone in use at that zone's wall-clock
// time, each keyed by its zone and recorded as digest@zone, plus the
// digest's own zone (readers of unknown or unloadable zones); the digest's
// own record follows the latest.
func TestLocalDigestRunsEachZone(t *testing.T) {
	d := localSpec("0 7 * * *", "Europe/London")
	from := utc(2026, 11, 27, 12, 0)
	st := newMemStore()
	if err := st.RecordSlot(context.Background(), "daily", "before", from, from); err != nil {
		t.Fatal(err)
	}
	zones := &fakeZones{zones: []string{"", "Asia/Kolkata", "Pacific/Auckland", "Nowhere/Atlantis", "Local"}}
	h := newHarness(t, from, st, []config.Digest{d}, nil, WithZones(zones))
	h.start()
	h.stepTo(utc(2026, 11, 28, 12, 0))
	h.stop()
	want := []string{
		"2026-11-28T07:00 Pacific/Auckland at 2026-11-27 18:00Z",
		"2026-11-28T07:00 Asia/Kolkata at 2026-11-28 01:30Z",
		"2026-11-28T07:00 Europe/London at 2026-11-28 07:00Z",
	}
	if got := h.gotKeys(); !sameList(got, want) {
		t.Fatalf("runs:\n got %q\nwant %q", got, want)
	}
	for _, r := range h.got() {
		if r.Digest != "daily" || r.Key != r.Key[:16]+" "+r.Zone || !r.began.Equal(r.At) || r.Previous.IsZero() {
			t.Errorf("slot %+v", r)
		}
	}
	for rec, key := range map[string]string{
		"daily@Pacific/Auckland": "2026-11-28T07:00 Pacific/Auckland",
		"daily@Europe/London":    "2026-11-28T07:00 Europe/London",
		"daily":                  "2026-11-28T07:00 Europe/London",
	} {
		if got := st.last(rec); got != key {
			t.Errorf("record %s = %q, want %q", rec, got, key)
		}
	}
	if got := h.s.Next("daily"); !got.Equal(utc(2026, 11, 28, 18, 0)) {
		t.Errorf("Next = %v, want Auckland's", got)
	}
}

// A zone readers newly live in joins with its next slot: the slot that
// passed before anyone lived there is not caught up.
func TestNewZoneJoinsAtItsNextSlot(t *testing.T) {
	d := localSpec("0 7 * * *", "UTC")
	from := utc(2026, 11, 27, 12, 0)
	st := newMemStore()
	recordDue(t, st, d, from)
	zones := &fakeZones{}
	h := newHarness(t, from, st, []config.Digest{d}, nil, WithZones(zones))
	h.start()
	h.stepTo(utc(2026, 11, 28, 2, 0)) // Kolkata's 07:00 has passed
	zones.set("Asia/Kolkata")
	h.stepTo(utc(2026, 11, 29, 2, 0))
	h.stop()
	want := []string{
		"2026-11-28T07:00 UTC at 2026-11-28 07:00Z",
		"2026-11-29T07:00 Asia/Kolkata at 2026-11-29 01:30Z",
	}
	if got := h.gotKeys(); !sameList(got, want) {
		t.Fatalf("runs:\n got %q\nwant %q", got, want)
	}
}

// At start, each zone group catches up its own missed slot; a group never
// recorded counts the digest's own record (the latest slot of any group,
// or of the digest before it went local).
func TestZoneCatchUpAtStart(t *testing.T) {
	d := localSpec("0 7 * * *", "Europe/London")
	ctx := context.Background()
	st := newMemStore()
	// Kolkata ran yesterday; London and the digest ran yesterday too.
	_ = st.RecordSlot(ctx, "daily@Asia/Kolkata", "2026-11-27T07:00 Asia/Kolkata", utc(2026, 11, 27, 1, 30), utc(2026, 11, 27, 1, 30))
	_ = st.RecordSlot(ctx, "daily", "2026-11-27T07:00 Europe/London", utc(2026, 11, 27, 7, 0), utc(2026, 11, 27, 7, 0))
	zones := &fakeZones{zones: []string{"Asia/Kolkata", "Asia/Tokyo"}}
	h := newHarness(t, utc(2026, 11, 28, 3, 0), st, []config.Digest{d}, nil, WithZones(zones))
	h.start()
	h.stop()
	// Kolkata (01:30Z) and Tokyo (22:00Z, after the digest's record) are
	// caught up; London's slot is still to come.
	want := []string{
		"2026-11-28T07:00 Asia/Kolkata at 2026-11-28 01:30Z",
		"2026-11-28T07:00 Asia/Tokyo at 2026-11-27 22:00Z",
	}
	got := h.gotKeys()
	slices.Sort(got)
	if !sameList(got, want) {
		t.Fatalf("caught up:\n got %q\nwant %q", got, want)
	}
}

func TestLocalDigestNeedsZones(t *testing.T) {
	if _, err := New(newMemStore(), []config.Digest{localSpec("0 7 * * *", "UTC")}, func(context.Context, Slot) error { return nil }); err == nil {
		t.Fatal("a local digest without WithZones was accepted")
	}
}
