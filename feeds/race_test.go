package feeds

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

// gatedSource blocks the first Articles call of a fill until released.
type gatedSource struct {
	*store.Store
	mu      sync.Mutex
	gate    chan struct{}
	entered chan struct{}
}

func (g *gatedSource) Articles(ctx context.Context, q model.ArticleQuery) ([]model.Article, error) {
	arts, err := g.Store.Articles(ctx, q)
	g.mu.Lock()
	gate := g.gate
	g.gate = nil
	g.mu.Unlock()
	if gate != nil {
		close(g.entered)
		<-gate
	}
	return arts, err
}

// A request filling a feed from rows read before a change must not leave
// that older feed cached after Refresh has consumed the change.
func TestFillRefreshRace(t *testing.T) {
	e := newEnv(t, seedSQL)
	ctx := context.Background()
	src := &gatedSource{Store: e.st}
	b := NewBuilder(src, testOptions(e.clock))
	h, err := NewHandler(ctx, b, e.st, HandlerOptions{CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRefresher(ctx, b, RefresherOptions{Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	src.gate, src.entered = gate, make(chan struct{})
	done := make(chan string)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/feeds/all.rss", nil))
		done <- w.Body.String()
	}()
	<-src.entered // the fill has read the old articles
	e.exec(t, `UPDATE articles SET title = 'BRAND NEW TITLE' WHERE id = (SELECT max(id) FROM articles)`)
	e.clock.Set(testNow.Add(time.Minute))
	refreshed := make(chan error, 1)
	go func() { _, err := r.Refresh(ctx); refreshed <- err }()
	time.Sleep(20 * time.Millisecond) // let Refresh reach the slot
	close(gate)
	<-done
	select {
	case err := <-refreshed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Refresh did not finish")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/feeds/all.rss", nil))
	if !strings.Contains(w.Body.String(), "BRAND NEW TITLE") {
		t.Error("the cached feed is older than the last Refresh")
	}
}
