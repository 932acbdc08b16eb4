package digest_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
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

// hookedLocal is the store, running hook before a given
// InsertLocalDeliveries call (1-based).
type hookedLocal struct {
	*store.Store
	at    int32
	calls atomic.Int32
	hook  func(editionID int64)
}

func (h *hookedLocal) InsertLocalDeliveries(ctx context.Context, editionID int64, digest string, moves []model.CursorMove, zone string, through int64) ([]int64, error) {
	if h.calls.Add(1) == h.at {
		h.hook(editionID)
	}
	return h.Store.InsertLocalDeliveries(ctx, editionID, digest, moves, zone, through)
}

// A zone group's edition is sent while it is planned too, and a cancel
// during its planning stops it the same way.
func TestLocalSendingWhilePlanning(t *testing.T) {
	for _, cancel := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancel=%v", cancel), func(t *testing.T) {
			e := newLocalEnv(t, "0 7 * * *", "UTC", 10)
			local := &hookedLocal{Store: e.store, at: 3}
			svc := e.localService(t, local)
			var sentBefore int
			local.hook = func(id int64) {
				if cancel {
					if err := svc.Cancel(context.Background(), id); err != nil {
						t.Errorf("cancel: %v", err)
					}
					return
				}
				deadline := time.Now().Add(5 * time.Second)
				for e.fake.count() == 0 && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				sentBefore = e.fake.count()
			}
			e.clock.Set(time.Date(2026, 6, 1, 7, 0, 0, 0, time.UTC))
			const n = 20 // seven pages of 3
			for i := range n {
				tz := "UTC"
				if i%2 == 1 {
					tz = ""
				}
				e.reader(fmt.Sprintf("r%02d@example.com", i), tz)
			}
			e.article("w1", "Story", "world", time.Hour)
			if err := svc.RunScheduled(context.Background(), slotOf(t, e, "UTC")); err != nil {
				t.Fatal(err)
			}
			eds, err := e.store.Editions(context.Background(), "daily", 10)
			if err != nil || len(eds) != 1 {
				t.Fatalf("editions %+v, %v", eds, err)
			}
			counts, err := e.store.EditionCounts(context.Background(), eds[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if cancel {
				total := 0
				for _, c := range counts {
					total += c
				}
				if eds[0].Status != model.EditionCancelled || total != 6 || counts[model.DeliveryPending] != 0 {
					t.Errorf("edition %s with deliveries %v: want cancelled, the two pages before the cancel (6), none pending", eds[0].Status, counts)
				}
				if got := e.fake.count(); got > 6 {
					t.Errorf("%d sent after a cancel that came after two pages of 3", got)
				}
				return
			}
			if sentBefore == 0 {
				t.Error("nothing was sent before the zone group's third page was written")
			}
			if eds[0].Status != model.EditionDone || counts[model.DeliverySent] != n {
				t.Errorf("edition %s with deliveries %v: want done, %d sent", eds[0].Status, counts, n)
			}
			for i := range n {
				if got := len(e.fake.to(fmt.Sprintf("r%02d@example.com", i))); got != 1 {
					t.Errorf("r%02d got %d digests, want 1", i, got)
				}
			}
		})
	}
}
