package mailer_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
)

var fixedDate = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// testMessage is a digest-like message for subscriber i.
func testMessage(i int) *model.Message {
	return &model.Message{
		MessageID: fmt.Sprintf("<e42.s%d@news.example.com>", i),
		Date:      fixedDate,
		From:      "Example News <digest@news.example.com>",
		ToAddr:    model.Address(fmt.Sprintf("reader%d@example.org", i)),
		ToName:    "Zoë Reader",
		Subject:   "Your daily digest: Café prices rise",
		Text:      "Good morning.\n\nCafé prices rise\nhttps://news.example.com/a/1\n",
		HTML:      "<html><body><h1>Example News</h1><p><a href=\"https://news.example.com/a/1\">Café prices rise</a></p></body></html>",
		Headers: []model.Header{
			{Name: "List-Id", Value: "Example News daily <daily.news.example.com>"},
			{Name: "List-Unsubscribe", Value: "<https://news.example.com/unsubscribe?token=abc.def>, <mailto:unsubscribe@news.example.com?subject=unsubscribe>"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
			{Name: "Precedence", Value: "bulk"},
		},
	}
}

// smtpConfig points at srv with plain SMTP and n connections.
func smtpConfig(srv *smtptest.Server, n int) config.SMTP {
	return config.SMTP{
		Transport: "smtp", Host: srv.Host(), Port: srv.Port(), TLS: "none",
		From: "Example News <digest@news.example.com>", MaxConnections: n,
		MaxAttempts: 5, Timeout: config.Duration(5 * time.Second),
	}
}

func newMailer(tb testing.TB, cfg config.SMTP, opts ...mailer.Option) *mailer.Mailer {
	tb.Helper()
	quiet := mailer.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	m, err := mailer.New(cfg, append([]mailer.Option{quiet}, opts...)...)
	if err != nil {
		tb.Fatalf("mailer.New: %v", err)
	}
	tb.Cleanup(func() { _ = m.Close() })
	return m
}

// parsed is a message read back with net/mail and mime/multipart.
type parsed struct {
	Header      mail.Header
	Names       []string // header field names in order
	Text, HTML  string
	ContentType string
}

// parseMessage reads raw strictly enough for tests: every header line is
// "Name: value" or a continuation, the body is multipart/alternative with
// text/plain then text/html (or a single text part).
func parseMessage(tb testing.TB, raw []byte) parsed {
	tb.Helper()
	var p parsed
	head, _, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		tb.Fatalf("no header/body separator in:\n%s", raw)
	}
	for _, line := range strings.Split(string(head), "\r\n") {
		if line == "" {
			tb.Fatalf("empty header line in:\n%s", head)
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			tb.Fatalf("malformed header line %q", line)
		}
		p.Names = append(p.Names, name)
	}
	if bytes.ContainsAny(head, "\x00") || bytes.Contains(bytes.ReplaceAll(head, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(head, []byte("\r\n"), nil), []byte("\r")) {
		tb.Fatalf("bare CR, LF or NUL in header:\n%q", head)
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("net/mail: %v", err)
	}
	p.Header = m.Header
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		tb.Fatalf("Content-Type: %v", err)
	}
	p.ContentType = mt
	if mt != "multipart/alternative" {
		b, _ := io.ReadAll(m.Body)
		p.Text = string(b)
		return p
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for i := 0; ; i++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			if i != 2 {
				tb.Fatalf("multipart/alternative has %d parts, want 2", i)
			}
			break
		}
		if err != nil {
			tb.Fatalf("multipart: %v", err)
		}
		b, err := io.ReadAll(part) // NextPart decodes quoted-printable
		if err != nil {
			tb.Fatalf("part %d: %v", i, err)
		}
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if cp["charset"] != "UTF-8" {
			tb.Errorf("part %d charset %q", i, cp["charset"])
		}
		switch {
		case i == 0 && ct == "text/plain":
			p.Text = string(b)
		case i == 1 && ct == "text/html":
			p.HTML = string(b)
		default:
			tb.Fatalf("part %d is %s", i, ct)
		}
	}
	return p
}

// decode decodes an RFC 2047 header value.
func decode(tb testing.TB, s string) string {
	tb.Helper()
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		tb.Fatalf("decode %q: %v", s, err)
	}
	return d
}

// send hands msg to m and waits for its result.
func send(tb testing.TB, m *mailer.Mailer, msg *model.Message) model.SendResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := sendCtx(ctx, m, msg)
	if err != nil {
		tb.Fatalf("send: %v", err)
	}
	return res
}

// sendCtx hands msg to m and waits for its result; the error is Send's
// (the message was never handed over).
func sendCtx(ctx context.Context, m *mailer.Mailer, msg *model.Message) (model.SendResult, error) {
	ch := make(chan model.SendResult, 1)
	if err := m.Send(ctx, msg, func(r model.SendResult) { ch <- r }); err != nil {
		return model.SendResult{}, err
	}
	return <-ch, nil
}
