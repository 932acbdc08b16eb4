// Package servebench measures what herald adds per feed request on top of
// net/http, in process (no sockets): the full herald serve handler (routes,
// metrics, the feeds cache) against the handler alone and against
// bench/bareserver's handler, for a 200 and a 304.
//
//	go test ./bench/servebench -bench . -benchmem
package servebench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/server"
	"github.com/heraldnews/herald/internal/store"
)

func setup(b *testing.B) (herald, feedsOnly http.Handler, etag string) {
	b.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, b.TempDir()+"/h.db", store.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.W.Exec(`INSERT INTO sections (id, slug, name) VALUES (1, 'news', 'News');
		INSERT INTO authors (id, slug, name) VALUES (1, 'ana', 'Ana')`); err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		if _, err := st.W.Exec(`INSERT INTO articles (id, guid, url, title, summary, body_html, section_id, published_at)
			VALUES (?, ?, ?, ?, 'A summary.', '<p>Body text of the article.</p>', 1, ?)`, i, fmt.Sprintf("g%d", i),
			fmt.Sprintf("/a/%d", i), fmt.Sprintf("Title %d", i), time.Now().Add(-time.Duration(i)*time.Hour).UTC().Format(time.RFC3339)); err != nil {
			b.Fatal(err)
		}
	}
	h, err := feeds.NewHandler(ctx, feeds.NewBuilder(st, feeds.Options{SiteURL: "https://news.example.com", Logger: log}), st,
		feeds.HandlerOptions{CacheBytes: 64 << 20, CacheControl: "public, max-age=300"})
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Options{Feeds: h, Log: log})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/feeds/all.rss", nil))
	if rec.Code != 200 {
		b.Fatal(rec.Code)
	}
	return srv.Handler(), h, rec.Header().Get("Etag")
}

// discard is a ResponseWriter that keeps nothing, so the benchmark measures
// the handlers and not the recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func bench(b *testing.B, h http.Handler, inm string) {
	r := httptest.NewRequest("GET", "/feeds/all.rss", nil)
	if inm != "" {
		r.Header.Set("If-None-Match", inm)
	}
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkServe(b *testing.B) {
	herald, feedsOnly, etag := setup(b)
	body := make([]byte, 60<<10)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Etag"] = []string{etag}
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h["Content-Type"] = []string{"application/rss+xml; charset=utf-8"}
		_, _ = w.Write(body)
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"herald", herald}, {"feeds-handler", feedsOnly}, {"bare", bare}} {
		b.Run(c.name+"/200", func(b *testing.B) { bench(b, c.h, "") })
		b.Run(c.name+"/304", func(b *testing.B) { bench(b, c.h, etag) })
	}
}
