package digest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
)

// Within one process the scheduler, the API and the retry loop share one
// lease holder name; only one of them may work on a digest at a time.
func TestOneActiveEditionWithinAProcess(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	started := make(chan struct{})
	e := newEnv(t, nil, nil)
	e.fake.script = func(*model.Message, int) model.SendResult {
		once.Do(func() { close(started) })
		<-release
		return model.SendResult{Outcome: model.Accepted, Code: 250, Reply: "250 ok"}
	}
	e.subscriber("ada@example.com", "Ada", model.SubscriberActive, nil, nil)
	e.article("a1", "Story", "world", time.Hour, "ann")

	done := make(chan error, 1)
	go func() {
		_, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{})
		done <- err
	}()
	<-started
	// Without the guard the second caller would enter and block on the
	// same sender: bound the wait so a regression fails instead of hanging.
	second := make(chan error, 2)
	go func() {
		_, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{})
		second <- err
		at := e.clock.Now()
		_, err = e.svc.RunSlot(context.Background(), "daily", "k", at, at.Add(-24*time.Hour), 0)
		second <- err
	}()
	for _, what := range []string{"second send-now in the same process", "scheduled slot meanwhile"} {
		select {
		case err := <-second:
			if !errorsIs(err, digest.ErrLeaseHeld) {
				t.Errorf("%s: %v, want ErrLeaseHeld", what, err)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("%s entered the held lease", what)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.to("ada@example.com")); n != 1 {
		t.Errorf("%d digests", n)
	}
	// Released: the next one may run.
	if _, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{}); err != nil {
		t.Errorf("after release: %v", err)
	}
}
