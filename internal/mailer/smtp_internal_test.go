package mailer

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
)

// TestIdleConnectionChecked: a connection idle for idleCheck gets a NOOP
// first; one the server (or a NAT) dropped meanwhile is redialled instead
// of failing the message.
func TestIdleConnectionChecked(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m, err := New(config.SMTP{Transport: "smtp", Host: srv.Host(), Port: srv.Port(), TLS: "none",
		From: "News <digest@news.example.com>", MaxConnections: 1, Timeout: config.Duration(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	msg := &model.Message{MessageID: "<a.1@news.example.com>", ToAddr: "r@example.org", Subject: "s", Text: "t", HTML: "<p>h</p>"}
	sendOK := func() {
		t.Helper()
		ch := make(chan model.SendResult, 1)
		if err := m.Send(context.Background(), msg, func(r model.SendResult) { ch <- r }); err != nil {
			t.Fatal(err)
		}
		if res := <-ch; res.Outcome != model.Accepted {
			t.Fatalf("%+v", res)
		}
	}
	sendOK()
	s := m.relays[0].conns[0].tr.(*smtpConn)

	s.lastUsed = time.Now().Add(-idleCheck) // idle, still alive: NOOP, reused
	sendOK()
	if srv.Connections() != 1 {
		t.Fatalf("connections = %d, want the live one reused", srv.Connections())
	}

	s.lastUsed = time.Now().Add(-idleCheck) // idle and dead: NOOP fails, redial
	_ = s.tc.Conn.Close()
	sendOK()
	if srv.Connections() != 2 {
		t.Fatalf("connections = %d, want a redial", srv.Connections())
	}
}

// The envelope is pipelined exactly when the server offers PIPELINING.
func TestPipeliningFollowsTheServer(t *testing.T) {
	for _, off := range []bool{false, true} {
		srv := smtptest.Start(t, smtptest.Options{NoPipelining: off})
		m, err := New(config.SMTP{Transport: "smtp", Host: srv.Host(), Port: srv.Port(), TLS: "none",
			From: "News <digest@news.example.com>", MaxConnections: 1, Timeout: config.Duration(5 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		ch := make(chan model.SendResult, 1)
		msg := &model.Message{MessageID: "<a.1@news.example.com>", ToAddr: "r@example.org", Subject: "s", Text: "t", HTML: "<p>h</p>"}
		if err := m.Send(context.Background(), msg, func(r model.SendResult) { ch <- r }); err != nil {
			t.Fatal(err)
		}
		if res := <-ch; res.Outcome != model.Accepted {
			t.Fatalf("%+v", res)
		}
		if got := m.relays[0].conns[0].tr.(*smtpConn).pipelining; got == off {
			t.Errorf("server without PIPELINING %v: pipelining %v", off, got)
		}
		m.Close()
	}
}

// TestOneLine: a reply comes back on one line, words single-spaced, at
// most 500 bytes; one that is that already comes back as it is, without
// a copy.
func TestOneLine(t *testing.T) {
	slow := func(s string) string {
		s = strings.Join(strings.Fields(s), " ")
		if len(s) > 500 {
			s = strings.ToValidUTF8(s[:500], "")
		}
		return s
	}
	cases := []string{"", " ", "250 2.0.0 Ok: queued as 4XYZ", " 250 ok", "250 ok ", "250  ok", "250\tok",
		"250 ok\r\n", "250 \u00a0ok", "250 caf\u00e9", "250 \x00 ok", "250 \x7f", strings.Repeat("a ", 250) + "b",
		strings.Repeat("x", 500), strings.Repeat("x", 501), strings.Repeat("\u00e9", 300)}
	r := rand.New(rand.NewPCG(3, 4))
	const alphabet = "ab 2\t\r\n.\x00\xc3\xa9\x85"
	for range 20000 {
		cases = append(cases, randomString(r, alphabet, 16))
	}
	for _, s := range cases {
		if got, want := oneLine(s), slow(s); got != want {
			t.Fatalf("oneLine(%q) = %q, want %q", s, got, want)
		}
	}
	s := "250 2.0.0 Ok: queued as 4XYZ"
	if n := testing.AllocsPerRun(100, func() { _ = oneLine(s) }); n != 0 {
		t.Errorf("oneLine of a plain reply: %.0f allocations, want 0", n)
	}
}

// TestLongestWord: the longest of strings.Fields, counted without them.
func TestLongestWord(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const alphabet = "ab \t\n\u00a0\u2003\u00e9x\x85"
	for range 20000 {
		s, want := randomString(r, alphabet, 24), 0
		for _, w := range strings.Fields(s) {
			want = max(want, len(w))
		}
		if got := longestWord(s); got != want {
			t.Fatalf("longestWord(%q) = %d, want %d", s, got, want)
		}
	}
}

// randomString returns up to maxLen-1 bytes drawn from alphabet's bytes
// (so multi-byte characters come whole or broken).
func randomString(r *rand.Rand, alphabet string, maxLen int) string {
	b := make([]byte, r.IntN(maxLen))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}
