package feeds

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

// countingSource counts the reads feeds makes of a real store: change
// reads, and article reads per feed (a feed build reads its articles once).
type countingSource struct {
	*store.Store
	mu       sync.Mutex
	changes  int
	articles map[string]int
	fail     map[string]error // a feed's next article read fails with this
}

func newCountingSource(st *store.Store) *countingSource {
	return &countingSource{Store: st, articles: map[string]int{}, fail: map[string]error{}}
}

func queryKey(q model.ArticleQuery) string {
	switch {
	case q.SectionID != 0:
		return fmt.Sprintf("section:%d", q.SectionID)
	case q.AuthorID != 0:
		return fmt.Sprintf("author:%d", q.AuthorID)
	}
	return "all"
}

func (c *countingSource) Articles(ctx context.Context, q model.ArticleQuery) ([]model.Article, error) {
	k := queryKey(q)
	c.mu.Lock()
	c.articles[k]++
	err := c.fail[k]
	delete(c.fail, k)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return c.Store.Articles(ctx, q)
}

func (c *countingSource) ChangesSince(ctx context.Context, after int64) (model.ChangeSet, error) {
	c.mu.Lock()
	c.changes++
	c.mu.Unlock()
	return c.Store.ChangesSince(ctx, after)
}

func (c *countingSource) reset() {
	c.mu.Lock()
	c.changes = 0
	clear(c.articles)
	c.mu.Unlock()
}

func (c *countingSource) counts() (int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changes, maps.Clone(c.articles)
}

// refreshEnv is a handler and a writer kept current by one Refresher over
// a counting source.
type refreshEnv struct {
	*testEnv
	src *countingSource
	h   *Handler
	w   *Writer
	r   *Refresher
	dir string
}

