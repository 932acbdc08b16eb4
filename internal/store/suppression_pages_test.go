package store

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

// SuppressionPage walks each reason's entries a page at a time, every
// entry once and in order: operator entries (an address starting with '!'
// sorts before the erased hashes, the rest after them) without the
// hashes, the hashes alone, and bounced subscribers newest change first,
// ties in one second by id, across page boundaries.
func TestSuppressionPages(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	key, err := s.SuppressionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"zed@example.com", "@blocked.example", "!bang@example.com", "amy@example.org"} {
		if err := s.Suppress(ctx, e, "note "+e); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"gone1@example.com", "gone2@example.com", "gone3@example.com"} {
		if err := s.SuppressErased(ctx, key, mustAddress(t, a)); err != nil {
			t.Fatal(err)
		}
	}
	var bounced []int64
	for i := range 7 {
		sub, _, err := s.UpsertSubscriber(ctx, mustAddress(t, fmt.Sprintf("b%d@example.com", i)), "", model.SubscriberBounced)
		if err != nil {
			t.Fatal(err)
		}
		bounced = append(bounced, sub.ID)
	}
	if _, _, err := s.UpsertSubscriber(ctx, "c@example.com", "", model.SubscriberComplained); err != nil {
		t.Fatal(err)
	}
	// b0 and b1 changed earlier; the others share one second.
	if _, err := s.W.ExecContext(ctx, `UPDATE subscribers SET updated_at = updated_at - 100 WHERE id IN (?, ?)`, bounced[0], bounced[1]); err != nil {
		t.Fatal(err)
	}
	walk := func(reason string, size int) []model.Suppression {
		t.Helper()
		var all []model.Suppression
		after := ""
		for range 20 {
			page, err := s.SuppressionPage(ctx, model.SuppressionQuery{Reason: reason, After: after, Limit: size})
			if err != nil {
				t.Fatalf("%s after %q: %v", reason, after, err)
			}
			all = append(all, page...)
			if len(page) < size {
				return all
			}
			after = page[len(page)-1].Cursor()
		}
		t.Fatalf("%s: no end", reason)
		return nil
	}
	entries := func(sps []model.Suppression) []string {
		var out []string
		for _, sp := range sps {
			out = append(out, sp.Entry)
		}
		return out
	}
	op := walk(model.SuppressedOperator, 2)
	if got, want := entries(op), []string{"!bang@example.com", "@blocked.example", "amy@example.org", "zed@example.com"}; !slices.Equal(got, want) {
		t.Errorf("operator entries %v, want %v", got, want)
	}
	if op[1].Note != "note @blocked.example" || op[1].Reason != model.SuppressedOperator || op[1].SubscriberID != 0 {
		t.Errorf("operator entry %+v", op[1])
	}
	er := walk(model.SuppressedErased, 2)
	if len(er) != 3 || !slices.IsSorted(entries(er)) || er[0].Reason != model.SuppressedErased || er[0].Entry[0] != '#' {
		t.Errorf("erased entries %+v", er)
	}
	for _, size := range []int{1, 2, 3, 50} {
		b := walk(model.SuppressedBounced, size)
		var ids []int64
		for _, sp := range b {
			ids = append(ids, sp.SubscriberID)
		}
		want := []int64{bounced[6], bounced[5], bounced[4], bounced[3], bounced[2], bounced[1], bounced[0]}
		if !slices.Equal(ids, want) {
			t.Errorf("bounced in pages of %d: %v, want %v", size, ids, want)
		}
	}
	if c := walk(model.SuppressedComplained, 5); len(c) != 1 || c[0].Entry != "c@example.com" || c[0].Reason != model.SuppressedComplained {
		t.Errorf("complained %+v", c)
	}
	if _, err := s.SuppressionPage(ctx, model.SuppressionQuery{Reason: "bounced", After: "nonsense"}); model.ErrorCode(err) != model.ENOTFOUND {
		t.Errorf("a bad cursor: %v", err)
	}
}

// SuppressionsOf with a nil key reads the stored key and never makes one
// (a page's read changes nothing): with none stored it still finds the
// address's other entries, with one it finds the erased hash too.
func TestSuppressionsOfStoredKey(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	if err := s.Suppress(ctx, "@example.com", "domain"); err != nil {
		t.Fatal(err)
	}
	sps, err := s.SuppressionsOf(ctx, nil, "ann@example.com")
	if err != nil || len(sps) != 1 || sps[0].Entry != "@example.com" {
		t.Fatalf("without a key: %+v %v", sps, err)
	}
	if _, err := s.Setting(ctx, "suppression_key"); model.ErrorCode(err) != model.ENOTFOUND {
		t.Fatalf("a read made the key: %v", err)
	}
	key, err := s.SuppressionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SuppressErased(ctx, key, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	if sps, err := s.SuppressionsOf(ctx, nil, "ann@example.com"); err != nil || len(sps) != 2 {
		t.Fatalf("with the stored key: %+v %v", sps, err)
	}
}
