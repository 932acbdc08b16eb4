package lifecycle_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

// Housekeeping deletes subscribers who never confirmed within
// subscribers.pending_ttl and prunes deliveries past
// subscribers.delivery_retention, keeping the received-article records a
// digest's lookback can still need (issue 14).
func TestHousekeeping(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.store.UpsertSubscriber(ctx, "old-pending@example.org", "", model.SubscriberPending)
	e.reader("reader@example.org")
	var old, fresh int64
	err := e.store.WriteContent(ctx, func(w *store.ContentWriter) error {
		sec, err := w.Section(model.Section{Slug: "world", Name: "World"})
		if err != nil {
			return err
		}
		if old, err = w.Article(model.Article{GUID: "old", URL: "/old", Title: "Old", Section: model.Section{ID: sec}, PublishedAt: start.Add(-time.Hour)}); err != nil {
			return err
		}
		// Published (for herald) long after it was first carried: a
		// lookback can still see it, so its record must stay.
		fresh, err = w.Article(model.Article{GUID: "fresh", URL: "/fresh", Title: "Fresh", Section: model.Section{ID: sec},
			PublishedAt: start.Add(408*24*time.Hour - time.Hour)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Both were first seen before the edition's cutoff, as any article an
	// edition carries was (the triggers record the wall clock's now).
	if _, err := e.store.W.ExecContext(ctx, `UPDATE herald_article_visible SET seen_at = ?`, start.Add(-time.Hour).Unix()); err != nil {
		t.Fatal(err)
	}
	ed := e.edition()
	d := ed["reader@example.org"]
	d.ArticleIDs = []int64{old, fresh}
	// Record the articles the delivery carried (a sent delivery again: only
	// its article_ids change).
	e.store.W.ExecContext(ctx, `UPDATE deliveries SET status = 'pending' WHERE id = ?`, d.ID)
	if err := e.store.RecordDeliveries(ctx, []model.Delivery{d}, nil); err != nil {
		t.Fatal(err)
	}
	received := func() map[int64]bool {
		t.Helper()
		rec, err := e.store.ReceivedArticles(ctx, "daily", []int64{d.SubscriberID}, []int64{old, fresh})
		if err != nil {
			t.Fatal(err)
		}
		return rec[d.SubscriberID]
	}
	if got := received(); !got[old] || !got[fresh] {
		t.Fatalf("received %v before housekeeping, want both %d and %d", got, old, fresh)
	}

	e.clock.Add(8 * 24 * time.Hour)
	e.store.UpsertSubscriber(ctx, "new-pending@example.org", "", model.SubscriberPending)
	if err := e.svc.Housekeep(ctx); err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[model.Address]bool{"old-pending@example.org": false, "new-pending@example.org": true, "reader@example.org": true} {
		if _, found, _ := e.store.FindSubscriber(ctx, addr); found != want {
			t.Errorf("%s kept %v, want %v", addr, found, want)
		}
	}

	e.clock.Add(400 * 24 * time.Hour)
	if err := e.svc.Housekeep(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	e.store.W.QueryRowContext(ctx, `SELECT count(*) FROM deliveries`).Scan(&n)
	if n != 0 {
		t.Errorf("%d deliveries older than the retention kept", n)
	}
	got := map[int64]bool{}
	rows, _ := e.store.W.QueryContext(ctx, `SELECT article_id FROM received_articles`)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		got[id] = true
	}
	rows.Close()
	if got[old] || !got[fresh] {
		t.Errorf("received records kept %v: want the fresh article's (%d) only", got, fresh)
	}
	// Its delivery is gone; what it carried that a lookback can still see
	// stays received.
	if got := received(); !got[fresh] {
		t.Errorf("after the delivery was pruned, received %v: want %d", got, fresh)
	}
}
