package digest_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
)

var allTitles = []string{"W1 Summit", "W2 Treaty", "S1 Final", "S2 Derby", "W3 Storm", "OLD Story"}

func seedSelection(e *env) {
	e.article("w1", "W1 Summit", "world", 1*time.Hour, "ann")
	e.article("w2", "W2 Treaty", "world", 2*time.Hour, "bob")
	e.article("s1", "S1 Final", "sport", 3*time.Hour, "bob")
	e.article("s2", "S2 Derby", "sport", 4*time.Hour, "cat")
	e.article("w3", "W3 Storm", "world", 5*time.Hour, "ann", "cat")
	e.article("old", "OLD Story", "world", 72*time.Hour, "ann")
}

func TestSelectionPerSubscriber(t *testing.T) {
	e := newEnv(t, nil, nil)
	seedSelection(e)
	e.subscriber("all@example.com", "All", model.SubscriberActive, nil, nil)
	e.subscriber("sport@example.com", "", model.SubscriberActive, []string{"sport"}, nil)
	e.subscriber("ann@example.com", "", model.SubscriberActive, nil, []string{"ann"})
	e.subscriber("mix@example.com", "", model.SubscriberActive, []string{"sport"}, []string{"ann"})
	e.subscriber("pending@example.com", "", model.SubscriberPending, nil, nil)
	e.subscriber("bounced@example.com", "", model.SubscriberBounced, nil, nil)
	u := e.subscriber("unsub@example.com", "", model.SubscriberActive, nil, nil)
	subs, _ := e.store.SubscriptionsOf(context.Background(), u.ID)
	if err := e.store.SetSubscriptionStatus(context.Background(), subs[0].ID, model.SubscriptionUnsubscribed); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Second)

	res := e.sendNow(digest.SendNowRequest{})
	if res.Sent != 4 || res.Skipped != 0 || res.Failed != 0 || !res.Done() {
		t.Fatalf("first send-now: %+v", res)
	}
	want := map[string][]string{
		"all@example.com":   {"W1 Summit", "W2 Treaty", "S1 Final"}, // capped at max_articles 3, newest first
		"sport@example.com": {"S1 Final", "S2 Derby"},
		"ann@example.com":   {"W1 Summit", "W3 Storm"},
		"mix@example.com":   {"W1 Summit", "S1 Final", "S2 Derby"},
	}
	for addr, w := range want {
		got := e.fake.to(addr)
		if len(got) != 1 {
			t.Fatalf("%s got %d messages", addr, len(got))
		}
		if c := carries(got[0], allTitles...); !reflect.DeepEqual(c, w) {
			t.Errorf("%s carries %v, want %v", addr, c, w)
		}
	}
	for _, addr := range []string{"pending@example.com", "bounced@example.com", "unsub@example.com"} {
		if n := len(e.fake.to(addr)); n != 0 {
			t.Errorf("%s got %d messages", addr, n)
		}
	}

	// A second send-now straight after sends only what the cap held back
	// (all@: S2 Derby and W3 Storm; mix@: W3 Storm); the others are skipped.
	e.clock.Add(time.Minute)
	before := e.fake.count()
	res = e.sendNow(digest.SendNowRequest{})
	if got := e.fake.to("all@example.com"); len(got) != 2 || !reflect.DeepEqual(carries(got[1], allTitles...), []string{"S2 Derby", "W3 Storm"}) {
		t.Fatalf("all@ second edition: %d messages", len(got))
	}
	if got := e.fake.to("mix@example.com"); len(got) != 2 || !reflect.DeepEqual(carries(got[1], allTitles...), []string{"W3 Storm"}) {
		t.Fatalf("mix@ second edition: %d messages", len(got))
	}
	if e.fake.count() != before+2 || res.Skipped != 2 {
		t.Fatalf("second send-now: %+v (sent %d)", res, e.fake.count()-before)
	}
	// A third sends nothing at all.
	e.clock.Add(time.Minute)
	before = e.fake.count()
	res = e.sendNow(digest.SendNowRequest{})
	if e.fake.count() != before || res.Sent != 0 || res.Skipped != 4 {
		t.Fatalf("third send-now sent %d: %+v", e.fake.count()-before, res)
	}
}

