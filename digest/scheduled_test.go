package digest_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// Two fires of one slot give one edition and one digest per subscriber;
// the next slot sends only what is new since, with the lookback being the
// time since the previous slot.
func TestRunSlotOnceAndLookback(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	e.subscriber("ada@example.com", "Ada", model.SubscriberActive, nil, nil)
	e.article("old", "Too old for the window", "world", 30*time.Hour, "ann")
	e.article("new", "Fresh story", "world", 2*time.Hour, "bob")

	at := e.clock.Now().Truncate(time.Hour)
	prev := at.Add(-24 * time.Hour)
	key := at.In(time.UTC).Format("2006-01-02T15:04") + " Europe/London"
	first, err := e.svc.RunSlot(ctx, "daily", key, at, prev, 0)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.RunSlot(ctx, "daily", key, at, prev, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.EditionID == 0 || second.EditionID != first.EditionID {
		t.Errorf("editions %d and %d for one slot", first.EditionID, second.EditionID)
	}
	msgs := e.fake.to("ada@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d digests for one slot", len(msgs))
	}
	if got := carries(msgs[0], "Fresh story", "Too old for the window"); len(got) != 1 || got[0] != "Fresh story" {
		t.Errorf("carried %v", got)
	}
	ed, err := e.store.Edition(ctx, first.EditionID)
	if err != nil {
		t.Fatal(err)
	}
	if ed.Kind != model.EditionScheduled || ed.Slot != key || !ed.Cutoff.Equal(at) || !ed.Since.Equal(prev) {
		t.Errorf("edition = %+v", ed)
	}

	// The next slot: only the article published since.
	e.clock.Add(24 * time.Hour)
	e.article("next", "Next day story", "sport", time.Hour, "cat")
	next := at.Add(24 * time.Hour)
	if _, err := e.svc.RunSlot(ctx, "daily", next.Format("2006-01-02T15:04")+" Europe/London", next, at, 0); err != nil {
		t.Fatal(err)
	}
	msgs = e.fake.to("ada@example.com")
	if len(msgs) != 2 || len(carries(msgs[1], "Fresh story")) != 0 || len(carries(msgs[1], "Next day story")) != 1 {
		t.Errorf("second slot: %d digests", len(msgs))
	}
}
