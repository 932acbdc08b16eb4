package store

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

func TestSubscriberUpsertAndLookup(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	sub, created, err := s.UpsertSubscriber(ctx, mustAddress(t, " Ann@Example.COM"), "Ann", "")
	if err != nil || !created || sub.Status != model.SubscriberPending || sub.Email != "Ann@example.com" {
		t.Fatalf("create: %+v %v %v", sub, created, err)
	}
	// Same address in another case: the same row, name and status updated.
	again, created, err := s.UpsertSubscriber(ctx, mustAddress(t, "ann@example.com"), "Ann B", model.SubscriberActive)
	if err != nil || created || again.ID != sub.ID || again.Name != "Ann B" || again.Status != model.SubscriberActive || again.ConfirmedAt.IsZero() {
		t.Fatalf("update: %+v %v %v", again, created, err)
	}
	got, ok, err := s.FindSubscriber(ctx, mustAddress(t, "ANN@EXAMPLE.COM"))
	if err != nil || !ok || got.ID != sub.ID {
		t.Fatalf("find: %+v %v %v", got, ok, err)
	}
	if _, ok, err := s.FindSubscriber(ctx, "nobody@example.com"); ok || err != nil {
		t.Fatalf("find missing: %v %v", ok, err)
	}
	su, err := s.UpsertSubscription(ctx, sub.ID, "daily", []string{"world", "world"}, []string{"ann"}, "")
	if err != nil || su.Status != model.SubscriptionActive {
		t.Fatal(su, err)
	}
	su2, err := s.SubscriptionByID(ctx, su.ID)
	if err != nil || !reflect.DeepEqual(su2.Sections, []string{"world"}) || !reflect.DeepEqual(su2.Authors, []string{"ann"}) {
		t.Fatalf("follows: %+v %v", su2, err)
	}
	// Replacing follows with none: follows everything.
	if _, err := s.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	subs, err := s.SubscriptionsOf(ctx, sub.ID)
	if err != nil || len(subs) != 1 || !subs[0].FollowsAll() {
		t.Fatalf("subscriptions: %+v %v", subs, err)
	}
	page, err := s.ActiveSubscriptions(ctx, "daily", 0, 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("active: %+v %v", page, err)
	}
	if err := s.SetSubscriptionStatus(ctx, su.ID, model.SubscriptionUnsubscribed); err != nil {
		t.Fatal(err)
	}
	if page, _ := s.ActiveSubscriptions(ctx, "daily", 0, 10); len(page) != 0 {
		t.Fatalf("unsubscribed still active: %+v", page)
	}
	if err := s.RemoveSubscriber(ctx, mustAddress(t, "ann@EXAMPLE.com")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SubscriberByID(ctx, sub.ID); got.Status != model.SubscriberErased || got.Name != "" {
		t.Fatalf("removed: %+v", got)
	}
	if err := s.RemoveSubscriber(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove missing: %v", err)
	}
	n := 0
	if err := s.EachSubscriber(ctx, func(model.Subscriber, []model.Subscription) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("each: %d %v", n, err)
	}
}

func TestActiveSubscriptionsPagesOnlyActiveSubscribers(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	for i, st := range []string{model.SubscriberActive, model.SubscriberPending, model.SubscriberBounced, model.SubscriberActive, model.SubscriberErased} {
		sub, _, err := s.UpsertSubscriber(ctx, model.Address(string(rune('a'+i))+"@example.com"), "", st)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	first, err := s.ActiveSubscriptions(ctx, "daily", 0, 1)
	if err != nil || len(first) != 1 {
		t.Fatal(first, err)
	}
	rest, err := s.ActiveSubscriptions(ctx, "daily", first[0].ID, 10)
	if err != nil || len(rest) != 1 || rest[0].SubscriberID != 4 {
		t.Fatalf("rest: %+v %v", rest, err)
	}
}

// mustAddress is model.ParseAddress for tests: the store takes addresses
// already in normal form.
func mustAddress(tb testing.TB, s string) model.Address {
	tb.Helper()
	a, err := model.ParseAddress(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}
