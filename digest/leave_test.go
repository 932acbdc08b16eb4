package digest_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
)

// Someone who unsubscribes (or is removed, or bounces) while their delivery
// waits for a retry gets nothing when it is retried.
func TestLeavingCancelsPendingDeliveries(t *testing.T) {
	for _, leave := range []string{"unsubscribe", "remove", "bounce"} {
		t.Run(leave, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			ctx := context.Background()
			e.fake.script = func(_ *model.Message, n int) model.SendResult {
				if n == 1 {
					return model.SendResult{Outcome: model.Temporary, Code: 451, Reply: "451 4.3.0 try later"}
				}
				return model.SendResult{Outcome: model.Accepted, Code: 250, Reply: "250 ok"}
			}
			sub := e.subscriber("ada@example.com", "Ada", model.SubscriberActive, nil, nil)
			e.subscriber("bob@example.com", "Bob", model.SubscriberActive, nil, nil)
			e.article("a1", "Story", "world", time.Hour, "ann")
			res := e.sendNow(digest.SendNowRequest{})
			if res.Left != 2 {
				t.Fatalf("left for retry: %d", res.Left)
			}
			switch leave {
			case "unsubscribe":
				subs, err := e.store.SubscriptionsOf(ctx, sub.ID)
				if err != nil || len(subs) != 1 {
					t.Fatal(subs, err)
				}
				if err := e.store.SetSubscriptionStatus(ctx, subs[0].ID, model.SubscriptionUnsubscribed); err != nil {
					t.Fatal(err)
				}
			case "remove":
				if err := e.store.RemoveSubscriber(ctx, "ada@example.com"); err != nil {
					t.Fatal(err)
				}
			case "bounce":
				if err := e.store.SetSubscriberStatus(ctx, sub.ID, model.SubscriberBounced); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Add(2 * time.Minute)
			if _, err := e.svc.Resume(ctx, res.EditionID, 0, nil); err != nil {
				t.Fatal(err)
			}
			if n := len(e.fake.to("ada@example.com")); n != 0 {
				t.Errorf("%s: ada got %d digests after leaving", leave, n)
			}
			if n := len(e.fake.to("bob@example.com")); n != 1 {
				t.Errorf("bob got %d digests", n)
			}
		})
	}
}

// Cancelling an edition stops it within a few messages, and what the server
// accepted meanwhile is recorded sent, not cancelled.
func TestCancelStopsSendingAndKeepsTheRecordTrue(t *testing.T) {
	var (
		mu      sync.Mutex
		started = make(chan struct{})
		gate    = make(chan struct{})
		once    sync.Once
	)
	e := newEnv(t, nil, func(o *digest.Options) { o.PageSize = 1000 })
	e.fake.script = func(*model.Message, int) model.SendResult {
		once.Do(func() { close(started) })
		<-gate
		mu.Lock()
		defer mu.Unlock()
		return model.SendResult{Outcome: model.Accepted, Code: 250, Reply: "250 ok"}
	}
	for i := 0; i < 300; i++ {
		e.subscriber(fmt.Sprintf("r%03d@example.com", i), "", model.SubscriberActive, nil, nil)
	}
	e.article("a1", "Story", "world", time.Hour, "ann")
	ctx := context.Background()
	done := make(chan digest.SendNowResult, 1)
	go func() {
		res, err := e.svc.SendNow(ctx, digest.SendNowRequest{})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	<-started
	eds, err := e.store.Editions(ctx, "daily", 1)
	if err != nil || len(eds) != 1 {
		t.Fatal(eds, err)
	}
	if err := e.svc.Cancel(ctx, eds[0].ID); err != nil {
		t.Fatal(err)
	}
	close(gate)
	<-done
	sent := e.fake.count()
	// Within 64 deliveries of the cancel being seen, plus one delivery per
	// renderer (GOMAXPROCS) and one per connection already on their way.
	if sent > 64+runtime.GOMAXPROCS(0)+e.fake.workers+2 {
		t.Errorf("%d messages went out after the cancel", sent)
	}
	counts, err := e.store.EditionCounts(ctx, eds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts[model.DeliverySent] != sent {
		t.Errorf("%d accepted by the server, %d recorded sent (%v)", sent, counts[model.DeliverySent], counts)
	}
	if counts[model.DeliveryPending] != 0 {
		t.Errorf("pending after cancel: %v", counts)
	}
}
