package store

import (
	"context"
	"fmt"
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
