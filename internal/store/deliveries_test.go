package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

func TestDeliveriesPlanSendRecord(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	seenArticles(t, s, fixedNow.Add(-30*time.Minute), 5, 7, 9)
	var subs []model.Subscriber
	for _, e := range []model.Address{"a@example.com", "b@example.com", "c@example.com"} {
		sub, _, err := s.UpsertSubscriber(ctx, e, "", model.SubscriberActive)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, ""); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	ed, _, err := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: fixedNow, Since: fixedNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	plan := []model.Delivery{
		{SubscriberID: subs[0].ID, SubscriptionID: 1, Status: model.DeliveryPending, ArticleIDs: []int64{7, 5}},
		{SubscriberID: subs[1].ID, SubscriptionID: 2, Status: model.DeliveryPending, ArticleIDs: []int64{7}},
		{SubscriberID: subs[2].ID, SubscriptionID: 3, Status: model.DeliverySkipped},
	}
	// Planning the same page twice (a resumed planner) inserts nothing twice.
	for range 2 {
		if err := s.InsertDeliveries(ctx, ed.ID, plan, 3); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := s.PlanningCursor(ctx, ed.ID); c != 3 {
		t.Fatalf("cursor %d", c)
	}
	if err := s.SetEditionStatus(ctx, ed.ID, model.EditionSending); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueDeliveries(ctx, ed.ID, fixedNow, 0, 10)
	if err != nil || len(due) != 2 || due[0].Email != "a@example.com" || !reflect.DeepEqual(due[0].ArticleIDs, []int64{7, 5}) {
		t.Fatalf("due: %+v %v", due, err)
	}
	sent := due[0]
	sent.Status, sent.Attempts, sent.MessageID, sent.SentAt, sent.LastReply = model.DeliverySent, 1, "<m@x>", fixedNow, "250 ok"
	retry := due[1]
	retry.Attempts, retry.NextAttemptAt, retry.LastReply, retry.MessageID = 1, fixedNow.Add(time.Minute), "451 later", "<r@x>"
	if err := s.RecordDeliveries(ctx, []model.Delivery{sent, retry}, []int64{subs[1].ID}); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, ed.ID, fixedNow, 0, 10); len(due) != 0 {
		t.Fatalf("retry is due too early: %+v", due)
	}
	next, ok, err := s.NextAttempt(ctx, ed.ID)
	if err != nil || !ok || !next.Equal(fixedNow.Add(time.Minute)) {
		t.Fatal(next, ok, err)
	}
	// A result replayed from the journal after a later attempt was
	// recorded (its segment outlived its apply) changes nothing.
	retry2 := retry
	retry2.Attempts, retry2.NextAttemptAt, retry2.LastReply = 2, fixedNow.Add(2*time.Minute), "451 later again"
	for _, d := range []model.Delivery{retry2, retry} {
		if err := s.RecordDeliveries(ctx, []model.Delivery{d}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if next, _, _ := s.NextAttempt(ctx, ed.ID); !next.Equal(fixedNow.Add(2 * time.Minute)) {
		t.Fatalf("a stale result (attempt 1 after attempt 2) moved the retry to %v", next)
	}
	rec, err := s.ReceivedArticles(ctx, "daily", []int64{subs[0].ID, subs[1].ID}, []int64{5, 7, 9})
	if err != nil || !rec[subs[0].ID][5] || !rec[subs[0].ID][7] || len(rec[subs[1].ID]) != 0 {
		t.Fatalf("received: %+v %v", rec, err)
	}
	if b, _ := s.SubscriberByID(ctx, subs[1].ID); b.Status != model.SubscriberBounced {
		t.Fatalf("bounce not recorded: %+v", b)
	}
	counts, err := s.EditionCounts(ctx, ed.ID)
	if err != nil || counts[model.DeliverySent] != 1 || counts[model.DeliveryPending] != 1 || counts[model.DeliverySkipped] != 1 {
		t.Fatalf("counts: %v %v", counts, err)
	}
	if err := s.SetEditionStatus(ctx, ed.ID, model.EditionCancelled); err != nil {
		t.Fatal(err)
	}
	counts, _ = s.EditionCounts(ctx, ed.ID)
	if counts[model.DeliveryPending] != 0 || counts[model.DeliveryCancelled] != 1 {
		t.Fatalf("cancel: %v", counts)
	}
}

// A page of planned deliveries longer than one INSERT's rows goes in
// whole, each delivery with its own values, and planned again (a resumed
// planner) adds nothing.
func TestInsertDeliveriesManyRows(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	n := 2*deliveryRows + deliveryRows/2
	seedReaders(t, s, n)
	plan := make([]model.Delivery, 0, n)
	for i := 1; i <= n; i++ {
		d := model.Delivery{SubscriberID: int64(i), SubscriptionID: int64(i), Status: model.DeliveryPending,
			ArticleIDs: []int64{int64(i), 1}, MessageID: fmt.Sprintf("<1.p.%d@x>", i)}
		if i%7 == 0 {
			d.Status, d.ArticleIDs, d.MessageID = model.DeliverySkipped, nil, ""
		}
		plan = append(plan, d)
	}
	ed, _, err := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: fixedNow, Since: fixedNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.InsertDeliveries(ctx, ed.ID, plan, int64(n)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Deliveries(ctx, ed.ID, 0, 2*n)
	if err != nil || len(got) != n {
		t.Fatalf("%d deliveries, %v; want %d", len(got), err, n)
	}
	for i, d := range got {
		w := plan[i]
		if d.SubscriberID != w.SubscriberID || d.SubscriptionID != w.SubscriptionID || d.Status != w.Status || d.MessageID != w.MessageID ||
			len(d.ArticleIDs) != len(w.ArticleIDs) || (len(w.ArticleIDs) > 0 && d.ArticleIDs[0] != w.ArticleIDs[0]) {
			t.Fatalf("delivery %d: %+v, planned %+v", i, d, w)
		}
	}
}

// A sent delivery records the articles it carried, which may be fewer
// than planned (one withdrawn meanwhile): in its row's article_ids, which
// ReceivedArticles reads, for every delivery of a group at once. A
// replayed result adds nothing, and one accepted after its edition was
// cancelled is recorded with its articles too.
func TestRecordDeliveriesCarriedArticles(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	const n = 40
	seedReaders(t, s, n)
	seenArticles(t, s, fixedNow.Add(-30*time.Minute), 5, 7, 9)
	for i := int64(1); i <= n; i++ {
		seenArticles(t, s, fixedNow.Add(-30*time.Minute), 100+i)
	}
	ed, _, err := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: fixedNow, Since: fixedNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var plan []model.Delivery
	for i := int64(1); i <= n; i++ {
		plan = append(plan, model.Delivery{SubscriberID: i, SubscriptionID: i, Status: model.DeliveryPending,
			ArticleIDs: []int64{100 + i, 7, 5}, MessageID: fmt.Sprintf("<%d@x>", i)})
	}
	if err := s.InsertDeliveries(ctx, ed.ID, plan, n); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEditionStatus(ctx, ed.ID, model.EditionSending); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueDeliveries(ctx, ed.ID, fixedNow, 0, n)
	if err != nil || len(due) != n {
		t.Fatalf("due: %d %v", len(due), err)
	}
	// Odd subscribers are sent all three; even ones lose article 5 (it
	// was withdrawn before their message was composed); the last fails.
	var group []model.Delivery
	for i, d := range due[:n-1] {
		d.Status, d.Attempts, d.SentAt, d.LastReply = model.DeliverySent, 1, fixedNow, "250 ok"
		if d.SubscriberID%2 == 0 {
			d.ArticleIDs = []int64{100 + d.SubscriberID, 7}
		}
		if i == 0 {
			d.ArticleIDs = nil // carried nothing the planner knew of: records none
		}
		group = append(group, d)
	}
	failed := due[n-1]
	failed.Status, failed.Attempts, failed.LastReply = model.DeliveryFailed, 1, "550 5.1.1 no such user"
	group = append(group, failed)
	for range 2 { // the second time, as a journal replay would
		if err := s.RecordDeliveries(ctx, group, nil); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	rec, err := s.ReceivedArticles(ctx, "daily", ids, []int64{5, 7, 101, 102, 139, 140})
	if err != nil {
		t.Fatal(err)
	}
	for sub := int64(1); sub <= n; sub++ {
		got := rec[sub]
		switch {
		case sub == 1 || sub == n:
			if len(got) != 0 {
				t.Errorf("subscriber %d: received %v, want none", sub, got)
			}
		case sub%2 == 0:
			if !got[7] || got[5] || (sub == 2 && !got[102]) {
				t.Errorf("subscriber %d: received %v, want 7 and %d, not 5", sub, got, 100+sub)
			}
		default:
			if !got[7] || !got[5] {
				t.Errorf("subscriber %d: received %v, want 5 and 7", sub, got)
			}
		}
	}
	var carried, planned string
	if err := s.R.QueryRowContext(ctx, `SELECT article_ids FROM deliveries WHERE id = ?`, due[1].ID).Scan(&carried); err != nil {
		t.Fatal(err)
	}
	if err := s.R.QueryRowContext(ctx, `SELECT article_ids FROM deliveries WHERE id = ?`, due[n-1].ID).Scan(&planned); err != nil {
		t.Fatal(err)
	}
	if carried != "[102,7]" || planned != fmt.Sprintf("[%d,7,5]", 100+n) {
		t.Fatalf("article_ids: sent %s (want the carried [102,7]), failed %s (want the planned list)", carried, planned)
	}
	// Another digest's readers received nothing from this one.
	if rec, err := s.ReceivedArticles(ctx, "weekly", ids, []int64{5, 7}); err != nil || len(rec) != 0 {
		t.Fatalf("weekly: received %v, %v; want none", rec, err)
	}

	// Cancelled while its message was on the way: still recorded sent,
	// with what it carried.
	ed2, _, err := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: fixedNow.Add(time.Hour), Since: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InsertDeliveries(ctx, ed2.ID, []model.Delivery{{SubscriberID: n, SubscriptionID: n, Status: model.DeliveryPending, ArticleIDs: []int64{9}, MessageID: "<c@x>"}}, n); err != nil {
		t.Fatal(err)
	}
	late, err := s.DueDeliveries(ctx, ed2.ID, fixedNow, 0, 1)
	if err != nil || len(late) != 1 {
		t.Fatalf("due: %v %v", late, err)
	}
	if err := s.SetEditionStatus(ctx, ed2.ID, model.EditionCancelled); err != nil {
		t.Fatal(err)
	}
	d := late[0]
	d.Status, d.Attempts, d.SentAt, d.LastReply = model.DeliverySent, 1, fixedNow, "250 ok"
	if err := s.RecordDeliveries(ctx, []model.Delivery{d}, nil); err != nil {
		t.Fatal(err)
	}
	if rec, _ := s.ReceivedArticles(ctx, "daily", []int64{n}, []int64{9}); !rec[n][9] {
		t.Fatalf("accepted after the cancel: received %v", rec)
	}
}

// seenArticles inserts published articles with ids, first seen by herald
// at seen (as the triggers would have recorded then).
func seenArticles(t *testing.T, s *Store, seen time.Time, ids ...int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.W.ExecContext(ctx, `INSERT OR IGNORE INTO sections (id, slug, name) VALUES (1, 'news', 'News')`); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := s.W.ExecContext(ctx, `INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (?, ?, '/x', 't', 1, ?)`,
			id, fmt.Sprint("g", id), seen.UTC().Format(time.RFC3339)); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"herald_article_visible", "herald_article_first_seen"} {
			if _, err := s.W.ExecContext(ctx, `UPDATE `+table+` SET seen_at = ? WHERE article_id = ?`, seen.Unix(), id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Selection reads a page of readers' sent deliveries by the readers' own
// index from the first delivery that can matter on, not through the
// (edition_id, status) index, which would visit every sent delivery of
// an edition for each page, nor a seek per edition and reader.
func TestSentArticlesByReader(t *testing.T) {
	s, _ := MustOpen(t)
	rows, err := s.R.Query(`EXPLAIN QUERY PLAN `+sentReceivedSQL(3), "daily", 0, 1, 4, 5, 6)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) != 2 || !strings.Contains(plan[0], "deliveries_subscriber (subscriber_id=? AND rowid>?)") ||
		!strings.Contains(plan[1], "INTEGER PRIMARY KEY") {
		t.Fatalf("query plan %q, want a range of each reader's deliveries, then each one's edition by its key", plan)
	}
}

// An article the CMS deletes and inserts again with the same id (a
// restore, here re-dated too) is seen afresh by herald_article_visible;
// a reader whose delivery carried it has still received it.
func TestReceivedSurvivesRestoredArticle(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	seedReaders(t, s, 1)
	seenArticles(t, s, fixedNow.Add(-30*time.Minute), 9)
	sendArticle(t, s, true)
	if _, err := s.W.ExecContext(ctx, `DELETE FROM articles WHERE id = 9`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.W.ExecContext(ctx, `INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (9, 'g9', '/x', 't', 1, ?)`,
		time.Now().UTC().Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	var seen int64
	if err := s.R.QueryRowContext(ctx, `SELECT seen_at FROM herald_article_visible WHERE article_id = 9`).Scan(&seen); err != nil || seen <= fixedNow.Unix() {
		t.Fatalf("restored article seen at %d (%v): want after the edition's cutoff, as the trigger records it", seen, err)
	}
	if rec, err := s.ReceivedArticles(ctx, "daily", []int64{1}, []int64{9}); err != nil || !rec[1][9] {
		t.Fatalf("after the restore: received %v, %v; want article 9", rec, err)
	}
}

// An edition is sent while it is planned, so a crash can leave it
// planning with sent deliveries: what they carried counts as received
// (another edition planned meanwhile must not send it again), and its
// later pages are refused once an editor cancelled it.
func TestPlanningEditionSentAndCancelled(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	seedReaders(t, s, 2)
	seenArticles(t, s, fixedNow.Add(-30*time.Minute), 9)
	ed := sendArticle(t, s, false)
	if rec, err := s.ReceivedArticles(ctx, "daily", []int64{1, 2}, []int64{9}); err != nil || !rec[1][9] || rec[2][9] {
		t.Fatalf("received %v, %v; want article 9 for reader 1 alone, from an edition still planning", rec, err)
	}
	if err := s.SetEditionStatus(ctx, ed.ID, model.EditionCancelled); err != nil {
		t.Fatal(err)
	}
	err := s.InsertDeliveries(ctx, ed.ID, []model.Delivery{{SubscriberID: 2, SubscriptionID: 2, Status: model.DeliveryPending, ArticleIDs: []int64{9}, MessageID: "<r2@x>"}}, 2)
	if model.ErrorCode(err) != model.EFINISHED {
		t.Fatalf("a page of a cancelled edition: %v, want a finished error", err)
	}
	if err := s.SetEditionStatus(ctx, ed.ID, model.EditionSending); model.ErrorCode(err) != model.EFINISHED {
		t.Fatalf("a cancelled edition moved to sending: %v, want a finished error", err)
	}
	counts, err := s.EditionCounts(ctx, ed.ID)
	if err != nil || counts[model.DeliveryPending] != 0 || counts[model.DeliverySent] != 1 || len(counts) != 1 {
		t.Fatalf("counts %v, %v: want the one sent delivery alone", counts, err)
	}
	if e, err := s.Edition(ctx, ed.ID); err != nil || e.Status != model.EditionCancelled {
		t.Fatalf("edition %+v, %v: want cancelled", e, err)
	}
}

// sendArticle plans a manual edition carrying article 9 to subscriber 1
// and records it sent, the edition moved to sending first when planned is
// true (left planning otherwise); it returns the edition.
func sendArticle(t *testing.T, s *Store, planned bool) model.Edition {
	t.Helper()
	ctx := context.Background()
	ed, _, err := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: fixedNow, Since: fixedNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InsertDeliveries(ctx, ed.ID, []model.Delivery{{SubscriberID: 1, SubscriptionID: 1, Status: model.DeliveryPending, ArticleIDs: []int64{9}, MessageID: "<r@x>"}}, 1); err != nil {
		t.Fatal(err)
	}
	if planned {
		if err := s.SetEditionStatus(ctx, ed.ID, model.EditionSending); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.DueDeliveries(ctx, ed.ID, fixedNow, 0, 1)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %v %v", due, err)
	}
	d := due[0]
	d.Status, d.Attempts, d.SentAt, d.LastReply = model.DeliverySent, 1, fixedNow, "250 ok"
	if err := s.RecordDeliveries(ctx, []model.Delivery{d}, nil); err != nil {
		t.Fatal(err)
	}
	return ed
}
