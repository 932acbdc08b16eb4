package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// The admin pages' reads of bounce events: those of a page's deliveries,
// a subscriber's (transactional mail and address-only matches included),
// and per edition the deliveries reported, by kind, a delivery reported
// twice counted once.
func TestReportReads(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	var eds []model.Edition
	for range 2 {
		e, _, err := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: fixedNow, Since: fixedNow.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		eds = append(eds, e)
	}
	var subs []model.Subscriber
	for i := range 3 {
		sub, _, _ := s.UpsertSubscriber(ctx, mustAddress(t, fmt.Sprintf("r%d@example.com", i)), "", model.SubscriberActive)
		su, _ := s.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, "")
		subs = append(subs, sub)
		for _, e := range eds {
			if err := s.InsertDeliveries(ctx, e.ID, []model.Delivery{{SubscriberID: sub.ID, SubscriptionID: su.ID, Status: model.DeliveryPending}}, su.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	ds, err := s.Deliveries(ctx, eds[0].ID, 0, 10)
	if err != nil || len(ds) != 3 {
		t.Fatalf("deliveries: %d %v", len(ds), err)
	}
	record := func(d model.Delivery, editionID int64, kind, status, source string) {
		t.Helper()
		ev := model.BounceEvent{DeliveryID: d.ID, EditionID: editionID, SubscriberID: d.SubscriberID, Kind: kind, Status: status, Source: source}
		if _, err := s.RecordReport(ctx, ev, model.EffectNone); err != nil {
			t.Fatal(err)
		}
	}
	record(ds[0], eds[0].ID, model.ReportComplaint, "", "imap")
	record(ds[0], eds[0].ID, model.ReportComplaint, "5.7.1", "webhook:ses") // the same complaint from a second source
	record(ds[1], eds[0].ID, model.ReportHard, "5.1.1", "pipe")
	record(ds[1], eds[0].ID, model.ReportSoft, "4.2.2", "pipe")
	// Matched by address only, and on a transactional mail.
	if _, err := s.RecordReport(ctx, model.BounceEvent{SubscriberID: subs[1].ID, Kind: model.ReportSoft, Source: "smtp"}, model.EffectNone); err != nil {
		t.Fatal(err)
	}
	evs, err := s.DeliveryEvents(ctx, []int64{ds[0].ID, ds[2].ID})
	if err != nil || len(evs) != 2 || evs[0].DeliveryID != ds[0].ID || evs[1].Source != "webhook:ses" || evs[1].Status != "5.7.1" {
		t.Errorf("DeliveryEvents: %+v %v", evs, err)
	}
	if evs, err := s.DeliveryEvents(ctx, nil); err != nil || len(evs) != 0 {
		t.Errorf("DeliveryEvents of none: %v %v", evs, err)
	}
	evs, err = s.SubscriberEvents(ctx, subs[1].ID, 10)
	if err != nil || len(evs) != 3 || evs[0].DeliveryID != 0 || evs[0].Kind != model.ReportSoft || evs[2].Kind != model.ReportHard {
		t.Errorf("SubscriberEvents: %+v %v", evs, err)
	}
	if evs, _ := s.SubscriberEvents(ctx, subs[1].ID, 1); len(evs) != 1 {
		t.Errorf("SubscriberEvents limit: %d", len(evs))
	}
	counts, err := s.EditionReports(ctx, []int64{eds[0].ID, eds[1].ID})
	want := map[string]int{model.ReportComplaint: 1, model.ReportHard: 1, model.ReportSoft: 1}
	if err != nil || len(counts) != 1 || fmt.Sprint(counts[eds[0].ID]) != fmt.Sprint(want) {
		t.Errorf("EditionReports: %v %v", counts, err)
	}
}

// Migration 0012 counts the events recorded before it ran, once per
// delivery and kind, and the trigger goes on from there.
func TestEditionReportsMigration(t *testing.T) {
	ctx := context.Background()
	w, err := sql.Open("sqlite", DSN(t.TempDir()+"/herald.db", false))
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	defer w.Close()
	s := &Store{W: w, R: w, Now: func() time.Time { return fixedNow }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := w.ExecContext(ctx, `CREATE TABLE herald_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version < 12 {
			if err := s.apply(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, q := range []string{
		`INSERT INTO subscribers (id, email, status, created_at, updated_at) VALUES (1, 'a@example.com', 'active', 1, 1), (2, 'b@example.com', 'active', 1, 1)`,
		`INSERT INTO subscriptions (id, subscriber_id, digest, created_at, updated_at) VALUES (1, 1, 'daily', 1, 1), (2, 2, 'daily', 1, 1)`,
		`INSERT INTO editions (id, digest, kind, cutoff, since, created_at) VALUES (1, 'daily', 'manual', 1, 0, 1)`,
		`INSERT INTO deliveries (id, edition_id, subscriber_id, subscription_id) VALUES (5, 1, 1, 1), (6, 1, 2, 2)`,
		`INSERT INTO bounce_events (delivery_id, edition_id, subscriber_id, kind, status, created_at) VALUES
		  (5, 1, 1, 'complaint', '', 1), (5, 1, 1, 'complaint', '5.7.1', 1), (6, 1, 2, 'soft', '4.2.2', 1), (NULL, NULL, 2, 'soft', '', 1)`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.EditionReports(ctx, []int64{1})
	if err != nil || fmt.Sprint(got[1]) != "map[complaint:1 soft:1]" {
		t.Fatalf("after the migration: %v %v", got, err)
	}
	if _, err := s.RecordReport(ctx, model.BounceEvent{DeliveryID: 6, EditionID: 1, SubscriberID: 2, Kind: model.ReportHard, Status: "5.1.1"}, model.EffectNone); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordReport(ctx, model.BounceEvent{DeliveryID: 6, EditionID: 1, SubscriberID: 2, Kind: model.ReportSoft, Status: "4.4.1"}, model.EffectNone); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.EditionReports(ctx, []int64{1}); fmt.Sprint(got[1]) != "map[complaint:1 hard:1 soft:1]" {
		t.Fatalf("after two more reports: %v", got)
	}
}
