package mailer_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
)

// scripted is a hand-written SMTP server on 127.0.0.1 that sees what a
// general server hides: whether the next message's MAIL FROM arrived
// before it answered a final dot (RFC 2920 pipelining behind the data).
// Transactions are numbered from 1 across connections; rcpt, dot and
// hangUp script the replies to each.
type scripted struct {
	ln        net.Listener
	slowFirst time.Duration      // before answering the first MAIL FROM
	rcpt      func(n int) string // RCPT TO's reply (default 250)
	dot       func(n int) string // the final dot's reply (default 250)
	hangUp    func(n int) bool   // close the connection after answering n's dot
	last      int                // the transaction after which nothing follows

	mu       sync.Mutex
	n        int
	ahead    map[int]bool // n: the next MAIL FROM came before n's dot was answered
	accepted []string     // the Message-ID of each message answered 250
}

func startScripted(t *testing.T, s *scripted) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.ahead = ln, map[int]bool{}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

func (s *scripted) config(conns int) config.SMTP {
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	p, _ := strconv.Atoi(port)
	return config.SMTP{Transport: "smtp", Host: host, Port: p, TLS: "none",
		From: "Example News <digest@news.example.com>", MaxConnections: conns,
		MaxAttempts: 5, Timeout: config.Duration(5 * time.Second)}
}

func (s *scripted) serve(c net.Conn) {
	defer func() { _ = c.Close() }()
	br := bufio.NewReader(c)
	reply := func(r string) bool { _, err := c.Write([]byte(r + "\r\n")); return err == nil }
	if !reply("220 scripted ESMTP") {
		return
	}
	n, rcptOK := 0, false
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimRight(line, "\r\n"))
		var r string
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			r = "250-scripted\r\n250-PIPELINING\r\n250 8BITMIME"
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			s.mu.Lock()
			s.n++
			n = s.n
			s.mu.Unlock()
			if n == 1 {
				time.Sleep(s.slowFirst)
			}
			r, rcptOK = "250 2.1.0 ok", false
		case strings.HasPrefix(cmd, "RCPT TO:"):
			r = "250 2.1.5 ok"
			if s.rcpt != nil && s.rcpt(n) != "" {
				r = s.rcpt(n)
			}
			rcptOK = r[0] == '2'
		case cmd == "DATA":
			if !rcptOK {
				r = "554 5.5.1 no valid recipients"
				break
			}
			if !reply("354 go on") {
				return
			}
			id, ok := readData(br)
			if !ok {
				return
			}
			r = "250 2.0.0 queued"
			if s.dot != nil && s.dot(n) != "" {
				r = s.dot(n)
			}
			// Whether the next envelope is already here, before the
			// reply it would otherwise wait for.
			ahead := br.Buffered() > 0
			if !ahead && n != s.last {
				_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				_, err := br.Peek(1)
				ahead = err == nil
			}
			s.mu.Lock()
			s.ahead[n] = ahead
			if r[0] == '2' {
				s.accepted = append(s.accepted, id)
			}
			s.mu.Unlock()
			if !reply(r) || s.hangUp != nil && s.hangUp(n) {
				return
			}
			continue
		case cmd == "QUIT":
			reply("221 bye")
			return
		default: // RSET, NOOP
			r = "250 ok"
		}
		if !reply(r) {
			return
		}
	}
}

// readData reads a message up to its final dot and returns its Message-ID.
func readData(br *bufio.Reader) (id string, ok bool) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", false
		}
		if line == ".\r\n" {
			return id, true
		}
		if v, found := strings.CutPrefix(line, "Message-ID: "); found && id == "" {
			id = strings.TrimSpace(v)
		}
	}
}