// newRefreshEnv loads the golden rows; opts, when set, adjusts the
// builder's options (whose clock is the store's).
func newRefreshEnv(t *testing.T, opts func(*Options), ropt RefresherOptions) *refreshEnv {
	t.Helper()
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	src := newCountingSource(e.st)
	opt := testOptions(e.clock)
	if opts != nil {
		opts(&opt)
	}
	b := NewBuilder(src, opt)
	h, err := NewHandler(ctx, b, e.st, HandlerOptions{CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := NewWriterMust(t, b, dir)
	ropt.Handler, ropt.Writer = h, w
	r, err := NewRefresher(ctx, b, ropt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAll(ctx); err != nil {
		t.Fatal(err)
	}
	return &refreshEnv{testEnv: e, src: src, h: h, w: w, r: r, dir: dir}
}

func (re *refreshEnv) file(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(re.dir, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRefresherOneReadBothSinks: one refresh reads the change log once,
// builds each touched feed once, and the cache and the files get the same
// bytes.
func TestRefresherOneReadBothSinks(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, nil, RefresherOptions{})
	for _, p := range []string{"/feeds/all.rss", "/feeds/sections/world-news.atom", "/feeds/sections/technology.rss"} {
		if w := do(t, re.h, "GET", p); w.Code != 200 {
			t.Fatalf("%s: %d", p, w.Code)
		}
	}
	if res, err := re.r.Refresh(ctx); err != nil || res.Rebuilt != 0 || len(res.Changed) != 0 {
		t.Fatalf("nothing changed yet: %+v %v", res, err)
	}
	buildsBefore := re.h.Stats().Builds
	re.src.reset()

	re.exec(t, `UPDATE articles SET title = 'Renamed once' WHERE id = 103`) // world-news, robert-overtone
	res, err := re.r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	changes, arts := re.src.counts()
	if changes != 1 {
		t.Errorf("the change log was read %d times, want once", changes)
	}
	want := map[string]int{"all": 1, "section:1": 1, "author:1": 1}
	if fmt.Sprint(arts) != fmt.Sprint(want) {
		t.Errorf("article reads per feed %v, want %v (each touched feed built once)", arts, want)
	}
	if got := re.h.Stats().Builds - buildsBefore; got != 3 || res.Rebuilt != 3 {
		t.Errorf("handler builds %d, rebuilt %d: want 3", got, res.Rebuilt)
	}
	if res.Static.Written != 9 || res.Static.Removed != 0 {
		t.Errorf("static %+v, want 9 written", res.Static)
	}
	// The cache (filled before, replaced in place) and the files hold the
	// same new bytes.
	for _, p := range []string{"/feeds/all.rss", "/feeds/sections/world-news.atom", "/feeds/authors/robert-overtone.json"} {
		body := do(t, re.h, "GET", p).Body.String()
		if !strings.Contains(body, "Renamed once") {
			t.Errorf("%s: cache not refreshed", p)
		}
		if f := re.file(t, p); f != body {
			t.Errorf("%s: file and cache differ", p)
		}
	}
	if _, arts := re.src.counts(); arts["all"] != 1 || arts["section:1"] != 1 {
		t.Errorf("a cached feed was built again on a request (%v): the refresh should have replaced it", arts)
	}
	if !slices.Contains(res.Changed, "https://news.example.com/feeds/sections/world-news.rss") ||
		slices.ContainsFunc(res.Changed, func(u string) bool { return strings.Contains(u, "technology") }) {
		t.Errorf("changed %q", res.Changed)
	}
}

// TestRefresherEmbargo: an article published in the future appears in the
// cache and the files once the injected clock passes its time, with no row
// changing.
func TestRefresherEmbargo(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, nil, RefresherOptions{})
	set := re.clock.Set // the store's and the builder's clock
	const guid = "urn:herald:article:embargoed"
	paths := []string{"/feeds/all.rss", "/feeds/sections/technology.atom", "/feeds/authors/ana-lima.json"}
	for _, p := range paths {
		if strings.Contains(do(t, re.h, "GET", p).Body.String(), guid) || strings.Contains(re.file(t, p), guid) {
			t.Fatalf("%s: embargoed article visible before its time", p)
		}
	}
	set(time.Date(2026, 12, 24, 7, 59, 59, 0, time.UTC))
	if res, err := re.r.Refresh(ctx); err != nil || !res.Touched.Empty() {
		t.Fatalf("a second early: %+v %v", res, err)
	}
	set(time.Date(2026, 12, 24, 8, 0, 0, 0, time.UTC))
	res, err := re.r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Touched.All || !res.Touched.Sections[10] || !res.Touched.Authors[20] {
		t.Errorf("embargo touched %+v", res.Touched)
	}
	for _, p := range paths {
		w := do(t, re.h, "GET", p)
		if !strings.Contains(w.Body.String(), guid) || !strings.Contains(re.file(t, p), guid) {
			t.Errorf("%s: embargoed article missing after its time", p)
		}
		if lm := w.Header().Get("Last-Modified"); lm != "Thu, 24 Dec 2026 08:00:00 GMT" {
			t.Errorf("%s: Last-Modified %q, want the injected clock's", p, lm)
		}
	}
}

// TestRefresherRequeue: a feed that fails to build is built again on the
// next refresh, with the feeds after it, though nothing new changed.
func TestRefresherRequeue(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, nil, RefresherOptions{})
	do(t, re.h, "GET", "/feeds/sections/world-news.rss")
	re.exec(t, `UPDATE articles SET title = 'Requeued' WHERE id = 103`)
	boom := errors.New("disk on fire")
	re.src.mu.Lock()
	re.src.fail["author:1"] = boom // authors come before sections
	re.src.mu.Unlock()
	if _, err := re.r.Refresh(ctx); !errors.Is(err, boom) {
		t.Fatalf("refresh error %v, want %v", err, boom)
	}
	res, err := re.r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Touched.Sections[1] || !res.Touched.Authors[1] {
		t.Errorf("requeued %+v, want world-news and robert-overtone", res.Touched)
	}
	for _, p := range []string{"/feeds/sections/world-news.rss", "/feeds/authors/robert-overtone.atom"} {
		if !strings.Contains(do(t, re.h, "GET", p).Body.String(), "Requeued") || !strings.Contains(re.file(t, p), "Requeued") {
			t.Errorf("%s: not rebuilt after the failure", p)
		}
	}
}

// hub is a WebSub hub on 127.0.0.1 that records each publish ping.
type hub struct {
	srv   *httptest.Server
	pings chan url.Values
}

func newHub(t *testing.T) *hub {
	t.Helper()
	h := &hub{pings: make(chan url.Values, 16)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad ping", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.pings <- r.PostForm
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// prunes records the change-log prunes Run makes, on the real store.
type prunes struct {
	st     *store.Store
	before chan time.Time
}

func (p *prunes) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	p.before <- before
	return p.st.PruneChanges(ctx, before)
}

// TestRefresherRun: Run refreshes on its ticker, pings the hubs for the
// feeds whose bytes changed (and not for the others), reports each refresh
// and prunes the change log once the injected clock has moved an hour.
func TestRefresherRun(t *testing.T) {
	hb := newHub(t)
	var mu sync.Mutex
	var rebuilt int
	pr := &prunes{before: make(chan time.Time, 4)}
	re := newRefreshEnv(t, func(o *Options) { o.Hubs = []string{hb.srv.URL + "/hub"} }, RefresherOptions{
		Interval: time.Millisecond, // raised to the 100ms floor
		Pruner:   pr,
		OnRefresh: func(res RefreshResult, _ time.Duration, err error) {
			mu.Lock()
			rebuilt += res.Rebuilt
			mu.Unlock()
		},
	})
	pr.st = re.st
	if re.r.opt.Interval != 100*time.Millisecond {
		t.Errorf("interval %v, want the 100ms floor", re.r.opt.Interval)
	}
	do(t, re.h, "GET", "/feeds/sections/technology.rss")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { re.r.Run(ctx); close(done) }()

	re.exec(t, `UPDATE articles SET title = 'Pinged' WHERE id = 102`) // technology, ana-lima
	var form url.Values
	select {
	case form = <-hb.pings:
	case <-time.After(10 * time.Second):
		t.Fatal("no WebSub ping")
	}
	if form.Get("hub.mode") != "publish" {
		t.Errorf("hub.mode %q", form.Get("hub.mode"))
	}
	urls := form["hub.url"]
	for _, p := range []string{"/feeds/all.rss", "/feeds/sections/technology.atom", "/feeds/authors/ana-lima.json"} {
		if !slices.Contains(urls, "https://news.example.com"+p) {
			t.Errorf("ping lacks %s: %q", p, urls)
		}
	}
	for _, u := range urls {
		if strings.Contains(u, "world-news") || strings.Contains(u, "robert-overtone") || strings.Contains(u, "quiet") {
			t.Errorf("ping names an unchanged feed: %s", u)
		}
	}

	// An hour on the injected clock: the next tick prunes a day back.
	later := testNow.Add(time.Hour + time.Minute)
	re.clock.Set(later)
	select {
	case before := <-pr.before:
		if !before.Equal(later.Add(-24 * time.Hour)) {
			t.Errorf("pruned before %v, want %v", before, later.Add(-24*time.Hour))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no prune")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	mu.Lock()
	if rebuilt != 3 {
		t.Errorf("OnRefresh saw %d feeds rebuilt, want 3", rebuilt)
	}
	mu.Unlock()
	// Nothing else changed: no further ping was sent, and a refresh now
	// queues none.
	select {
	case f := <-hb.pings:
		t.Errorf("a second ping: %v", f)
	default:
	}
	if res, err := re.r.Refresh(context.Background()); err != nil || len(res.Changed) != 0 || len(re.r.hub.take()) != 0 {
		t.Errorf("unchanged refresh: %+v %v", res, err)
	}
}

// TestRefresherWriteFailure: a file that cannot be written does not hold
// the cache back, and is written by the next refresh though nothing new
// changed.
func TestRefresherWriteFailure(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, nil, RefresherOptions{})
	do(t, re.h, "GET", "/feeds/sections/world-news.rss")
	// A directory where a feed file goes: the rename onto it fails.
	blocker := filepath.Join(re.dir, "feeds", "sections", "world-news.rss")
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	re.exec(t, `UPDATE articles SET title = 'Blocked' WHERE id = 103`) // all, world-news, robert-overtone
	res, err := re.r.Refresh(ctx)
	if err == nil {
		t.Fatal("the blocked write reported no error")
	}
	if res.Rebuilt != 3 {
		t.Errorf("rebuilt %d, want 3", res.Rebuilt)
	}
	if !strings.Contains(do(t, re.h, "GET", "/feeds/sections/world-news.rss").Body.String(), "Blocked") {
		t.Error("the cache was held back by the failed write")
	}
	if !strings.Contains(re.file(t, "/feeds/authors/robert-overtone.rss"), "Blocked") {
		t.Error("a writable feed was not written")
	}
	if err := os.RemoveAll(blocker); err != nil {
		t.Fatal(err)
	}
	buildsBefore := re.h.Stats().Builds
	res, err = re.r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Touched.Empty() || res.Rebuilt != 1 || res.Static.Written != 3 || re.h.Stats().Builds != buildsBefore {
		t.Errorf("retry: %+v (handler builds %d -> %d)", res, buildsBefore, re.h.Stats().Builds)
	}
	for _, p := range []string{"/feeds/sections/world-news.rss", "/feeds/sections/world-news.json"} {
		if !strings.Contains(re.file(t, p), "Blocked") {
			t.Errorf("%s not written on retry", p)
		}
	}
	if res, err := re.r.Refresh(ctx); err != nil || res.Rebuilt != 0 {
		t.Errorf("after the retry: %+v %v", res, err)
	}
}
