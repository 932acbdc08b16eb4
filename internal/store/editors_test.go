package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// Sessions keep data until their expiry (wall clock); delete is final and
// a missing token no error.
func TestSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	ss := s.Sessions()
	if err := ss.Commit("tok", []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ss.Commit("old", []byte("x"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := ss.Find("tok"); !ok || err != nil || string(b) != "data" {
		t.Fatalf("find: %q %v %v", b, ok, err)
	}
	if _, ok, _ := ss.Find("old"); ok {
		t.Fatal("expired session found")
	}
	if err := ss.Commit("tok", []byte("more"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, _, _ := ss.Find("tok"); string(b) != "more" {
		t.Fatalf("replace: %q", b)
	}
	if n, err := ss.DeleteExpired(ctx); n != 1 || err != nil {
		t.Fatalf("expired removed: %d %v", n, err)
	}
	if err := ss.Delete("tok"); err != nil {
		t.Fatal(err)
	}
	if err := ss.Delete("tok"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ss.Find("tok"); ok {
		t.Fatal("deleted session found")
	}
}

// Subscriber search pages by id, newest first, with every filter.
func TestSearchSubscribers(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	for i := range 30 {
		st := model.SubscriberActive
		if i%3 == 0 {
			st = model.SubscriberPending
		}
		sub, _, err := s.UpsertSubscriber(ctx, mustAddress(t, fmt.Sprintf("user%02d@example.com", i)), "", st)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := s.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	page, err := s.SearchSubscribers(ctx, model.SubscriberQuery{Limit: 10})
	if err != nil || len(page) != 10 || page[0].Email != "user29@example.com" {
		t.Fatalf("first page: %v %v", page, err)
	}
	next, _ := s.SearchSubscribers(ctx, model.SubscriberQuery{Before: page[9].ID, Limit: 10})
	if len(next) != 10 || next[0].ID != page[9].ID-1 {
		t.Fatalf("next page: %v", next)
	}
	for _, tc := range []struct {
		q    model.SubscriberQuery
		want int
	}{
		{model.SubscriberQuery{Email: "USER1"}, 10},
		{model.SubscriberQuery{Email: "user_"}, 0}, // _ is literal, not a wildcard
		{model.SubscriberQuery{Status: model.SubscriberPending}, 10},
		{model.SubscriberQuery{Digest: "daily"}, 15},
		{model.SubscriberQuery{Digest: "daily", Status: model.SubscriberPending}, 5},
		{model.SubscriberQuery{Digest: "daily", Email: "user2"}, 5},
	} {
		tc.q.Limit = 100
		if got, err := s.SearchSubscribers(ctx, tc.q); len(got) != tc.want || err != nil {
			t.Errorf("%+v: %d, want %d (%v)", tc.q, len(got), tc.want, err)
		}
	}
}

// A finished edition's counts are cached once settled; a live one is
// counted; progress derives sent from the total.
func TestEditionCountsAndProgress(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	now := fixedNow
	e, _, err := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: now, Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var ds []model.Delivery
	for i := range 4 {
		sub, _, _ := s.UpsertSubscriber(ctx, mustAddress(t, fmt.Sprintf("p%d@example.com", i)), "", model.SubscriberActive)
		su, _ := s.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, "")
		ds = append(ds, model.Delivery{SubscriberID: sub.ID, SubscriptionID: su.ID, Status: model.DeliveryPending, ArticleIDs: []int64{1}})
	}
	if err := s.InsertDeliveries(ctx, e.ID, ds, 99); err != nil {
		t.Fatal(err)
	}
	if st, c, total, err := s.EditionProgress(ctx, e.ID, 0); err != nil || st != model.EditionPlanning || total != 0 || c[model.DeliveryPending] != 4 {
		t.Fatalf("progress while planning: %s %v %d %v", st, c, total, err)
	}
	_ = s.SetEditionStatus(ctx, e.ID, model.EditionSending)
	st, c, total, err := s.EditionProgress(ctx, e.ID, 0)
	if err != nil || st != model.EditionSending || total != 4 || c[model.DeliveryPending] != 4 {
		t.Fatalf("progress: %s %v %d %v", st, c, total, err)
	}
	due, _ := s.DueDeliveries(ctx, e.ID, now, 0, 10)
	due[0].Status, due[1].Status = model.DeliverySent, model.DeliveryFailed
	if err := s.RecordDeliveries(ctx, due[:2], nil); err != nil {
		t.Fatal(err)
	}
	_, c, _, _ = s.EditionProgress(ctx, e.ID, total)
	if c[model.DeliverySent] != 1 || c[model.DeliveryFailed] != 1 || c[model.DeliveryPending] != 2 {
		t.Fatalf("derived counts: %v", c)
	}
	_ = s.SetEditionStatus(ctx, e.ID, model.EditionCancelled)
	s.Now = func() time.Time { return now.Add(time.Hour) }
	got, err := s.EditionSummary(ctx, e.ID)
	if err != nil || got.Counts[model.DeliveryCancelled] != 2 {
		t.Fatalf("summary: %v %v", got.Counts, err)
	}
	var cached string
	if err := s.R.QueryRow(`SELECT counts FROM edition_counts WHERE edition_id = ?`, e.ID).Scan(&cached); err != nil {
		t.Fatalf("not cached: %v", err)
	}
	page, err := s.EditionPage(ctx, 0, 10)
	if err != nil || len(page) != 1 || page[0].Counts[model.DeliverySent] != 1 {
		t.Fatalf("page: %v %v", page, err)
	}
	if last, ok, err := s.LatestEdition(ctx, "daily"); !ok || err != nil || last.ID != e.ID {
		t.Fatalf("latest: %v %v %v", last, ok, err)
	}
}
