package digest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

func benchService(b testing.TB) (*Service, *store.Store) {
	b.Helper()
	cfg, err := config.Parse([]byte(`
site: { name: "The Herald", url: "https://news.example.com", postal_address: "1 Fleet Street" }
secret: "bench-secret-0123456789abcdef0123456789"
digests: [ { name: daily, schedule: "0 7 * * *", max_articles: 10 } ]
`))
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), b.TempDir()+"/h.db", store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s, err := New(Options{Config: cfg, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st, Leases: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return s, st
}

func benchArticles(n int) []*ArticleView {
	var out []*ArticleView
	for i := range n {
		sec := []string{"world", "sport", "business"}[i%3]
		out = append(out, newArticleView(model.Article{
			ID: int64(i + 1), Title: fmt.Sprintf("Article number %d with a headline of ordinary length", i),
			URL: fmt.Sprintf("https://news.example.com/%s/%d", sec, i), Summary: "<p>A summary of a couple of sentences, as editors write them. It says what happened.</p>",
			SummaryText: "A summary of a couple of sentences, as editors write them. It says what happened.",
			Section:     model.Section{Slug: sec, Name: sec}, Authors: []model.Author{{Name: "Ann Lee", Slug: "ann"}, {Name: "Bob Roe", Slug: "bob"}},
		}))
	}
	return out
}

// BenchmarkRenderDigest composes one personalised 10-article digest:
// "cached" is the common case (the article set's HTML was inlined once per
// edition), "inline" runs the CSS inliner every time (every reader with a
// distinct article set).
func BenchmarkRenderDigest(b *testing.B) {
	s, _ := benchService(b)
	d := s.cfg.Digests[0]
	arts := benchArticles(10)
	e := model.Edition{ID: 1, Cutoff: time.Now()}
	b.Run("cached", func(b *testing.B) {
		r := newRenderer(s.cfg, d, s.tmpl, e.Cutoff)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			del := model.Delivery{SubscriberID: int64(i), SubscriptionID: int64(i), Email: model.Address(fmt.Sprintf("r%d@example.com", i)), Name: "Reader"}
			if _, err := s.compose(d, r, e, del, arts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("inline", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			r := newRenderer(s.cfg, d, s.tmpl, e.Cutoff)
			del := model.Delivery{SubscriberID: int64(i), SubscriptionID: int64(i), Email: model.Address(fmt.Sprintf("r%d@example.com", i)), Name: "Reader"}
			if _, err := s.compose(d, r, e, del, arts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// seedSubscribers bulk-inserts n active subscribers of daily, a third
// following a section, a third an author, a third everything.
func seedSubscribers(b *testing.B, st *store.Store, n int) {
	b.Helper()
	err := st.Tx(context.Background(), func(tx *sql.Tx) error {
		for i := 1; i <= n; i++ {
			if _, err := tx.Exec(`INSERT INTO subscribers (id, email, name, status, created_at, updated_at) VALUES (?, ?, '', 'active', 0, 0)`,
				i, fmt.Sprintf("r%d@example.com", i)); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO subscriptions (id, subscriber_id, digest, status, created_at, updated_at) VALUES (?, ?, 'daily', 'active', 0, 0)`, i, i); err != nil {
				return err
			}
			switch i % 3 {
			case 1:
				_, err := tx.Exec(`INSERT INTO subscription_follows VALUES (?, 'section', 'sport')`, i)
				if err != nil {
					return err
				}
			case 2:
				if _, err := tx.Exec(`INSERT INTO subscription_follows VALUES (?, 'author', 'ann')`, i); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// peakHeap samples the heap while fn runs and returns the peak in use above
// what was in use before.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > base && m.HeapInuse-base > peak.Load() {
				peak.Store(m.HeapInuse - base)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// BenchmarkPlan100k plans an edition for 100,000 subscribers (deliveries
// written page by page) and reports the peak heap it needed.
func BenchmarkPlan100k(b *testing.B) {
	const n = 100_000
	s, st := benchService(b)
	seedSubscribers(b, st, n)
	d := s.cfg.Digests[0]
	arts := benchArticles(30)
	var peak uint64
	for b.Loop() {
		e, _, err := st.CreateEdition(context.Background(), model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: time.Now(), Since: time.Now().Add(-time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		var perr error
		p := peakHeap(func() { perr = s.plan(context.Background(), d, e, arts, nil, nil) })
		if perr != nil {
			b.Fatal(perr)
		}
		peak = max(peak, p)
		counts, _ := st.EditionCounts(context.Background(), e.ID)
		if counts[model.DeliveryPending] != n {
			b.Fatalf("planned %v", counts)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "subscribers/s")
}
