package digest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
)

// hookedPlans runs hook before a given InsertDeliveries call (1-based).
type hookedPlans struct {
	digest.PlanStore
	mu      sync.Mutex
	inserts int
	at      int
	hook    func(editionID int64)
}

func (p *hookedPlans) InsertDeliveries(ctx context.Context, editionID int64, ds []model.Delivery, through int64) error {
	p.mu.Lock()
	p.inserts++
	run := p.inserts == p.at
	p.mu.Unlock()
	if run {
		p.hook(editionID)
	}
	return p.PlanStore.InsertDeliveries(ctx, editionID, ds, through)
}

// The edition is sent while it is planned: before its third page is
// written, messages of the first pages have gone out. Every reader still
// gets exactly one digest, the progress total grows to everyone planned,
// and the edition ends done.
func TestSendingStartsWhilePlanning(t *testing.T) {
	plans := &hookedPlans{at: 3}
	e := newEnv(t, nil, func(o *digest.Options) {
		plans.PlanStore = o.Plans
		o.Plans = plans
	})
	var sentBefore int
	plans.hook = func(int64) {
		deadline := time.Now().Add(5 * time.Second)
		for e.fake.count() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		sentBefore = e.fake.count()
	}
	e.article("g1", "Storm hits the coast", "world", time.Hour, "ann")
	const n = 60 // nine pages of 7
	for i := range n {
		e.subscriber(fmt.Sprintf("r%02d@example.com", i), "", model.SubscriberActive, nil, nil)
	}
	var mu sync.Mutex
	var last digest.Progress
	res := e.sendNow(digest.SendNowRequest{Digest: "daily", Progress: func(p digest.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Phase == "sending" {
			if p.Total < last.Total {
				t.Errorf("progress total went down: %d after %d", p.Total, last.Total)
			}
			last = p
		}
	}})
	if sentBefore == 0 {
		t.Fatal("nothing was sent before planning's third page was written")
	}
	for i := range n {
		if got := len(e.fake.to(fmt.Sprintf("r%02d@example.com", i))); got != 1 {
			t.Errorf("r%02d got %d digests, want 1", i, got)
		}
	}
	if res.Sent != n || res.Left != 0 || res.Counts[model.DeliverySent] != n {
		t.Errorf("result %+v, want %d sent and none left", res, n)
	}
	mu.Lock()
	if last.Total != n || last.Sent != n {
		t.Errorf("last sending progress %+v, want total and sent %d", last, n)
	}
	mu.Unlock()
	ed, err := e.store.Edition(context.Background(), res.EditionID)
	if err != nil {
		t.Fatal(err)
	}
	if ed.Status != model.EditionDone {
		t.Errorf("edition %s, want done", ed.Status)
	}
}

// An editor who cancels an edition while it is being planned stops both
// the planning and the sending: no page is written after the cancel, the
// edition stays cancelled (the end of planning does not move it back to
// sending), and nothing is left pending.
func TestCancelWhilePlanning(t *testing.T) {
	plans := &hookedPlans{at: 3}
	e := newEnv(t, nil, func(o *digest.Options) {
		plans.PlanStore = o.Plans
		o.Plans = plans
	})
	plans.hook = func(id int64) {
		if err := e.svc.Cancel(context.Background(), id); err != nil {
			t.Errorf("cancel: %v", err)
		}
	}
	e.article("g1", "Storm hits the coast", "world", time.Hour, "ann")
	const n = 60
	for i := range n {
		e.subscriber(fmt.Sprintf("r%02d@example.com", i), "", model.SubscriberActive, nil, nil)
	}
	res, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{Digest: "daily"})
	if err != nil {
		t.Fatalf("send-now of an edition cancelled while planning: %v", err)
	}
	ed, err := e.store.Edition(context.Background(), res.EditionID)
	if err != nil {
		t.Fatal(err)
	}
	if ed.Status != model.EditionCancelled {
		t.Errorf("edition %s after a cancel during planning, want cancelled", ed.Status)
	}
	counts, err := e.store.EditionCounts(context.Background(), res.EditionID)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != 14 || counts[model.DeliveryPending] != 0 {
		t.Errorf("deliveries %v: want the two pages written before the cancel (14), none pending", counts)
	}
	if got := e.fake.count(); got > 14 || got != counts[model.DeliverySent] {
		t.Errorf("%d sent, %d recorded sent: want at most the two pages planned before the cancel", got, counts[model.DeliverySent])
	}
}
