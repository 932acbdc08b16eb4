package digest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
)

// flakyPlans fails one call of InsertDeliveries or ActiveSubscriptions,
// and notes any read made after the plan that made it had returned.
type flakyPlans struct {
	digest.PlanStore
	mu                   sync.Mutex
	inserts, reads       int
	failInsert, failRead int // the call that fails (1-based; 0: none)
	returned, lateRead   bool
}

var errInjected = errors.New("injected failure")

func (p *flakyPlans) InsertDeliveries(ctx context.Context, editionID int64, ds []model.Delivery, through int64) error {
	p.mu.Lock()
	p.inserts++
	fail := p.inserts == p.failInsert
	p.mu.Unlock()
	if fail {
		return errInjected
	}
	return p.PlanStore.InsertDeliveries(ctx, editionID, ds, through)
}

func (p *flakyPlans) ActiveSubscriptions(ctx context.Context, d string, afterID int64, limit int) ([]model.Subscription, error) {
	p.mu.Lock()
	p.reads++
	fail := p.reads == p.failRead
	if p.returned {
		p.lateRead = true
	}
	p.mu.Unlock()
	if fail {
		return nil, errInjected
	}
	// Slow reads let the writer run ahead, and the reverse in other runs.
	time.Sleep(time.Millisecond)
	return p.PlanStore.ActiveSubscriptions(ctx, d, afterID, limit)
}

// Planning reads the next page while it writes the one before, and the
// edition is sent as pages are written. A failed write or read mid-plan
// ends the send with that error, having sent only readers of pages
// written before it, leaves no read running after it returned, and the
// next send-now finishes the edition: every reader gets exactly one
// digest.
func TestPlanningFailsMidwayAndResumes(t *testing.T) {
	for _, c := range []struct {
		name                 string
		failInsert, failRead int
		written              int // pages written before the failure, at most
	}{
		{"a write fails", 3, 0, 2},
		{"a read fails", 0, 4, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			plans := &flakyPlans{failInsert: c.failInsert, failRead: c.failRead}
			e := newEnv(t, nil, func(o *digest.Options) {
				plans.PlanStore = o.Plans
				o.Plans = plans
			})
			e.article("g1", "Storm hits the coast", "world", time.Hour, "ann")
			const n = 60 // about nine pages of 7
			for i := range n {
				e.subscriber(fmt.Sprintf("r%02d@example.com", i), "", model.SubscriberActive, nil, nil)
			}
			_, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{Digest: "daily"})
			plans.mu.Lock()
			plans.returned = true
			plans.mu.Unlock()
			// The plan waits for its page reader before it returns.
			if stacks, ok := readerGone(); !ok {
				t.Errorf("the page reader is still running after the failed plan returned:\n%s", stacks)
			}
			if !errors.Is(err, errInjected) {
				t.Fatalf("SendNow with a failing %s: %v, want the injected error", c.name, err)
			}
			if got := e.fake.count(); got > c.written*7 {
				t.Fatalf("%d sent while planning failed after at most %d pages of 7", got, c.written)
			}
			time.Sleep(20 * time.Millisecond) // a reader left running would call again
			plans.mu.Lock()
			late := plans.lateRead
			plans.returned = false
			plans.mu.Unlock()
			if late {
				t.Error("a page was read after the failed plan returned")
			}
			e.sendNow(digest.SendNowRequest{Digest: "daily"})
			for i := range n {
				if got := len(e.fake.to(fmt.Sprintf("r%02d@example.com", i))); got != 1 {
					t.Errorf("r%02d got %d digests, want 1", i, got)
				}
			}
		})
	}
}

// readerGone reports whether no plan page reader is left, with the
// goroutines' stacks when one is. The reader's last deferred close is what
// lets the plan return, so for a moment after it the goroutine may still
// be on its way out: runnable or running with nothing called above its
// own function (seen once in CI). Such a one is waited for, up to a
// second; a reader in any call (a read, planning a page, a sleep) or
// blocked on a channel is one left running.
func readerGone() (string, bool) {
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		stacks := string(buf[:runtime.Stack(buf, true)])
		leaving := false
		for _, g := range strings.Split(stacks, "\n\n") {
			if !strings.Contains(g, "digest.(*Service).plan.func") {
				continue
			}
			lines := strings.SplitN(g, "\n", 3)
			if len(lines) < 2 || !(strings.HasSuffix(lines[0], "[runnable]:") || strings.HasSuffix(lines[0], "[running]:")) ||
				!strings.HasPrefix(lines[1], "github.com/heraldnews/herald/digest.(*Service).plan.func") {
				return stacks, false
			}
			leaving = true
		}
		if !leaving {
			return "", true
		}
		if time.Now().After(deadline) {
			return stacks, false
		}
	}
}