func TestSendNowSectionFlagIntersects(t *testing.T) {
	e := newEnv(t, nil, nil)
	seedSelection(e)
	e.subscriber("all@example.com", "", model.SubscriberActive, nil, nil)
	e.subscriber("sport@example.com", "", model.SubscriberActive, []string{"sport"}, nil)
	e.subscriber("world@example.com", "", model.SubscriberActive, []string{"world"}, nil)
	e.clock.Add(time.Second)
	res := e.sendNow(digest.SendNowRequest{Sections: []string{"sport"}})
	if res.Sent != 2 {
		t.Fatalf("sent %+v", res)
	}
	for _, addr := range []string{"all@example.com", "sport@example.com"} {
		got := e.fake.to(addr)
		if len(got) != 1 || !reflect.DeepEqual(carries(got[0], allTitles...), []string{"S1 Final", "S2 Derby"}) {
			t.Fatalf("%s: %d messages", addr, len(got))
		}
	}
	if len(e.fake.to("world@example.com")) != 0 {
		t.Fatal("world@ follows no sport but got the sport edition")
	}
	if _, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{Sections: []string{"nope"}}); err == nil {
		t.Fatal("unknown section accepted")
	}
}

func TestMinArticlesSkips(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.cfg.Digests[0].MinArticles = 2
	e.article("w1", "W1 Summit", "world", time.Hour, "ann")
	e.subscriber("all@example.com", "", model.SubscriberActive, nil, nil)
	e.clock.Add(time.Second)
	res := e.sendNow(digest.SendNowRequest{})
	if res.Sent != 0 || res.Skipped != 1 || e.fake.count() != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestLeaseHeld(t *testing.T) {
	e := newEnv(t, nil, nil)
	ok, err := e.store.AcquireLease(context.Background(), "daily", "someone-else", 0, time.Hour)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{}); !errorsIs(err, digest.ErrLeaseHeld) {
		t.Fatalf("want ErrLeaseHeld, got %v", err)
	}
}

func TestStartSendNow(t *testing.T) {
	e := newEnv(t, nil, nil)
	seedSelection(e)
	e.subscriber("all@example.com", "", model.SubscriberActive, nil, nil)
	e.clock.Add(time.Second)
	id, done, err := e.svc.StartSendNow(context.Background(), digest.SendNowRequest{})
	if err != nil || id == 0 {
		t.Fatal(id, err)
	}
	// While it runs, the digest is busy.
	res := <-done
	if res.EditionID != id || res.Sent != 1 {
		t.Fatalf("%d %+v", id, res)
	}
	eds, err := e.store.Editions(context.Background(), "", 10)
	if err != nil || len(eds) != 1 || eds[0].Status != model.EditionDone || eds[0].Counts[model.DeliverySent] != 1 {
		t.Fatalf("%+v %v", eds, err)
	}
	if _, _, err := e.svc.StartSendNow(context.Background(), digest.SendNowRequest{Digest: "nope"}); !errorsIs(err, digest.ErrUnknownDigest) {
		t.Fatal(err)
	}
}

func TestNewEditionSkipsArticlesWaitingForRetry(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.fake.script = func(m *model.Message, n int) model.SendResult {
		if m.ToAddr == "slow@example.com" && n <= 2 {
			return model.SendResult{Outcome: model.Temporary, Code: 451, Reply: "451 4.7.1 later"}
		}
		return model.SendResult{Outcome: model.Accepted, Code: 250, Reply: "250 ok"}
	}
	e.article("w1", "W1 Summit", "world", time.Hour, "ann")
	e.subscriber("slow@example.com", "", model.SubscriberActive, nil, nil)
	e.clock.Add(time.Second)
	res := e.sendNow(digest.SendNowRequest{})
	if res.Left != 1 {
		t.Fatalf("%+v", res)
	}
	// A scheduled slot comes while the first edition waits for its retry:
	// the article waiting there is not planned a second time.
	at := e.clock.Now()
	slot, err := e.svc.RunSlot(context.Background(), "daily", "slot-1", at, at.Add(-24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if slot.EditionID == 0 || slot.EditionID == res.EditionID {
		t.Fatalf("slot edition: %+v", slot)
	}
	counts, _ := e.store.EditionCounts(context.Background(), slot.EditionID)
	if counts[model.DeliveryPending] != 0 || counts[model.DeliverySkipped] != 1 {
		t.Fatalf("slot edition planned the waiting article again: %v", counts)
	}
	res = e.sendNow(digest.SendNowRequest{Wait: time.Hour})
	if got := e.fake.to("slow@example.com"); len(got) != 1 {
		t.Fatalf("slow@ got %d digests", len(got))
	}
}
