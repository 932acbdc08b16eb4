package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func newTestHandler(t *testing.T, e *testEnv, cacheBytes int64) *Handler {
	t.Helper()
	h, err := NewHandler(context.Background(), e.b, e.st, HandlerOptions{CacheControl: "public, max-age=300", CacheBytes: cacheBytes})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// newTestRefresher keeps h (and w, when set) current, as the daemon does.
func newTestRefresher(t *testing.T, e *testEnv, h *Handler, w *Writer) *Refresher {
	t.Helper()
	r, err := NewRefresher(context.Background(), e.b, RefresherOptions{Handler: h, Writer: w})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func do(t *testing.T, h http.Handler, method, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandlerServesEveryFormat(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	h := newTestHandler(t, e, 1<<20)
	for _, c := range []struct{ path, ctype string }{
		{"/feeds/all.rss", "application/rss+xml; charset=utf-8"},
		{"/feeds/all.atom", "application/atom+xml; charset=utf-8"},
		{"/feeds/all.json", "application/feed+json; charset=utf-8"},
		{"/feeds/sections/technology.atom", "application/atom+xml; charset=utf-8"},
		{"/feeds/sections/quiet.json", "application/feed+json; charset=utf-8"},
		{"/feeds/authors/ana-lima.rss", "application/rss+xml; charset=utf-8"},
	} {
		w := do(t, h, "GET", c.path)
		if w.Code != 200 || w.Header().Get("Content-Type") != c.ctype {
			t.Fatalf("%s: %d %q", c.path, w.Code, w.Header().Get("Content-Type"))
		}
		k, slug, ft, _ := ParsePath(c.path)
		var f Feed
		fs, _ := e.b.Feeds(ctx)
		for _, x := range fs {
			if x.ID.Kind == k && x.ID.Slug == slug {
				f = x
			}
		}
		set, err := e.b.Build(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w.Body.Bytes(), set[ft]) {
			t.Errorf("%s: body differs from the built feed", c.path)
		}
		hd := w.Header()
		if hd.Get("Etag") == "" || hd.Get("Last-Modified") != testNow.Format(http.TimeFormat) ||
			hd.Get("Cache-Control") != "public, max-age=300" || hd.Get("Vary") != "Accept-Encoding" ||
			hd.Get("Content-Length") != strconv.Itoa(len(set[ft])) {
			t.Errorf("%s: headers %v", c.path, hd)
		}
	}
}

func TestHandlerConditionalGzipHead(t *testing.T) {
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	h := newTestHandler(t, e, 1<<20)
	first := do(t, h, "GET", "/feeds/all.atom")
	etag, lm := first.Header().Get("Etag"), first.Header().Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("ETag %q is not strong", etag)
	}
	if w := do(t, h, "GET", "/feeds/all.atom", "If-None-Match", etag); w.Code != 304 || w.Body.Len() != 0 || w.Header().Get("Etag") != etag {
		t.Errorf("If-None-Match: %d", w.Code)
	} else if w.Header().Get("Vary") == "" || w.Header().Get("Last-Modified") != "" || w.Header().Get("Content-Type") != "" {
		// RFC 9110 §15.4.5: ETag, Vary (and Cache-Control), no other metadata.
		t.Errorf("304 headers: %v", w.Header())
	}
	if w := do(t, h, "GET", "/feeds/all.atom", "If-None-Match", `"other", `+etag); w.Code != 304 {
		t.Errorf("If-None-Match list: %d", w.Code)
	}
	if w := do(t, h, "GET", "/feeds/all.atom", "If-None-Match", `"other"`); w.Code != 200 {
		t.Errorf("If-None-Match other: %d", w.Code)
	}
	if w := do(t, h, "GET", "/feeds/all.atom", "If-Modified-Since", lm); w.Code != 304 {
		t.Errorf("If-Modified-Since: %d", w.Code)
	}
	if w := do(t, h, "GET", "/feeds/all.atom", "If-Modified-Since", testNow.Add(-time.Hour).Format(http.TimeFormat)); w.Code != 200 {
		t.Errorf("If-Modified-Since earlier: %d", w.Code)
	}
	// If-None-Match wins over If-Modified-Since.
	if w := do(t, h, "GET", "/feeds/all.atom", "If-None-Match", `"other"`, "If-Modified-Since", lm); w.Code != 200 {
		t.Errorf("If-None-Match mismatch with a matching date: %d", w.Code)
	}

	gz := do(t, h, "GET", "/feeds/all.atom", "Accept-Encoding", "br;q=1.0, gzip;q=0.8")
	if gz.Code != 200 || gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip: %d %v", gz.Code, gz.Header())
	}
	gzTag := gz.Header().Get("Etag")
	if gzTag == etag || gzTag == "" {
		t.Errorf("gzip ETag %q must differ from %q", gzTag, etag)
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, first.Body.Bytes()) {
		t.Error("gzip body does not decompress to the plain body")
	}
	if w := do(t, h, "GET", "/feeds/all.atom", "Accept-Encoding", "gzip", "If-None-Match", gzTag); w.Code != 304 {
		t.Errorf("gzip If-None-Match: %d", w.Code)
	}
	if w := do(t, h, "GET", "/feeds/all.atom", "Accept-Encoding", "gzip;q=0"); w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}

	head := do(t, h, "HEAD", "/feeds/all.atom")
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") != first.Header().Get("Content-Length") ||
		head.Header().Get("Etag") != etag {
		t.Errorf("HEAD: %d %d %v", head.Code, head.Body.Len(), head.Header())
	}
	for _, p := range []string{"/feeds/sections/nope.rss", "/feeds/authors/nope.json", "/feeds/sections/Technology.rss",
		"/feeds/all.xml", "/feeds/", "/feeds/sections/../all.rss", "/other"} {
		if w := do(t, h, "GET", p); w.Code != 404 {
			t.Errorf("%s: %d, want 404", p, w.Code)
		}
	}
	if w := do(t, h, "POST", "/feeds/all.rss"); w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d", w.Code)
	}
	// A real server, as a feed reader sees it.
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/feeds/all.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !resp.Uncompressed || !bytes.Contains(body, []byte(`"items"`)) {
		t.Errorf("real server: %d uncompressed=%v", resp.StatusCode, resp.Uncompressed)
	}
}

