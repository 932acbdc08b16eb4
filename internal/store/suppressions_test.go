package store

import (
	"context"
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

// Nothing is planned to a suppressed address, in either planning query
// (digest mode and local delivery's zone pages), whether the entry names
// the address (in any case) or its domain; an erased address's hash
// suppresses no one else; removing an entry plans the address again.
func TestPlanningSkipsSuppressed(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	for _, a := range []string{"Ann@example.com", "bob@example.com", "cy@blocked.example", "dee@example.com"} {
		sub, _, err := s.UpsertSubscriber(ctx, mustAddress(t, a), "", model.SubscriberActive)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	planned := func() map[int64]bool {
		t.Helper()
		out := map[int64]bool{}
		a, err := s.ActiveSubscriptions(ctx, "daily", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		z, err := s.ZoneSubscriptions(ctx, "daily", "", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(z) {
			t.Errorf("digest mode plans %d, local %d", len(a), len(z))
		}
		for _, su := range a {
			out[su.SubscriberID] = true
		}
		return out
	}
	if n := len(planned()); n != 4 {
		t.Fatalf("%d planned before any suppression", n)
	}
	key, err := s.SuppressionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SuppressErased(ctx, key, "dee@example.com"); err != nil {
		t.Fatal(err)
	}
	if n := len(planned()); n != 4 {
		t.Fatalf("an erased hash suppressed someone: %d planned", n)
	}
	s.Suppress(ctx, "ANN@example.com", "asked by phone")
	s.Suppress(ctx, "@Blocked.Example", "")
	if p := planned(); len(p) != 2 {
		t.Fatalf("%d planned with ann@ and @blocked.example suppressed, want 2", len(p))
	}
	sps, err := s.SuppressionsOf(ctx, key, "Ann@example.com")
	if err != nil || len(sps) != 1 || sps[0].Reason != model.SuppressedOperator || sps[0].Note != "asked by phone" {
		t.Errorf("SuppressionsOf: %+v %v", sps, err)
	}
	if ok, err := s.Unsuppress(ctx, "ann@EXAMPLE.com"); !ok || err != nil {
		t.Fatalf("unsuppress: %v %v", ok, err)
	}
	if p := planned(); len(p) != 3 {
		t.Fatalf("%d planned after lifting ann@, want 3", len(p))
	}
}
