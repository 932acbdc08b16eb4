package digest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

// benchZones are the zones BenchmarkPlanLocal spreads readers over.
var benchZones = func() []string {
	zs := []string{"", "Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "America/Sao_Paulo",
		"Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles"}
	for h := 1; len(zs) < 40; h++ {
		zs = append(zs, fmt.Sprintf("Etc/GMT%+d", (h%24)-12))
	}
	return zs
}()

// BenchmarkPlanLocal plans 100,000 readers of one digest: "digest" is one
// edition for all (delivery: digest), "local" one edition per zone group
// over 40 zones (delivery: local: a query per zone, each reader's cursor
// read and moved). Both load their candidates from the store; the ratio
// of subscribers/s is the cost of local delivery's planning.
func BenchmarkPlanLocal(b *testing.B) {
	const n = 100_000
	for _, mode := range []string{config.DeliveryDigest, config.DeliveryLocal} {
		b.Run(mode, func(b *testing.B) {
			s, st := benchLocalService(b, mode)
			seedSubscribers(b, st, n)
			if _, err := st.W.Exec(`UPDATE subscribers SET timezone = CASE id % 40 ` + zoneCases() + ` END`); err != nil {
				b.Fatal(err)
			}
			d := s.cfg.Digests[0]
			ctx := context.Background()
			cutoff := time.Now().Truncate(time.Second)
			var peak uint64
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				if _, err := st.W.Exec(`DELETE FROM reader_cursors; DELETE FROM deliveries; DELETE FROM editions`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				var perr error
				p := peakHeap(func() {
					if mode == config.DeliveryDigest {
						e, _, err := st.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionScheduled, Slot: fmt.Sprint(i), Cutoff: cutoff, Since: cutoff.Add(-24 * time.Hour)})
						if err != nil {
							perr = err
							return
						}
						cands, err := s.candidates(ctx, d, e)
						if err != nil {
							perr = err
							return
						}
						perr = s.plan(ctx, d, e, cands, nil, nil)
						return
					}
					for _, z := range benchZones[1:] {
						e, _, err := st.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionScheduled, Slot: fmt.Sprint(i, z), Zone: z, Cutoff: cutoff, Since: cutoff.Add(-24 * time.Hour)})
						if err != nil {
							perr = err
							return
						}
						if _, perr = s.planLocal(ctx, d, e, newArticleCache(st, s.clean), nil, nil); perr != nil {
							return
						}
					}
				})
				if perr != nil {
					b.Fatal(perr)
				}
				peak = max(peak, p)
				var planned int
				if err := st.W.QueryRow(`SELECT count(*) FROM deliveries WHERE status = 'pending'`).Scan(&planned); err != nil || planned != n {
					b.Fatalf("planned %d of %d: %v", planned, n, err)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "subscribers/s")
		})
	}
}

// zoneCases maps id % 40 to a zone of benchZones ("" and UTC's readers
// join the digest's own group, UTC).
func zoneCases() string {
	out := ""
	for i, z := range benchZones {
		out += fmt.Sprintf("WHEN %d THEN '%s' ", i, z)
	}
	return out
}

func benchLocalService(b *testing.B, mode string) (*Service, *store.Store) {
	b.Helper()
	cfg, err := config.Parse(fmt.Appendf(nil, `
site: { name: "The Herald", url: "https://news.example.com", postal_address: "1 Fleet Street" }
secret: "bench-secret-of-at-least-thirty-two-bytes"
digests: [ { name: daily, schedule: "0 7 * * *", timezone: Europe/London, max_articles: 10, delivery: %s } ]
`, mode))
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), b.TempDir()+"/h.db", store.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s, err := New(Options{Config: cfg, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st, Leases: st, Local: st, Log: quiet})
	if err != nil {
		b.Fatal(err)
	}
	err = st.WriteContent(context.Background(), func(w *store.ContentWriter) error {
		ids := map[string]int64{}
		for _, sec := range []string{"world", "sport", "business"} {
			id, err := w.Section(model.Section{Slug: sec, Name: sec})
			if err != nil {
				return err
			}
			ids[sec] = id
		}
		ann, err := w.Author(model.Author{Slug: "ann", Name: "Ann Lee"})
		if err != nil {
			return err
		}
		for i := range 30 {
			sec := []string{"world", "sport", "business"}[i%3]
			if _, err := w.Article(model.Article{GUID: fmt.Sprint("g", i), URL: fmt.Sprint("/a/", i), Title: fmt.Sprint("Article ", i),
				Section: model.Section{ID: ids[sec]}, PublishedAt: time.Now().Add(-time.Duration(i+1) * 30 * time.Minute),
				Authors: []model.Author{{ID: ann}}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, st
}
