package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// addReader adds an active subscriber in zone tz subscribed to digest.
func addReader(t *testing.T, s *Store, email, tz, digest string) model.Subscriber {
	t.Helper()
	ctx := context.Background()
	sub, _, err := s.UpsertSubscriber(ctx, model.Address(email), "", model.SubscriberActive)
	if err != nil {
		t.Fatal(err)
	}
	if tz != "" {
		if err := s.SetSubscriberTimezone(ctx, sub.ID, tz); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpsertSubscription(ctx, sub.ID, digest, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestZonesAndZoneSubscriptions(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	var kolkata []int64
	for i := range 5 {
		kolkata = append(kolkata, addReader(t, s, fmt.Sprintf("k%d@example.com", i), "Asia/Kolkata", "daily").ID)
	}
	addReader(t, s, "u@example.com", "", "daily")
	addReader(t, s, "w@example.com", "Asia/Kolkata", "weekly") // another digest
	gone := addReader(t, s, "g@example.com", "Pacific/Auckland", "daily")
	if err := s.SetSubscriberStatus(ctx, gone.ID, model.SubscriberBounced); err != nil {
		t.Fatal(err)
	}
	zones, err := s.SubscriberZones(ctx)
	if err != nil || !reflect.DeepEqual(zones, []string{"", "Asia/Kolkata", "Pacific/Auckland"}) {
		t.Fatalf("zones %q %v", zones, err)
	}
	var got []int64
	for after := int64(0); ; {
		page, err := s.ZoneSubscriptions(ctx, "daily", "Asia/Kolkata", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			got = append(got, p.SubscriberID)
		}
		after = page[len(page)-1].SubscriberID
	}
	if !reflect.DeepEqual(got, kolkata) {
		t.Errorf("Kolkata readers of daily %v, want %v", got, kolkata)
	}
	if page, _ := s.ZoneSubscriptions(ctx, "daily", "Pacific/Auckland", 0, 10); len(page) != 0 {
		t.Errorf("a bounced reader planned: %v", page)
	}
	if sub, _ := s.SubscriberByID(ctx, kolkata[0]); sub.Timezone != "Asia/Kolkata" {
		t.Errorf("subscriber timezone %q", sub.Timezone)
	}
}

// A cursor moves only if it still is what the planner read: two planners
// racing over one reader plan them once.
func TestInsertLocalDeliveriesComparesCursors(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	r := addReader(t, s, "r@example.com", "Europe/London", "daily")
	sub, _ := s.SubscriptionsOf(ctx, r.ID)
	a, _, _ := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionScheduled, Slot: "a", Zone: "Europe/London", Cutoff: fixedNow, Since: fixedNow.Add(-24 * time.Hour)})
	b, _, _ := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionScheduled, Slot: "b", Zone: "Asia/Tokyo", Cutoff: fixedNow, Since: fixedNow.Add(-24 * time.Hour)})
	move := func(e model.Edition, found bool, from model.ReaderCursor) model.CursorMove {
		return model.CursorMove{
			Delivery: model.Delivery{SubscriberID: r.ID, SubscriptionID: sub[0].ID, Status: model.DeliveryPending, ArticleIDs: []int64{1}},
			Found:    found, From: from,
			To: model.ReaderCursor{SubscriberID: r.ID, Through: e.Cutoff, SlotAt: e.Cutoff, Zone: e.Zone},
		}
	}
	// Both read "no cursor"; the first to commit wins.
	if n, err := s.InsertLocalDeliveries(ctx, a.ID, "daily", []model.CursorMove{move(a, false, model.ReaderCursor{})}, "Europe/London", r.ID); err != nil || len(n) != 0 {
		t.Fatal(n, err)
	}
	if n, err := s.InsertLocalDeliveries(ctx, b.ID, "daily", []model.CursorMove{move(b, false, model.ReaderCursor{})}, "Asia/Tokyo", r.ID); err != nil || len(n) != 1 {
		t.Fatalf("second planner: dropped %d, %v", n, err)
	}
	cur, err := s.ReaderCursors(ctx, "daily", []int64{r.ID})
	if err != nil || cur[r.ID].Zone != "Europe/London" || !cur[r.ID].SlotAt.Equal(fixedNow) {
		t.Fatalf("cursor %+v %v", cur, err)
	}
	// A move from the cursor as it is now goes through.
	next := a
	next.Cutoff = fixedNow.Add(24 * time.Hour)
	if n, err := s.InsertLocalDeliveries(ctx, a.ID, "daily", []model.CursorMove{move(next, true, cur[r.ID])}, "Europe/London", r.ID); err != nil || len(n) != 0 {
		t.Fatal(n, err)
	}
	// And from a stale one it does not.
	if n, _ := s.InsertLocalDeliveries(ctx, b.ID, "daily", []model.CursorMove{move(b, true, cur[r.ID])}, "Asia/Tokyo", r.ID); len(n) != 1 {
		t.Fatal("a stale cursor moved")
	}
	ca, _ := s.EditionCounts(ctx, a.ID)
	cb, _ := s.EditionCounts(ctx, b.ID)
	if ca[model.DeliveryPending] != 1 || cb[model.DeliveryPending] != 0 {
		t.Errorf("deliveries: a %v, b %v", ca, cb)
	}
	if zone, through, err := s.LocalPlanningCursor(ctx, b.ID); err != nil || zone != "Asia/Tokyo" || through != r.ID {
		t.Errorf("planning cursor %q %d %v", zone, through, err)
	}
	if e, ok, err := s.UnfinishedZoneEdition(ctx, "daily", "Asia/Tokyo"); err != nil || !ok || e.ID != b.ID || e.Zone != "Asia/Tokyo" {
		t.Errorf("unfinished zone edition %+v %v %v", e, ok, err)
	}
}

// A digest's lease and its zone groups' exclude each other; zone groups
// do not.
func TestLeaseParts(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	now := fixedNow
	s.Now = func() time.Time { return now }
	for _, step := range []struct {
		key, holder string
		want        bool
	}{
		{"daily@Asia/Kolkata", "a", true},
		{"daily@Europe/London", "b", true},  // another group
		{"daily", "c", false},               // the whole digest while groups run
		{"daily_x", "c", true},              // another digest
		{"daily@Asia/Kolkata", "a", true},   // renewal
		{"daily@Asia/Kolkata", "b", false},  // the same group
		{"daily@Asia/Kolkata/x", "c", true}, // not a part of a part
	} {
		if ok, err := s.AcquireLease(ctx, step.key, step.holder, 0, time.Minute); err != nil || ok != step.want {
			t.Errorf("%s by %s: %v %v, want %v", step.key, step.holder, ok, err, step.want)
		}
	}
	if err := s.ReleaseLease(ctx, "daily@Asia/Kolkata", "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AcquireLease(ctx, "daily", "c", 0, time.Minute); ok {
		t.Error("the digest taken while London's group runs")
	}
	now = now.Add(2 * time.Minute) // the groups' holders died
	if ok, _ := s.AcquireLease(ctx, "daily", "c", 0, time.Minute); !ok {
		t.Error("the digest not taken once its groups' leases expired")
	}
	if ok, _ := s.AcquireLease(ctx, "daily@Europe/London", "b", 0, time.Minute); ok {
		t.Error("a group taken while the digest is held")
	}
}
