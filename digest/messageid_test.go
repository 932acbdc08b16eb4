package digest_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
)

// A delivery's Message-ID is stored when it is planned, every attempt
// sends that one, and the sent delivery keeps it (bounce matching). One
// planned by an older herald, without a stored id, is sent with the id
// that herald derived and recorded with it.
func TestMessageIDPlannedKeptAndRecorded(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	var attempts []string
	e.fake.script = func(msg *model.Message, n int) model.SendResult {
		attempts = append(attempts, string(msg.ToAddr)+" "+msg.MessageID)
		if n == 1 {
			return model.SendResult{Outcome: model.Temporary, Code: 451, Reply: "451 4.3.0 try later"}
		}
		return model.SendResult{Outcome: model.Accepted, Code: 250, Reply: "250 ok"}
	}
	e.subscriber("ada@example.com", "Ada", model.SubscriberActive, nil, nil)
	e.subscriber("bob@example.com", "Bob", model.SubscriberActive, nil, nil)
	e.article("a1", "Story", "world", time.Hour, "ann")
	res := e.sendNow(digest.SendNowRequest{})
	if res.Left != 2 {
		t.Fatalf("left for retry: %d", res.Left)
	}
	ds, err := e.store.Deliveries(ctx, res.EditionID, 0, 10)
	if err != nil || len(ds) != 2 {
		t.Fatal(ds, err)
	}
	ids := map[string]string{}
	for _, d := range ds {
		if !plannedID.MatchString(d.MessageID) {
			t.Fatalf("planned %s with Message-ID %q", d.Email, d.MessageID)
		}
		ids[string(d.Email)] = d.MessageID
	}
	if ids["ada@example.com"] == ids["bob@example.com"] {
		t.Fatalf("two deliveries share %s", ids["ada@example.com"])
	}
	for _, a := range attempts {
		if a != "ada@example.com "+ids["ada@example.com"] && a != "bob@example.com "+ids["bob@example.com"] {
			t.Errorf("first attempt %q, not the planned id", a)
		}
	}
	// Bob's delivery as an older herald planned it: no stored id.
	if _, err := e.store.W.ExecContext(ctx, `UPDATE deliveries SET message_id = '' WHERE id = ?`, deliveryOf(t, ds, "bob@example.com").ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Minute)
	if _, err := e.svc.Resume(ctx, res.EditionID, 0, nil); err != nil {
		t.Fatal(err)
	}
	ada, bob := e.fake.to("ada@example.com"), e.fake.to("bob@example.com")
	if len(ada) != 1 || len(bob) != 1 {
		t.Fatalf("sent %d to ada, %d to bob", len(ada), len(bob))
	}
	if ada[0].MessageID != ids["ada@example.com"] {
		t.Errorf("retry to ada sent %s, planned %s", ada[0].MessageID, ids["ada@example.com"])
	}
	if !legacyID.MatchString(bob[0].MessageID) {
		t.Errorf("bob's unplanned delivery sent %q", bob[0].MessageID)
	}
	ds, err = e.store.Deliveries(ctx, res.EditionID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*model.Message{ada[0], bob[0]} {
		d := deliveryOf(t, ds, string(m.ToAddr))
		if d.Status != model.DeliverySent || d.MessageID != m.MessageID {
			t.Errorf("%s recorded %s with %q, sent %q", d.Email, d.Status, d.MessageID, m.MessageID)
		}
		if got, err := e.store.SentByMessageID(ctx, m.MessageID); err != nil || got.DeliveryID != d.ID {
			t.Errorf("bounce lookup of %s: %+v, %v", m.MessageID, got, err)
		}
	}
}

// The Message-ID forms: as planned (edition, planning time, MAC) and as
// an older herald derived it for deliveries planned without one.
var (
	plannedID = regexp.MustCompile(`^<[0-9]+\.[0-9a-z]+\.[0-9a-f]{24}@news\.example\.com>$`)
	legacyID  = regexp.MustCompile(`^<[0-9]+\.[0-9a-f]{24}@news\.example\.com>$`)
)

func deliveryOf(t *testing.T, ds []model.Delivery, email string) model.Delivery {
	t.Helper()
	for _, d := range ds {
		if string(d.Email) == email {
			return d
		}
	}
	t.Fatalf("no delivery to %s", email)
	return model.Delivery{}
}
