package receiver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/bounce"
	"github.com/heraldnews/herald/bounce/receiver"
	"github.com/heraldnews/herald/internal/testkit"
)

// sink records what Deliver received.
type sink struct {
	mu      sync.Mutex
	got     []delivery
	fail    error
	entered chan struct{} // when set, Deliver closes it on entry...
	block   chan struct{} // ...and waits for block to close
}

type delivery struct {
	rcpts []string
	raw   string
}

func (s *sink) deliver(ctx context.Context, rcpts []string, raw []byte) error {
	if s.block != nil {
		close(s.entered)
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.got = append(s.got, delivery{rcpts, string(raw)})
	return nil
}

func (s *sink) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.got...)
}

func accept(rcpt string) error {
	switch {
	case strings.HasPrefix(rcpt, "bounces"):
		return nil
	case strings.HasPrefix(rcpt, "later"):
		return fmt.Errorf("store busy: %w", receiver.ErrTemporary)
	}
	return errors.New("unknown recipient")
}

// start serves on 127.0.0.1 and returns the address and a stop func that
// waits for Serve to return.
func start(t *testing.T, opts receiver.Options) (string, func() error) {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := receiver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	var serr error
	stop := func() error {
		once.Do(func() { cancel(); serr = <-done })
		return serr
	}
	t.Cleanup(func() { _ = stop() })
	return ln.Addr().String(), stop
}

const msg = "From: MAILER-DAEMON@mx.example.org\r\nTo: bounces+tok@news.example.com\r\nSubject: failure notice\r\n\r\nHi.\r\n"

func send(addr, from string, rcpts []string, body string) error {
	return smtp.SendMail(addr, nil, from, rcpts, []byte(body))
}

func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestDeliver(t *testing.T) {
	var s sink
	addr, _ := start(t, receiver.Options{Domain: "bounces.test", Accept: accept, Deliver: s.deliver})
	if err := send(addr, "", []string{"bounces+tok@news.example.com", "bounces@news.example.com"}, msg); err != nil {
		t.Fatal(err)
	}
	got := s.deliveries()
	if len(got) != 1 || strings.Join(got[0].rcpts, ",") != "bounces+tok@news.example.com,bounces@news.example.com" {
		t.Fatalf("deliveries %+v", got)
	}
	if !strings.Contains(got[0].raw, "Subject: failure notice\r\n") {
		t.Errorf("raw %q", got[0].raw)
	}
}

func TestRefusals(t *testing.T) {
	var s sink
	addr, _ := start(t, receiver.Options{MaxBytes: 1024, Accept: accept, Deliver: s.deliver})
	for _, c := range []struct {
		name  string
		rcpts []string
		body  string
		want  int
	}{
		{"unknown recipient", []string{"someone@elsewhere.example"}, msg, 550},
		{"relay attempt", []string{"victim@gmail.example"}, msg, 550},
		{"temporary", []string{"later@news.example.com"}, msg, 451},
		{"too large", []string{"bounces@news.example.com"}, msg + strings.Repeat("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", 64), 552},
	} {
		if err := send(addr, "", c.rcpts, c.body); code(err) != c.want {
			t.Errorf("%s: error %v, want code %d", c.name, err, c.want)
		}
	}
	if got := s.deliveries(); len(got) != 0 {
		t.Errorf("delivered %+v", got)
	}
}

func TestDeliverErrorIsTemporary(t *testing.T) {
	s := sink{fail: errors.New("database is locked")}
	addr, _ := start(t, receiver.Options{Accept: accept, Deliver: s.deliver})
	if err := send(addr, "", []string{"bounces@news.example.com"}, msg); code(err) != 451 {
		t.Fatalf("error %v, want 451", err)
	}
}

func TestNoAuth(t *testing.T) {
	var s sink
	addr, _ := start(t, receiver.Options{Accept: accept, Deliver: s.deliver})
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Errorf("AUTH offered")
	}
	id, err := c.Text.Cmd("AUTH PLAIN AGJvYgBzZWNyZXQ=")
	if err != nil {
		t.Fatal(err)
	}
	c.Text.StartResponse(id)
	code, _, _ := c.Text.ReadResponse(0)
	c.Text.EndResponse(id)
	if code < 500 {
		t.Errorf("AUTH answered %d", code)
	}
}

// TestGracefulStop cancels Serve while a message is being recorded: the
// message still gets its 250, then Serve returns and refuses connections.
func TestGracefulStop(t *testing.T) {
	s := sink{entered: make(chan struct{}), block: make(chan struct{})}
	addr, stop := start(t, receiver.Options{Accept: accept, Deliver: s.deliver})
	sent := make(chan error, 1)
	go func() { sent <- send(addr, "", []string{"bounces@news.example.com"}, msg) }()
	<-s.entered // the server holds the message
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Shutdown closes the listener first; wait until it has.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if i == 1000 {
			t.Fatal("listener still open")
		}
		runtime.Gosched()
	}
	close(s.block)
	if err := <-sent; err != nil {
		t.Fatalf("in-flight message: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if len(s.deliveries()) != 1 {
		t.Errorf("deliveries %+v", s.deliveries())
	}
}

func TestNewChecksOptions(t *testing.T) {
	if _, err := receiver.New(receiver.Options{}); err == nil {
		t.Error("New without Accept and Deliver succeeded")
	}
}

func TestListenAndServe(t *testing.T) {
	var s sink
	addr := testkit.FreeAddr(t)
	srv, err := receiver.New(receiver.Options{Addr: addr, Accept: accept, Deliver: s.deliver,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx) }()
	// The listener opens asynchronously: retry until it answers.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		runtime.Gosched()
	}
	err = send(addr, "", []string{"bounces@news.example.com"}, msg)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(s.deliveries()) != 1 {
		t.Errorf("deliveries %+v", s.deliveries())
	}
	// An address in use is an error, not a silent return.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy, _ := receiver.New(receiver.Options{Addr: ln.Addr().String(), Accept: accept, Deliver: s.deliver})
	if err := busy.ListenAndServe(context.Background()); err == nil {
		t.Error("ListenAndServe on a busy address succeeded")
	}
}

// TestDSNOverSMTP sends a Postfix DSN from the bounce table to the
// receiver and parses what Deliver got: the failed recipient is a hard
// bounce and the VERP address arrives as the envelope recipient.
func TestDSNOverSMTP(t *testing.T) {
	raw, err := os.ReadFile("../testdata/mail/postfix-user-unknown.eml")
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	addr, _ := start(t, receiver.Options{Accept: accept, Deliver: s.deliver})
	verp := "bounces+ad3kq7zx5mfwq2hc@news.example.com"
	if err := send(addr, "", []string{verp}, string(raw)); err != nil {
		t.Fatal(err)
	}
	got := s.deliveries()
	if len(got) != 1 || got[0].rcpts[0] != verp {
		t.Fatalf("deliveries %+v", got)
	}
	m, err := bounce.Parse(strings.NewReader(got[0].raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind() != bounce.Hard || m.Reports[0].Recipient != "alice@example.org" || m.Reports[0].Status != "5.1.1" {
		t.Errorf("parsed %+v", m.Reports)
	}
}
