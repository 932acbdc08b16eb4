package lifecycle_test

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/heraldnews/herald/internal/model"
)

type quietIMAPLog struct{}

func (quietIMAPLog) Printf(string, ...any) {}

// imapServer is go-imap's in-memory server on 127.0.0.1 with the user
// bounces/pw; it returns its address.
func imapServer(t *testing.T) string {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("bounces", "pw")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       quietIMAPLog{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// appendIMAP puts a message into the mailbox's INBOX.
func appendIMAP(t *testing.T, addr string, raw []byte) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bounces", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	cmd.Write(raw)
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// Real ways in: a DSN sent over SMTP to the bounce listener for a VERP
// address, a forged VERP address refused with 550, and an ARF complaint
// found in an IMAP mailbox (go-imap's in-memory server) by the poll.
func TestListenerAndMailbox(t *testing.T) {
	mbox := imapServer(t)
	host, port, _ := net.SplitHostPort(mbox)
	e := newEnvWith(t, fmt.Sprintf(", imap: {host: %q, port: %s, tls: none, username: bounces, password: pw, interval: 1s}", host, port))
	e.reader("dsn@example.org")
	e.reader("fbl@example.org")
	ed := e.edition()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	verp := string(e.verp.Delivery(ed["dsn@example.org"].ID))
	c, err := smtp.Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(verp, "+bounces+", "+bounces+x", 1)
	if err := c.Rcpt(forged); err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("RCPT TO a forged VERP address: %v, want 550", err)
	}
	if err := c.Rcpt("someone@news.example.com"); err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("RCPT TO another address: %v, want 550 (no relaying)", err)
	}
	if err := c.Rcpt(verp); err != nil {
		t.Fatalf("RCPT TO the VERP address: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(dsn(verp, "dsn@example.org", "5.1.1", "550 5.1.1 user unknown", ""))
	if err := w.Close(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	c.Quit()
	if st, _ := e.status("dsn@example.org"); st != model.SubscriberBounced {
		t.Errorf("a DSN over SMTP left %s", st)
	}

	appendIMAP(t, mbox, arf(bare, "fbl@example.org", ed["fbl@example.org"].MessageID))
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := e.status("fbl@example.org")
		if st == model.SubscriberComplained {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the complaint in the mailbox was not handled: %s", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
