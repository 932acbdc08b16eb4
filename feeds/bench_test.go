package feeds

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// benchBody is a realistic article body of about 4 KB.
func benchBody(i int) string {
	var sb strings.Builder
	for p := 0; sb.Len() < 4000; p++ {
		fmt.Fprintf(&sb, `<p>Paragraph %d of article %d: the council met on Tuesday to discuss the budget, `+
			`with <a href="/news/%d">links</a>, <em>emphasis</em> and “quotes” — as reported by our correspondent.</p>`+"\n", p, i, i)
	}
	return sb.String()
}

// benchEnv is a database with 50 realistic articles in one section by two authors.
func benchEnv(b *testing.B) *testEnv {
	b.Helper()
	e := newEnv(b)
	e.exec(b, `INSERT INTO sections (id, slug, name, description) VALUES (1, 'news', 'News', 'All the news.')`)
	e.exec(b, `INSERT INTO authors (id, slug, name, url) VALUES (1, 'ana', 'Ana Lima', '/people/ana'), (2, 'bo', 'Bo Chen', NULL)`)
	for i := 1; i <= 50; i++ {
		pub := testNow.Add(-time.Duration(i) * time.Hour).Format(time.RFC3339)
		e.exec(b, `INSERT INTO articles (id, guid, url, title, summary, body_html, image_url, section_id, published_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)`, i, fmt.Sprintf("urn:herald:article:%d", i), fmt.Sprintf("/news/%d", i),
			fmt.Sprintf("Headline number %d about the budget", i), "A summary of the article in one or two sentences.",
			benchBody(i), fmt.Sprintf("/img/%d.jpg", i), pub)
		e.exec(b, `INSERT INTO article_authors (article_id, author_id, position) VALUES (?, 1, 0), (?, 2, 1)`, i, i)
	}
	return e
}

// BenchmarkEncode encodes a 50-entry feed (articles already read and
// cleaned) in each format.
func BenchmarkEncode(b *testing.B) {
	e := benchEnv(b)
	f := e.b.siteFeed()
	arts, err := e.b.Articles(context.Background(), f)
	if err != nil || len(arts) != 50 {
		b.Fatal(len(arts), err)
	}
	items := make([]*item, len(arts))
	for i := range arts {
		items[i] = e.b.newItem(e.b.derive(&arts[i], arts[i].GUID))
	}
	d := e.b.doc(f, items)
	for _, c := range []struct {
		name string
		enc  func([]byte) []byte
	}{{"rss", d.rss}, {"atom", d.atom}, {"json", d.json}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = len(c.enc(nil))
			}
			b.SetBytes(int64(n))
		})
	}
	// Preparing an article: cleaning it and encoding its three fragments,
	// once per build whatever the number of feeds it appears in.
	raw, err := e.st.Articles(context.Background(), model.ArticleQuery{Limit: 1})
	if err != nil || len(raw) != 1 {
		b.Fatal(len(raw), err)
	}
	b.Run("item", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a, _ := e.b.clean.Article(raw[0])
			e.b.newItem(e.b.derive(&a, raw[0].GUID))
		}
	})
}

// BenchmarkBuild reads, cleans and encodes a 50-entry feed in all three
// formats from SQLite: the cost of one cache miss or one static feed.
func BenchmarkBuild(b *testing.B) {
	e := benchEnv(b)
	f := e.b.siteFeed()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.b.Build(context.Background(), f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteAll is `herald build` on a site of 2,000 articles of
// ~4 KB (6 sections, 25 authors: 32 feeds, 96 files) into an empty
// directory: reading, cleaning each article, encoding and durable writes.
// bench/build-vs-sql.sh measures the same at 100k and 1M articles against
// the sqlite3 shell.
func BenchmarkWriteAll(b *testing.B) {
	e := newEnv(b)
	archiveSite(b, e, 2000, benchBody)
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewWriter(e.b, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.WriteAll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing, to time a handler alone.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(c int)           { w.code = c }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkServe times the handler serving a cached 50-entry feed against a
// bare handler writing the same bytes, both in-process (handler cost only)
// and through a real net/http server and client.
func BenchmarkServe(b *testing.B) {
	e := benchEnv(b)
	h, err := NewHandler(context.Background(), e.b, e.st, HandlerOptions{CacheControl: "public, max-age=300", CacheBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	set, err := e.b.Build(context.Background(), e.b.siteFeed())
	if err != nil {
		b.Fatal(err)
	}
	body := set[Atom]
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		_, _ = w.Write(body)
	})
	const path = "/feeds/all.atom"
	for _, c := range []struct {
		name string
		h    http.Handler
		gzip bool
	}{{"herald", h, false}, {"herald-gzip", h, true}, {"bare", bare, false}} {
		b.Run("inproc/"+c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", path, nil)
			if c.gzip {
				r.Header.Set("Accept-Encoding", "gzip")
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, r)
			}
		})
	}
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"herald", h}, {"bare", bare}} {
		b.Run("http/"+c.name, func(b *testing.B) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(srv.URL + path)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
