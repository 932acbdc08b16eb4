package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// BenchmarkRecordDeliveries is the cost of marking one delivery sent (its
// row updated, its ten articles recorded as received) when the outbox
// commits marks in batches of the given size: the trade between speed and
// the crash window (docs/benchmarks.md, "Delivery marks"). One op is one
// delivery.
func BenchmarkRecordDeliveries(b *testing.B) {
	for _, batch := range []int{1, 8, 32, 128, 512} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ctx := context.Background()
			s, _ := MustOpen(b)
			n := b.N
			seedReaders(b, s, n)
			ed, _, err := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: fixedNow, Since: fixedNow.Add(-time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
			arts := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
			plan := make([]model.Delivery, 0, 1000)
			for i := 1; i <= n; i++ {
				// Planned with its Message-ID, as the planner does: a page's
				// ids share a prefix and are random after it.
				mid := fmt.Sprintf("<1.p%d.%016x@x>", i/cap(plan), rand.Uint64())
				plan = append(plan, model.Delivery{SubscriberID: int64(i), SubscriptionID: int64(i), Status: model.DeliveryPending, ArticleIDs: arts, MessageID: mid})
				if len(plan) == cap(plan) || i == n {
					if err := s.InsertDeliveries(ctx, ed.ID, plan, int64(i)); err != nil {
						b.Fatal(err)
					}
					plan = plan[:0]
				}
			}
			var due []model.Delivery
			for after := int64(0); ; {
				page, err := s.DueDeliveries(ctx, ed.ID, fixedNow, after, 5000)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				due = append(due, page...)
				after = page[len(page)-1].ID
			}
			if len(due) != n {
				b.Fatalf("%d due, want %d", len(due), n)
			}
			b.ResetTimer()
			for start := 0; start < n; start += batch {
				ds := due[start:min(start+batch, n)]
				for i := range ds {
					ds[i].Status, ds[i].Attempts, ds[i].SentAt, ds[i].LastReply = model.DeliverySent, 1, fixedNow, "250 2.0.0 Ok"
				}
				if err := s.RecordDeliveries(ctx, ds, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// seedReaders inserts n active subscribers r1@example.com… with ids 1…n,
// each with subscription id i to daily, in one transaction.
func seedReaders(tb testing.TB, s *Store, n int) {
	tb.Helper()
	err := s.Tx(context.Background(), func(tx *sql.Tx) error {
		for i := 1; i <= n; i++ {
			if _, err := tx.Exec(`INSERT INTO subscribers (id, email, name, status, created_at, updated_at) VALUES (?, ?, '', 'active', 0, 0)`,
				i, fmt.Sprintf("r%d@example.com", i)); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO subscriptions (id, subscriber_id, digest, status, created_at, updated_at) VALUES (?, ?, 'daily', 'active', 0, 0)`, i, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}
