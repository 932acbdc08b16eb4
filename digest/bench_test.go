package digest_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/smtptest"
)

// BenchmarkEndToEnd plans, renders and sends an edition to 4,000
// subscribers through the real mailer to the in-process SMTP server, with
// 1, 4 and 16 connections, and reports messages per second.
func BenchmarkEndToEnd(b *testing.B) {
	const n = 4000
	for _, conns := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			var sent int
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				srv := smtptest.Start(b, smtptest.Options{})
				cfg := testConfig(b)
				smtpConfig(cfg, srv, conns)
				m, err := mailer.New(cfg.SMTP)
				if err != nil {
					b.Fatal(err)
				}
				e := newEnv(b, m, func(o *digest.Options) {
					o.Config.SMTP = cfg.SMTP
					o.PageSize = 0            // default
					o.MarkInterval = 0        // default
					o.Sleep, o.Now = nil, nil // real time
				})
				e.clock.Set(time.Now()) // articles relative to the real clock
				for j := range 10 {
					e.article(fmt.Sprintf("a%d", j), fmt.Sprintf("Headline %d", j), []string{"world", "sport"}[j%2], time.Duration(j+1)*time.Minute, "ann")
				}
				bulkSubscribers(b, e, n)
				b.StartTimer()
				start := time.Now()
				res, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{Since: 24 * time.Hour})
				elapsed += time.Since(start)
				b.StopTimer()
				if err != nil || res.Sent != n {
					b.Fatalf("%+v %v", res, err)
				}
				sent += res.Sent
				m.Close()
				srv.Close()
			}
			b.ReportMetric(float64(sent)/elapsed.Seconds(), "msgs/s")
		})
	}
}

func bulkSubscribers(b *testing.B, e *env, n int) {
	b.Helper()
	err := e.store.Tx(context.Background(), func(tx *sql.Tx) error {
		for i := 1; i <= n; i++ {
			if _, err := tx.Exec(`INSERT INTO subscribers (id, email, name, status, created_at, updated_at) VALUES (?, ?, ?, 'active', 0, 0)`,
				i, fmt.Sprintf("r%d@example.com", i), fmt.Sprintf("Reader %d", i)); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO subscriptions (id, subscriber_id, digest, status, created_at, updated_at) VALUES (?, ?, 'daily', 'active', 0, 0)`, i, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOutboxNoopSender is BenchmarkEndToEnd with a sender that
// accepts at once: the digest side alone (planning, rendering, marks).
func BenchmarkOutboxNoopSender(b *testing.B) {
	const n = 4000
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b, nil, func(o *digest.Options) { o.PageSize, o.MarkInterval, o.Sleep, o.Now = 0, 0, nil, nil })
		e.fake.workers = 4
		e.clock.Set(time.Now())
		for j := range 10 {
			e.article(fmt.Sprintf("a%d", j), fmt.Sprintf("Headline %d", j), "world", time.Duration(j+1)*time.Minute, "ann")
		}
		bulkSubscribers(b, e, n)
		b.StartTimer()
		start := time.Now()
		res, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{Since: 24 * time.Hour})
		elapsed += time.Since(start)
		b.StopTimer()
		if err != nil || res.Sent != n {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "msgs/s")
}