// sendAll hands msgs to m one after another, as the outbox does, and
// returns their results in order. Recording the first takes 100 ms, on
// the connection's goroutine, while the second waits behind it (its
// envelope went out behind the first's dot) and the third is handed over:
// its envelope can go out behind the second's dot.
func sendAll(t *testing.T, m *mailer.Mailer, msgs ...*model.Message) []model.SendResult {
	t.Helper()
	chans := make([]chan model.SendResult, len(msgs))
	for i, msg := range msgs {
		chans[i] = make(chan model.SendResult, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := m.Send(ctx, msg, func(r model.SendResult) {
			if i == 0 {
				time.Sleep(100 * time.Millisecond)
			}
			chans[i] <- r
		})
		cancel()
		if err != nil {
			t.Fatalf("Send %d: %v", i+1, err)
		}
	}
	out := make([]model.SendResult, len(msgs))
	for i, ch := range chans {
		select {
		case out[i] = <-ch:
		case <-time.After(20 * time.Second):
			t.Fatalf("no result for message %d", i+1)
		}
	}
	return out
}

// A connection writes the next message's envelope behind the final dot
// (one round trip a message), and every message still arrives once.
func TestEnvelopeBehindTheDot(t *testing.T) {
	srv := startScripted(t, &scripted{last: 3})
	m := newMailer(t, srv.config(1))
	res := sendAll(t, m, testMessage(1), testMessage(2), testMessage(3))
	for i, r := range res {
		if r.Outcome != model.Accepted {
			t.Fatalf("message %d: %+v", i+1, r)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	want := []string{"<e42.s1@news.example.com>", "<e42.s2@news.example.com>", "<e42.s3@news.example.com>"}
	if strings.Join(srv.accepted, " ") != strings.Join(want, " ") {
		t.Fatalf("server accepted %q, want %q", srv.accepted, want)
	}
	// Message 3 was handed over while message 1 was being recorded:
	// its envelope must have come behind message 2's dot.
	if !srv.ahead[2] {
		t.Fatalf("message 3's MAIL FROM did not come before message 2's dot was answered: %v", srv.ahead)
	}
}

// The replies that follow a pipelined envelope belong to the next
// message whatever the dot's own reply was: a refused message, a refused
// next recipient and a connection closed after the dot each stay with
// their own message, and nothing is sent twice or lost.
func TestEnvelopeBehindTheDotFailures(t *testing.T) {
	type script struct {
		rcpt, dot func(n int) string
		hangUp    func(n int) bool
	}
	for _, tc := range []struct {
		name string
		s    script
		want []model.SendOutcome
		// accepted: the messages the server took, by number.
		accepted []int
	}{
		{"dot refused", script{dot: func(n int) string {
			if n == 2 {
				return "550 5.6.0 content refused"
			}
			return ""
		}}, []model.SendOutcome{model.Accepted, model.Permanent, model.Accepted}, []int{1, 3}},
		{"next recipient refused", script{rcpt: func(n int) string {
			if n == 3 {
				return "550 5.1.1 no such user"
			}
			return ""
		}}, []model.SendOutcome{model.Accepted, model.Accepted, model.Permanent}, []int{1, 2}},
		{"dot temporary", script{dot: func(n int) string {
			if n == 2 {
				return "451 4.3.0 try later"
			}
			return ""
		}}, []model.SendOutcome{model.Accepted, model.Temporary, model.Accepted}, []int{1, 3}},
		{"hung up after the dot", script{hangUp: func(n int) bool { return n == 2 }},
			[]model.SendOutcome{model.Accepted, model.Accepted, model.Accepted}, []int{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startScripted(t, &scripted{last: 3,
				rcpt: tc.s.rcpt, dot: tc.s.dot, hangUp: tc.s.hangUp})
			m := newMailer(t, srv.config(1))
			res := sendAll(t, m, testMessage(1), testMessage(2), testMessage(3))
			for i, r := range res {
				if r.Outcome != tc.want[i] {
					t.Errorf("message %d: %v (%s), want %v", i+1, r.Outcome, r.Reply, tc.want[i])
				}
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			var want []string
			for _, i := range tc.accepted {
				want = append(want, testMessage(i).MessageID)
			}
			// A message retried after a hang-up may come after the next.
			got := slices.Sorted(slices.Values(srv.accepted))
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("server accepted %q, want %q", srv.accepted, want)
			}
			if !srv.ahead[2] {
				t.Fatalf("message 3's envelope was not pipelined behind message 2's dot: %v", srv.ahead)
			}
		})
	}
}

// Close with a next job taken: the mailer finishes both before it quits.
func TestCloseFinishesTheNextJob(t *testing.T) {
	srv := startScripted(t, &scripted{slowFirst: 100 * time.Millisecond, last: 2})
	m := newMailer(t, srv.config(1))
	results := make(chan model.SendResult, 2)
	for i := 1; i <= 2; i++ {
		if err := m.Send(context.Background(), testMessage(i), func(r model.SendResult) { results <- r }); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r := <-results; r.Outcome != model.Accepted {
			t.Fatalf("%+v", r)
		}
	}
	if err := m.Send(context.Background(), testMessage(3), func(model.SendResult) {}); !errors.Is(err, mailer.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
}

// A connection promises to take a next message only once its relay has
// answered an envelope, and a free connection on any relay comes before
// such a promise: a relay that accepts TCP and never greets holds up the
// message it was given and no other.
func TestNoPromiseFromADeadRelay(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held sync.WaitGroup
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); _ = ln.Close(); held.Wait() })
	held.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held.Go(func() { <-stop; _ = c.Close() }) // never a greeting
		}
	})
	live := smtptest.Start(t, smtptest.Options{})
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	cfg := config.SMTP{Transport: "smtp", From: "Example News <digest@news.example.com>",
		MaxAttempts: 5, Timeout: config.Duration(time.Second),
		Relays: []config.Relay{
			{Host: host, Port: p, TLS: "none", MaxConnections: 1, Weight: 1},
			{Host: live.Host(), Port: live.Port(), TLS: "none", MaxConnections: 2, Weight: 1},
		}}
	m := newMailer(t, cfg)
	const n = 6
	start := time.Now()
	took := make(chan time.Duration, n)
	for i := 1; i <= n; i++ {
		if err := m.Send(context.Background(), testMessage(i), func(r model.SendResult) {
			if r.Outcome != model.Accepted {
				t.Errorf("%+v", r)
			}
			took <- time.Since(start)
		}); err != nil {
			t.Fatal(err)
		}
	}
	slow := 0
	for range n {
		if d := <-took; d >= 500*time.Millisecond {
			slow++
		}
	}
	if slow > 1 {
		t.Fatalf("%d of %d messages waited for the dead relay's timeout; only the one it was given may", slow, n)
	}
	if got := len(live.Messages()); got != n {
		t.Fatalf("the live relay got %d messages, want %d", got, n)
	}
}
