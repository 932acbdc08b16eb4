package store

import (
	"context"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// An undo link names a snapshot by id: a used, superseded or erased
// snapshot's id is never given to another, so an old link can never
// restore someone else's subscriptions or a newer state of its own.
func TestUndoSnapshotsNeverReuseIDs(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	ada := addReader(t, s, "ada@example.com", "", "daily")
	bob := addReader(t, s, "bob@example.com", "", "daily")
	later := time.Now().Add(time.Hour)
	subs := []model.Subscription{{Digest: "daily", Status: model.SubscriptionActive}}

	first, err := s.SaveUndo(ctx, ada.ID, subs, later)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.SaveUndo(ctx, ada.ID, subs, later) // supersedes the first
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Undo(ctx, first); model.ErrorCode(err) != model.ENOTFOUND {
		t.Fatalf("a superseded snapshot: %v", err)
	}
	if ok, err := s.ClaimUndo(ctx, second); err != nil || !ok { // used
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, err := s.ClaimUndo(ctx, second); err != nil || ok {
		t.Fatalf("a second claim of one snapshot: %v %v", ok, err)
	}
	third, err := s.SaveUndo(ctx, bob.ID, subs, later) // the table is empty now
	if err != nil {
		t.Fatal(err)
	}
	if third == first || third == second {
		t.Fatalf("bob's snapshot took id %d again (ada's were %d, %d)", third, first, second)
	}
	for _, id := range []int64{first, second} {
		if _, _, err := s.Undo(ctx, id); model.ErrorCode(err) != model.ENOTFOUND {
			t.Fatalf("snapshot %d: %v", id, err)
		}
	}
	if who, _, err := s.Undo(ctx, third); err != nil || who != bob.ID {
		t.Fatalf("bob's snapshot: %d %v", who, err)
	}
}
