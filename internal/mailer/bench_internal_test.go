package mailer

import (
	"context"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
)

// BenchmarkSendGoMailDefault is the baseline behind smtp.go's choice: the
// same message through go-mail's own Client.Send on one connection, which
// adds NOOP before and RSET after every message. Compare with
// BenchmarkSend/conns=1.
func BenchmarkSendGoMailDefault(b *testing.B) {
	b.Run("latency=0", func(b *testing.B) { benchGoMailDefault(b, 0) })
	b.Run("latency=1ms", func(b *testing.B) { benchGoMailDefault(b, time.Millisecond) })
}

func benchGoMailDefault(b *testing.B, latency time.Duration) {
	srv := smtptest.Start(b, smtptest.Options{DiscardData: true, Latency: latency})
	c, err := mail.NewClient(srv.Host(), mail.WithPort(srv.Port()), mail.WithTLSPolicy(mail.NoTLS),
		mail.WithTimeout(5*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.DialWithContext(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	// The same message as testMessage(1) in helpers_test.go.
	msg := &model.Message{
		MessageID: "<e42.s1@news.example.com>", Date: time.Now(),
		From: "Example News <digest@news.example.com>", ToAddr: "reader1@example.org", ToName: "Zoë Reader",
		Subject: "Your daily digest: Café prices rise",
		Text:    "Good morning.\n\nCafé prices rise\nhttps://news.example.com/a/1\n",
		HTML:    "<html><body><h1>Example News</h1><p><a href=\"https://news.example.com/a/1\">Café prices rise</a></p></body></html>",
		Headers: []model.Header{
			{Name: "List-Id", Value: "Example News daily <daily.news.example.com>"},
			{Name: "List-Unsubscribe", Value: "<https://news.example.com/unsubscribe?token=abc.def>, <mailto:unsubscribe@news.example.com?subject=unsubscribe>"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
			{Name: "Precedence", Value: "bulk"},
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := compose(msg, composeOptions{now: time.Now})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Send(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
