package mailer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	mathrand "math/rand/v2"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
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

// BenchmarkAssemble is one digest message put together per op: a
// digest-like shared template (cached encoding) with a reader's values,
// against go-mail composing the same message from its filled parts.
func BenchmarkAssemble(b *testing.B) {
	rng := mathrand.New(mathrand.NewPCG(1, 1))
	text, html := digestLike(false), digestLike(true)
	msg := genMessage(rng, 1, []*model.Template{text})
	msg.ToName, msg.Subject = "Zoë Reader", "The Herald: Daily briefing for Thursday 26 November 2026"
	msg.Headers[0].Value = "Daily briefing <daily.news.example.com>"
	msg.Body = &model.Body{Text: text, HTML: html,
		TextValues: []string{"Zoë Reader", "reader@example.org", "tok.en", "tok.en2"},
		HTMLValues: []string{"Zo&euml; Reader", "reader@example.org", "tok.en", "tok.en2"}}
	msg.Text, msg.HTML = text.Fill(msg.Body.TextValues), html.Fill(msg.Body.HTMLValues)
	o := composeOptions{now: time.Now}
	b.Run("assembled", func(b *testing.B) {
		lines := newLineCache(1 << 20)
		o := o
		o.addrs = &addrCache{}
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if _, err := assemble(&buf, nil, msg, o, lines); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
	b.Run("go-mail", func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := render(&buf, msg, o); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
}

// digestLike is a part shaped like herald's default digest: a head and
// masthead, 15 articles of six lines, and a footer whose three lines hold
// the reader's name, address and two tokens, cut at line ends.
func digestLike(html bool) *model.Template {
	t := &model.Template{}
	lit := func(s string) { t.Pieces = append(t.Pieces, model.Piece{Text: s}) }
	style := ""
	if html {
		style = ` style="margin:0 0 6px 0;font-family:Helvetica, Arial, sans-serif;font-size:13px;color:#5c5a55"`
	}
	for i := range 25 {
		lit(fmt.Sprintf("<div class=\"head%d\"%s>The Herald &middot; Daily briefing &middot; Thursday 26 November 2026</div>\n", i, style))
	}
	lit("<div class=\"greeting\"" + style + ">Good day, ")
	t.Pieces = append(t.Pieces, model.Piece{Slot: 1})
	lit(". Here is what is new.</div>\n")
	for i := range 15 {
		lit(fmt.Sprintf("<h3 class=\"title\"%s><a href=\"https://news.example.com/world/2026/11/26/article-%d\">Putin accepts Kim Jong-un’s invitation to visit North Korea</a></h3>\n", style, i))
		lit("<p class=\"byline\"" + style + ">By Ann Lee and Bob Roe</p>\n")
		lit("<div class=\"summary\"" + style + "><p>A summary of a couple of sentences, as editors write them. It says what happened, and where, and why it matters to readers.</p></div>\n")
		lit(fmt.Sprintf("<a class=\"more\" href=\"https://news.example.com/world/2026/11/26/article-%d\"%s>Read more &rarr;</a>\n", i, style))
		lit("</div>\n")
		lit("<div class=\"article\"" + style + ">\n")
	}
	lit("<p>You receive Daily briefing from The Herald because ")
	t.Pieces = append(t.Pieces, model.Piece{Slot: 2})
	lit(" subscribed to it.</p>\n")
	lit("<p><a href=\"https://news.example.com/preferences?token=")
	t.Pieces = append(t.Pieces, model.Piece{Slot: 4})
	lit("\"" + style + ">Manage your preferences</a> &middot; <a href=\"https://news.example.com/unsubscribe?token=")
	t.Pieces = append(t.Pieces, model.Piece{Slot: 3})
	lit("\"" + style + ">Unsubscribe</a></p>\n")
	lit("<p class=\"address\">1 Fleet Street, London EC4Y 1AA</p>\n</div>\n</body>\n</html>\n")
	return t
}

// BenchmarkDKIMSign is the signature of one digest-sized message (Ed25519)
// per op, as herald signs (go-mail, c=simple/relaxed) and with the two
// alternatives behind the open decision in docs/benchmarks.md: go-mail
// with simple body canonicalization, and go-msgauth's signer with
// herald's canonicalizations.
func BenchmarkDKIMSign(b *testing.B) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := genMessage(mathrand.New(mathrand.NewPCG(1, 1)), 1, []*model.Template{digestLike(false)})
	msg.Body = &model.Body{Text: digestLike(false), HTML: digestLike(true),
		TextValues: []string{"Zoë Reader", "reader@example.org", "tok.en", "tok.en2"},
		HTMLValues: []string{"Zo&euml; Reader", "reader@example.org", "tok.en", "tok.en2"}}
	var buf bytes.Buffer
	if _, err := assemble(&buf, nil, msg, composeOptions{now: time.Now, addrs: &addrCache{}}, newLineCache(1<<20)); err != nil {
		b.Fatal(err)
	}
	raw := buf.Bytes()
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	headers, body := raw[:i+2], raw[i+4:]
	d := &dkimSettings{domain: "news.example.com", selector: "s", key: key}
	for _, c := range []struct {
		name string
		body mail.Canonicalization
	}{{"go-mail-relaxed-body", mail.CanonicalizationRelaxed}, {"go-mail-simple-body", mail.CanonicalizationSimple}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				s := d.signer(msg.Headers, time.Now)
				s.BodyCanonicalization(c.body)
				if _, err := s.Sign(headers, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("go-msgauth-relaxed-body", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			s, err := dkim.NewSigner(&dkim.SignOptions{Domain: "news.example.com", Selector: "s", Signer: key,
				HeaderCanonicalization: dkim.CanonicalizationSimple, BodyCanonicalization: dkim.CanonicalizationRelaxed,
				HeaderKeys: dkimBase})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Write(raw); err != nil {
				b.Fatal(err)
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
