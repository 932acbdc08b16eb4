package subscription_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/token"
	"github.com/heraldnews/herald/subscription"
)

// "Download my data" gives the reader's address, subscriptions and what
// was sent with its articles' titles; "erase me" leaves none of it — not
// in the subscriber row, the SMTP replies, nor an audit table — only a
// keyed hash on the suppression list, so an import cannot bring the
// address back, while the reader may subscribe again and confirm
// (issue 14, privacy).
func TestMyDataAndErase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := e.subscriber("ann@example.com", "Ann Reader", model.SubscriberActive, []string{"world"}, nil)
	var artID int64
	err := e.store.WriteContent(ctx, func(w *store.ContentWriter) error {
		secs, _ := e.store.Sections(ctx)
		var err error
		artID, err = w.Article(model.Article{GUID: "a1", URL: "https://news.example.com/a1", Title: "A story",
			Section: secs[0], PublishedAt: start.Add(-time.Hour)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ed, _, err := e.store.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: start, Since: start.Add(-48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	subs, _ := e.store.SubscriptionsOf(ctx, sub.ID)
	if err := e.store.InsertDeliveries(ctx, ed.ID, []model.Delivery{{SubscriberID: sub.ID, SubscriptionID: subs[0].ID, Status: model.DeliveryPending, ArticleIDs: []int64{artID}}}, subs[0].ID); err != nil {
		t.Fatal(err)
	}
	ds, _ := e.store.Deliveries(ctx, ed.ID, 0, 10)
	ds[0].Status, ds[0].Attempts, ds[0].SentAt, ds[0].MessageID, ds[0].LastReply = model.DeliverySent, 1, start, "<1.x@news.example.com>", "250 2.0.0 queued for ann@example.com"
	if err := e.store.RecordDeliveries(ctx, ds, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.W.ExecContext(ctx, `CREATE TABLE editor_audit (id INTEGER PRIMARY KEY, detail TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	e.store.W.ExecContext(ctx, `INSERT INTO editor_audit (detail) VALUES ('exported ANN@example.com'), ('sent edition 1')`)

	tok := e.svc.Tokens().Make(token.Manage, sub.ID, time.Hour)
	d, err := e.svc.MyData(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if d.Email != "ann@example.com" || d.Name != "Ann Reader" || len(d.Subscriptions) != 1 || d.Subscriptions[0].Sections[0] != "world" ||
		len(d.Messages) != 1 || len(d.Messages[0].Articles) != 1 || d.Messages[0].Articles[0].Title != "A story" {
		t.Fatalf("my data: %+v", d)
	}

	if err := e.svc.Erase(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := e.store.FindSubscriber(ctx, "ann@example.com"); found {
		t.Error("the address is still on the list")
	}
	row, _ := e.store.SubscriberByID(ctx, sub.ID)
	if row.Status != model.SubscriberErased || row.Name != "" || strings.Contains(string(row.Email), "ann") {
		t.Errorf("subscriber row after erasure: %+v", row)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM deliveries WHERE last_reply LIKE '%ann%'`:                                                        0,
		`SELECT count(*) FROM editor_audit WHERE lower(detail) LIKE '%ann@example.com%'`:                                       0,
		`SELECT count(*) FROM editor_audit`:                                                                                    2,
		`SELECT count(*) FROM subscriptions WHERE subscriber_id = ` + strconv.FormatInt(sub.ID, 10) + ` AND status = 'active'`: 0,
		`SELECT count(*) FROM suppressions WHERE reason = 'erased' AND entry LIKE '#%'`:                                        1,
	} {
		var n int
		if err := e.store.W.QueryRowContext(ctx, q).Scan(&n); err != nil || n != want {
			t.Errorf("%s = %d (%v), want %d", q, n, err, want)
		}
	}
	if _, err := e.svc.MyData(ctx, tok); model.ErrorCode(err) != model.ENOTFOUND {
		t.Errorf("the old manage link still reads data: %v", err)
	}

	// An import does not bring the address back, in any case.
	rep, err := e.svc.Import(ctx, strings.NewReader("Ann@Example.com,Ann,daily,,,active\n"))
	if err != nil || len(rep.Skipped) != 1 || rep.Skipped[0].Reason != model.SuppressedErased {
		t.Fatalf("import of an erased address: %+v %v", rep, err)
	}
	if _, found, _ := e.store.FindSubscriber(ctx, "ann@example.com"); found {
		t.Fatal("an import brought an erased address back")
	}
	// The reader may come back on their own: a double opt-in lifts it.
	if err := e.svc.Enqueue(ctx, subscription.Request{Email: "ann@example.com"}); err != nil {
		t.Fatal(err)
	}
	e.svc.Wait()
	_, page, ctok, _ := e.lastMail("ann@example.com")
	if page != "confirm" {
		t.Fatalf("a returning erased reader got %q", page)
	}
	if _, err := e.svc.Confirm(ctx, ctok); err != nil {
		t.Fatal(err)
	}
	var n int
	e.store.W.QueryRowContext(ctx, `SELECT count(*) FROM suppressions WHERE reason = 'erased'`).Scan(&n)
	if n != 0 {
		t.Error("a completed double opt-in left the erased hash")
	}
}
