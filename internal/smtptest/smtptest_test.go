package smtptest_test

import (
	"crypto/tls"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/heraldnews/herald/internal/smtptest"
)

const body = "Subject: hi\r\n\r\nhello\r\n"

func send(c *smtp.Client, from, to string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	return w.Close()
}

func TestRecordsConcurrently(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c, err := smtp.Dial(srv.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for range 5 {
				if err := send(c, "a@example.com", "R@example.com"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := srv.CountFor("r@EXAMPLE.com"); got != 40 {
		t.Fatalf("CountFor = %d, want 40", got)
	}
	msgs := srv.Messages()
	if len(msgs) != 40 || msgs[0].From != "a@example.com" || !strings.Contains(string(msgs[0].Data), "hello") {
		t.Fatalf("messages = %d, first %+v", len(msgs), msgs[0])
	}
	if srv.Connections() != 8 {
		t.Fatalf("connections = %d", srv.Connections())
	}
}

func TestHookScriptsReplies(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	srv.SetHook(func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData && a.N == 1 {
			return smtptest.Reply(451, "4.3.0", "try later")
		}
		if a.Stage == smtptest.StageRcpt && a.Rcpt == "gone@example.com" {
			return smtptest.Reply(550, "5.1.1", "no such user")
		}
		return smtptest.Accept()
	})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var se *smtp.SMTPError
	if err := send(c, "a@example.com", "b@example.com"); !errors.As(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 3, 0}) {
		t.Fatalf("first try: %v", err)
	}
	if err := send(c, "a@example.com", "b@example.com"); err != nil {
		t.Fatalf("second try: %v", err)
	}
	if err := send(c, "a@example.com", "gone@example.com"); !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("gone: %v", err)
	}
	if srv.CountFor("b@example.com") != 1 || srv.CountFor("gone@example.com") != 0 {
		t.Fatalf("counts %v", srv.Counts())
	}
}

func TestDropAfterDataDeliver(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData {
			return smtptest.Action{Drop: true, Deliver: true}
		}
		return smtptest.Accept()
	}})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := send(c, "a@example.com", "b@example.com"); err == nil {
		t.Fatal("want an error after the drop")
	}
	if srv.CountFor("b@example.com") != 1 {
		t.Fatalf("counts %v", srv.Counts())
	}
}

func TestTLSAndAuth(t *testing.T) {
	for _, mode := range []smtptest.TLSMode{smtptest.TLSStartTLS, smtptest.TLSImplicit} {
		srv := smtptest.Start(t, smtptest.Options{TLS: mode, Username: "u", Password: "p"})
		var c *smtp.Client
		var err error
		if mode == smtptest.TLSImplicit {
			c, err = smtp.DialTLS(srv.Addr(), srv.ClientTLSConfig())
		} else {
			c, err = smtp.DialStartTLS(srv.Addr(), srv.ClientTLSConfig())
		}
		if err != nil {
			t.Fatalf("mode %d: dial: %v", mode, err)
		}
		if _, ok := c.TLSConnectionState(); !ok {
			t.Fatalf("mode %d: not TLS", mode)
		}
		if err := send(c, "a@example.com", "b@example.com"); err == nil {
			t.Fatalf("mode %d: sent without auth", mode)
		}
		if err := c.Auth(sasl.NewPlainClient("", "u", "wrong")); err == nil {
			t.Fatalf("mode %d: bad password accepted", mode)
		}
		if err := c.Auth(sasl.NewPlainClient("", "u", "p")); err != nil {
			t.Fatalf("mode %d: auth: %v", mode, err)
		}
		if err := send(c, "a@example.com", "b@example.com"); err != nil {
			t.Fatalf("mode %d: send: %v", mode, err)
		}
		c.Close()
	}
	// A client that does not trust the certificate fails the handshake.
	srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.TLSImplicit})
	if c, err := smtp.DialTLS(srv.Addr(), &tls.Config{ServerName: "localhost"}); err == nil {
		c.Close()
		t.Fatal("untrusted certificate accepted")
	}
}

func TestViolations(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := send(c, "a@example.com", "b@example.com"); err != nil {
		t.Fatal(err)
	}
	if v := srv.Violations(); len(v) != 0 {
		t.Fatalf("go-smtp's client brackets addresses, got %q", v)
	}
	// A raw client that does not.
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tc := textproto.NewConn(conn)
	if _, _, err := tc.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"EHLO client.test", "MAIL FROM:a@example.com"} {
		id, _ := tc.Cmd("%s", cmd)
		tc.StartResponse(id)
		_, _, _ = tc.ReadResponse(250)
		tc.EndResponse(id)
	}
	if v := srv.Violations(); len(v) != 1 || v[0] != "MAIL FROM:a@example.com" {
		t.Fatalf("violations %q", v)
	}
}
