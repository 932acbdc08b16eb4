package mailer_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
)

// BenchmarkSend measures end-to-end messages per second to the in-process
// SMTP server with 1, 4 and 16 connections (one worker goroutine each).
// The server runs in the same process, so CPU time and allocations include
// its side of the conversation, and on loopback the run is CPU bound.
//
//	go test -run '^$' -bench 'Send' -benchmem ./internal/mailer/
func BenchmarkSend(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) { benchSend(b, n, 0) })
	}
}

// BenchmarkSendLatency is BenchmarkSend with every server reply delayed by
// 1 ms, as on a network: time per message is then mostly round trips, and
// connections add up (compare BenchmarkSendGoMailDefault/latency=1ms).
func BenchmarkSendLatency(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) { benchSend(b, n, time.Millisecond) })
	}
}

func benchSend(b *testing.B, n int, latency time.Duration) {
	srv := smtptest.Start(b, smtptest.Options{DiscardData: true, Latency: latency})
	m := newMailer(b, smtpConfig(srv, n))
	msg := testMessage(1)
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if res, err := sendCtx(ctx, m, msg); err != nil || res.Outcome != model.Accepted {
					b.Errorf("%+v", res)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkWriteMessage measures composition alone.
func BenchmarkWriteMessage(b *testing.B) {
	msg := testMessage(1)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := mailer.WriteMessage(&buf, msg); err != nil {
			b.Fatal(err)
		}
	}
}
