package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// TestPingerQueue: while a hub is slow, refreshes queue without waiting,
// each URL once, and the next ping carries them all.
func TestPingerQueue(t *testing.T) {
	got := make(chan []string, 4)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got <- r.PostForm["hub.url"]
		<-release
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	defer close(release)
	p := newPinger([]string{srv.URL}, nil, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.run(ctx); close(done) }()

	p.queue([]string{"u1"})
	first := <-got // the hub holds this ping
	if !slices.Equal(first, []string{"u1"}) {
		t.Errorf("first ping %q", first)
	}
	start := time.Now()
	for range 1000 {
		p.queue([]string{"u2", "u1", "u3"})
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("queueing waited for the hub: %v", d)
	}
	p.mu.Lock()
	n := len(p.queued)
	p.mu.Unlock()
	if n != 3 {
		t.Errorf("queue holds %d URLs, want 3", n)
	}
	release <- struct{}{}
	second := <-got
	if !slices.Equal(second, []string{"u2", "u1", "u3"}) {
		t.Errorf("second ping %q", second)
	}
	release <- struct{}{}
	cancel()
	<-done
	select {
	case extra := <-got:
		t.Errorf("a third ping: %q", extra)
	default:
	}
}
