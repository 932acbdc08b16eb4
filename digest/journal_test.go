package digest_test

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/journal"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/testkit"
)

// A process that dies leaves in the journal results it never put in the
// database. The next lease holder applies them before it sends: the
// accepted message is recorded as the dead process saw it, with its
// relay, and not sent again; the segment is gone afterwards.
func TestJournalReplayedBeforeSending(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	later := true
	e.fake.script = func(*model.Message, int) model.SendResult {
		if later {
			return model.SendResult{Outcome: model.Temporary, Code: 451, Reply: "451 4.3.0 try later"}
		}
		return model.SendResult{Outcome: model.Accepted, Code: 250, Reply: "250 ok"}
	}
	for _, a := range []string{"ada", "bob", "cy"} {
		e.subscriber(a+"@example.com", a, model.SubscriberActive, nil, nil)
	}
	art := e.article("a1", "Story", "world", time.Hour, "ann")
	res := e.sendNow(digest.SendNowRequest{})
	if res.Left != 3 {
		t.Fatalf("left for retry: %d, want 3", res.Left)
	}
	dir := journal.At(e.store.Path() + ".journal")
	if eds, err := dir.Editions("daily"); err != nil || len(eds) != 0 {
		t.Fatalf("after a finished pass the journal holds %v (%v)", eds, err)
	}
	ds, err := e.store.Deliveries(ctx, res.EditionID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	// What a killed process had written: ada's second attempt accepted,
	// bob's a 550 that bounces him.
	ada, bob := deliveryOf(t, ds, "ada@example.com"), deliveryOf(t, ds, "bob@example.com")
	sentAt := e.clock.Now().Add(30 * time.Second).Truncate(time.Second)
	ada.Status, ada.Attempts, ada.SentAt, ada.Relay, ada.LastReply = model.DeliverySent, 2, sentAt, "relay-a:25", "250 queued"
	ada.ArticleIDs = []int64{art}
	bob.Status, bob.Attempts, bob.LastReply = model.DeliveryFailed, 2, "550 5.1.1 no such user"
	w, err := dir.Create("daily", res.EditionID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append([]journal.Result{{D: ada}, {D: bob, Bounce: true}}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	later = false
	e.clock.Add(2 * time.Minute)
	if _, err := e.svc.Resume(ctx, res.EditionID, 0, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.to("ada@example.com")); n != 0 {
		t.Errorf("ada's accepted message was sent again (%d)", n)
	}
	if n := len(e.fake.to("bob@example.com")); n != 0 {
		t.Errorf("bob's failed delivery was tried again (%d)", n)
	}
	if n := len(e.fake.to("cy@example.com")); n != 1 {
		t.Errorf("cy got %d digests, want 1", n)
	}
	ds, err = e.store.Deliveries(ctx, res.EditionID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := deliveryOf(t, ds, "ada@example.com")
	if got.Status != model.DeliverySent || got.Relay != "relay-a:25" || !got.SentAt.Equal(sentAt) || got.Attempts != 2 {
		t.Errorf("ada recorded %s via %q at %v after %d attempts; the journal said sent via relay-a:25 at %v after 2",
			got.Status, got.Relay, got.SentAt, got.Attempts, sentAt)
	}
	if got := deliveryOf(t, ds, "bob@example.com"); got.Status != model.DeliveryFailed {
		t.Errorf("bob recorded %s, want failed", got.Status)
	}
	sub, err := e.store.SubscriberByEmail(ctx, "bob@example.com")
	if err != nil || sub.Status != model.SubscriberBounced {
		t.Errorf("bob is %q (%v), want bounced", sub.Status, err)
	}
	if eds, _ := dir.Editions("daily"); len(eds) != 0 {
		t.Errorf("segments left after the replay: %v", eds)
	}
	// The replayed articles count as received: the next edition does not
	// carry a1 to ada again.
	e.article("a2", "Second story", "world", 10*time.Minute, "ann")
	e.sendNow(digest.SendNowRequest{})
	next := e.fake.to("ada@example.com")
	if len(next) != 1 {
		t.Fatalf("ada got %d digests from the next edition, want 1", len(next))
	}
	if got := carries(next[0], "Story", "Second story"); !slices.Equal(got, []string{"Second story"}) {
		t.Errorf("ada's next digest carries %q; the replayed a1 must not come again", got)
	}
}

// A journal herald cannot write (its directory is a file) does not stop
// sending: every group is committed directly instead, with one warning
// for the pass, not one per group.
func TestJournalUnwritableFallsBackToCommits(t *testing.T) {
	var logs testkit.LogBuffer
	e := newEnv(t, nil, func(o *digest.Options) {
		o.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	if err := os.WriteFile(e.store.Path()+".journal", []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"ada", "bob", "cy", "di", "ed", "flo", "gus"} {
		e.subscriber(a+"@example.com", a, model.SubscriberActive, nil, nil)
	}
	e.article("a1", "Story", "world", time.Hour, "ann")
	res := e.sendNow(digest.SendNowRequest{})
	if res.Sent != 7 || res.Left != 0 || res.Failed != 0 {
		t.Fatalf("sent %d, left %d, failed %d; want all 7 sent", res.Sent, res.Left, res.Failed)
	}
	counts, err := e.store.EditionCounts(context.Background(), res.EditionID)
	if err != nil || counts[model.DeliverySent] != 7 {
		t.Fatalf("recorded %v (%v); want 7 sent", counts, err)
	}
	if n := strings.Count(logs.String(), "journal unavailable"); n != 1 {
		t.Errorf("%d warnings for one pass, want 1:\n%s", n, logs.String())
	}
}
