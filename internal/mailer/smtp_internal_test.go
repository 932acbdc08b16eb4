package mailer

import (
	"context"
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