func TestHandlerRefresh(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	h := newTestHandler(t, e, 1<<20)
	r := newTestRefresher(t, e, h, nil)
	before := do(t, h, "GET", "/feeds/sections/technology.rss")
	beforeAll := do(t, h, "GET", "/feeds/all.json")
	world := do(t, h, "GET", "/feeds/sections/world-news.rss")

	// A row changes; later, the Refresher's ticker calls Refresh.
	e.exec(t, `UPDATE articles SET title = 'Tie, lower id (updated)', updated_at = '2026-11-26T11:00:00Z' WHERE id = 102`)
	e.clock.Set(testNow.Add(10 * time.Minute))
	if w := do(t, h, "GET", "/feeds/sections/technology.rss"); w.Body.String() != before.Body.String() {
		t.Fatal("the cache rebuilt on a request instead of on Refresh")
	}
	res, err := r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Join(res.Changed, " ")
	for _, want := range []string{"/feeds/all.rss", "/feeds/sections/technology.atom", "/feeds/authors/ana-lima.json"} {
		if !strings.Contains(changed, "https://news.example.com"+want) {
			t.Errorf("Refresh changed %q, missing %s", res.Changed, want)
		}
	}
	if strings.Contains(changed, "world-news") || strings.Contains(changed, "quiet") {
		t.Errorf("Refresh touched untouched feeds: %q", res.Changed)
	}
	after := do(t, h, "GET", "/feeds/sections/technology.rss")
	if !strings.Contains(after.Body.String(), "Tie, lower id (updated)") {
		t.Fatal("refresh did not replace the cached feed")
	}
	if after.Header().Get("Etag") == before.Header().Get("Etag") ||
		after.Header().Get("Last-Modified") != testNow.Add(10*time.Minute).Format(http.TimeFormat) {
		t.Errorf("after refresh: %v", after.Header())
	}
	if w := do(t, h, "GET", "/feeds/sections/technology.rss", "If-None-Match", before.Header().Get("Etag")); w.Code != 200 {
		t.Errorf("old ETag answered %d", w.Code)
	}
	if w := do(t, h, "GET", "/feeds/sections/world-news.rss"); w.Header().Get("Last-Modified") != world.Header().Get("Last-Modified") {
		t.Error("an untouched feed's Last-Modified moved")
	}
	_ = beforeAll

	// Retracting moves Last-Modified forward, never back, even if the clock does.
	e.exec(t, `UPDATE articles SET status = 'retracted' WHERE id = 102`)
	e.clock.Set(testNow.Add(5 * time.Minute)) // a clock stepped back
	if _, err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	w := do(t, h, "GET", "/feeds/sections/technology.rss")
	lm, _ := http.ParseTime(w.Header().Get("Last-Modified"))
	if !lm.After(testNow.Add(10 * time.Minute)) {
		t.Errorf("Last-Modified went to %v after a retraction", lm)
	}
	if strings.Contains(w.Body.String(), "tie-low") {
		t.Error("retracted article still served")
	}

	// A new section gets a route; a deleted one loses it.
	e.exec(t, `INSERT INTO sections (id, slug, name) VALUES (12, 'sport', 'Sport')`)
	e.exec(t, `DELETE FROM sections WHERE slug = 'quiet'`)
	if _, err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if w := do(t, h, "GET", "/feeds/sections/sport.atom"); w.Code != 200 {
		t.Errorf("new section: %d", w.Code)
	}
	if w := do(t, h, "GET", "/feeds/sections/quiet.atom"); w.Code != 404 {
		t.Errorf("deleted section: %d", w.Code)
	}

	// The embargoed article appears once its time passes, with no row changing.
	e.clock.Set(time.Date(2026, 12, 24, 8, 0, 1, 0, time.UTC))
	res, err = r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Touched.All || !res.Touched.Sections[10] || !res.Touched.Authors[20] {
		t.Errorf("embargo touched %+v", res.Touched)
	}
	for _, p := range []string{"/feeds/all.rss", "/feeds/sections/technology.rss", "/feeds/authors/ana-lima.rss"} {
		if w := do(t, h, "GET", p); !strings.Contains(w.Body.String(), "urn:herald:article:embargoed") {
			t.Errorf("%s: embargoed article missing after its time", p)
		}
	}

	// Last-Modified survives a restart.
	lmTech := do(t, h, "GET", "/feeds/sections/technology.rss").Header().Get("Last-Modified")
	e.clock.Set(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	h2 := newTestHandler(t, e, 1<<20)
	if got := do(t, h2, "GET", "/feeds/sections/technology.rss").Header().Get("Last-Modified"); got != lmTech {
		t.Errorf("after restart Last-Modified %q, want %q", got, lmTech)
	}
}

func TestHandlerCacheBound(t *testing.T) {
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	// Room for about two feeds.
	h := newTestHandler(t, e, 40<<10)
	paths := []string{"/feeds/all.rss", "/feeds/sections/technology.rss", "/feeds/authors/ana-lima.rss",
		"/feeds/sections/world-news.rss", "/feeds/authors/robert-overtone.rss", "/feeds/sections/quiet.rss"}
	for round := 0; round < 2; round++ {
		for _, p := range paths {
			if w := do(t, h, "GET", p); w.Code != 200 {
				t.Fatalf("%s: %d", p, w.Code)
			}
		}
	}
	st := h.Stats()
	if st.CachedBytes > 40<<10 || st.Evictions == 0 || st.CachedFeeds == 0 {
		t.Errorf("stats %+v", st)
	}
	if st.Routes != 21 {
		t.Errorf("routes %d, want 21", st.Routes)
	}
	// No cache at all still serves.
	h0 := newTestHandler(t, e, 0)
	if w := do(t, h0, "GET", "/feeds/all.rss"); w.Code != 200 || h0.Stats().CachedBytes != 0 {
		t.Errorf("uncached: %d %+v", w.Code, h0.Stats())
	}
}

// TestHandlerChangeSeenByRequestFirst: a request that builds a changed feed
// before Refresh runs must not swallow the change Refresh reports.
func TestHandlerChangeSeenByRequestFirst(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	h := newTestHandler(t, e, 0) // no cache: every request builds
	r := newTestRefresher(t, e, h, nil)
	do(t, h, "GET", "/feeds/all.rss")
	if res, err := r.Refresh(ctx); err != nil || len(res.Changed) != 0 {
		t.Fatalf("first build reported as a change: %+v %v", res, err)
	}
	e.exec(t, `UPDATE articles SET title = 'New title' WHERE id = 104`)
	e.clock.Set(testNow.Add(time.Minute))
	if w := do(t, h, "GET", "/feeds/all.rss"); !strings.Contains(w.Body.String(), "New title") {
		t.Fatal("uncached request did not build")
	}
	res, err := r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range res.Changed {
		if u == "https://news.example.com/feeds/all.rss" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("Changed %q: want all.rss once", res.Changed)
	}
}
