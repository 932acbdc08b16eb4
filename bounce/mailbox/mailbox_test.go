package mailbox_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/heraldnews/herald/bounce/mailbox"
	"github.com/heraldnews/herald/internal/testkit"
)

// server is go-imap's in-memory IMAP server on 127.0.0.1 with one user,
// "bounces", and the mailboxes INBOX and Processed.
type server struct {
	addr string
	tls  *tls.Config // the client side, trusting the server's certificate
	mode mailbox.TLSMode
}

func startServer(t *testing.T, mode mailbox.TLSMode) server {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("bounces", "pw")
	for _, name := range []string{"INBOX", "Processed"} {
		if err := u.Create(name, nil); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(u)
	cert, pool := selfSigned(t)
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       discardLogger{},
	}
	if mode == mailbox.TLSStartTLS {
		opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	srv := imapserver.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := server{addr: ln.Addr().String()}
	if mode != mailbox.TLSNone {
		s.tls = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	}
	if mode == mailbox.TLSImplicit {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	}
	s.mode = mode
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, pool
}

// client opens a test-side IMAP connection to append and inspect.
func (s server) client(t *testing.T) *imapclient.Client {
	t.Helper()
	var c *imapclient.Client
	var err error
	switch s.mode {
	case mailbox.TLSImplicit:
		c, err = imapclient.DialTLS(s.addr, &imapclient.Options{TLSConfig: s.tls})
	case mailbox.TLSStartTLS:
		c, err = imapclient.DialStartTLS(s.addr, &imapclient.Options{TLSConfig: s.tls})
	default:
		c, err = imapclient.DialInsecure(s.addr, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("bounces", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func (s server) appendMsg(t *testing.T, subject string) {
	t.Helper()
	c := s.client(t)
	raw := "From: MAILER-DAEMON@mx.example.org\r\nTo: bounces@news.example.com\r\nSubject: " + subject + "\r\n\r\nHi.\r\n"
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	io.WriteString(cmd, raw)
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// flags returns the subject and flags of each message in a mailbox.
func (s server) flags(t *testing.T, mbox string) map[string][]imap.Flag {
	t.Helper()
	c := s.client(t)
	sel, err := c.Select(mbox, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		out[m.Envelope.Subject] = m.Flags
	}
	return out
}

// recorder is a Handle that records subjects and refuses those it is told
// to.
type recorder struct {
	mu     sync.Mutex
	got    []string
	refuse string
}

func (r *recorder) handle(_ context.Context, raw []byte) error {
	s := string(raw)
	i := strings.Index(s, "Subject: ")
	subj := s[i+9 : i+9+strings.Index(s[i+9:], "\r\n")]
	if subj == r.refuse {
		return errors.New("store busy")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, subj)
	return nil
}

func (r *recorder) subjects() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestPollMarksSeenOnlyWhenHandled(t *testing.T) {
	s := startServer(t, mailbox.TLSNone)
	s.appendMsg(t, "one")
	s.appendMsg(t, "two")
	r := &recorder{refuse: "two"}
	p, err := mailbox.New(mailbox.Options{Addr: s.addr, Username: "bounces", Password: "pw", TLS: mailbox.TLSNone,
		Handle: r.handle, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "store busy") || n != 1 {
		t.Fatalf("Poll = %d, %v; want 1 and the handler's error", n, err)
	}
	f := s.flags(t, "INBOX")
	if !slices.Contains(f["one"], imap.FlagSeen) || slices.Contains(f["two"], imap.FlagSeen) {
		t.Fatalf("flags %v", f)
	}
	// The refused message comes back on the next pass; the handled one
	// does not.
	r.refuse = ""
	if n, err := p.Poll(context.Background()); err != nil || n != 1 {
		t.Fatalf("second Poll = %d, %v", n, err)
	}
	if got := strings.Join(r.subjects(), ","); got != "one,two" {
		t.Errorf("handled %s", got)
	}
}

func TestPollMoveAndDelete(t *testing.T) {
	for _, c := range []struct {
		after mailbox.After
		tls   mailbox.TLSMode
	}{{mailbox.Move, mailbox.TLSImplicit}, {mailbox.Delete, mailbox.TLSStartTLS}} {
		after := c.after
		s := startServer(t, c.tls)
		s.appendMsg(t, "bounce")
		r := &recorder{}
		p, err := mailbox.New(mailbox.Options{Addr: s.addr, Username: "bounces", Password: "pw", TLS: c.tls, TLSConfig: s.tls,
			After: after, MoveTo: "Processed", Handle: r.handle, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := p.Poll(context.Background()); err != nil || n != 1 {
			t.Fatalf("after %d: Poll = %d, %v", after, n, err)
		}
		if f := s.flags(t, "INBOX"); len(f) != 0 {
			t.Errorf("after %d: INBOX still holds %v", after, f)
		}
		moved := s.flags(t, "Processed")
		if _, ok := moved["bounce"]; ok != (after == mailbox.Move) {
			t.Errorf("after %d: Processed holds %v", after, moved)
		}
	}
}

func TestPollRefusesBadCertificate(t *testing.T) {
	s := startServer(t, mailbox.TLSImplicit)
	p, err := mailbox.New(mailbox.Options{Addr: s.addr, Username: "bounces", Password: "pw",
		Handle: (&recorder{}).handle, Logger: quiet()}) // system roots: the test certificate is untrusted
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(context.Background()); err == nil {
		t.Fatal("Poll trusted a self-signed certificate")
	}
}

func TestPollWrongPassword(t *testing.T) {
	s := startServer(t, mailbox.TLSNone)
	p, _ := mailbox.New(mailbox.Options{Addr: s.addr, Username: "bounces", Password: "nope", TLS: mailbox.TLSNone,
		Handle: (&recorder{}).handle, Logger: quiet()})
	if _, err := p.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "login") {
		t.Fatalf("Poll with a wrong password: %v", err)
	}
}

// TestRun polls on an injected clock until the context ends.
func TestRun(t *testing.T) {
	s := startServer(t, mailbox.TLSNone)
	for i := range 3 {
		s.appendMsg(t, fmt.Sprint("m", i))
	}
	clock := testkit.NewClock(time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &recorder{}
	passes := 0
	p, err := mailbox.New(mailbox.Options{Addr: s.addr, Username: "bounces", Password: "pw", TLS: mailbox.TLSNone,
		Batch: 2, Interval: time.Minute, Handle: r.handle, Logger: quiet(),
		Sleep: func(ctx context.Context, d time.Duration) error {
			passes++
			if passes == 2 {
				cancel()
			}
			return clock.Sleep(ctx, d)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.subjects(), ","); got != "m0,m1,m2" {
		t.Errorf("handled %q over two passes of at most 2", got)
	}
	if !clock.Now().Equal(time.Date(2026, 3, 3, 7, 2, 0, 0, time.UTC)) {
		t.Errorf("clock at %v, want two intervals on", clock.Now())
	}
}

func TestNewChecksOptions(t *testing.T) {
	h := (&recorder{}).handle
	for _, o := range []mailbox.Options{
		{Username: "u", Handle: h},
		{Addr: "a:993", Handle: h},
		{Addr: "a:993", Username: "u"},
		{Addr: "a:993", Username: "u", Handle: h, After: mailbox.Move},
		{Addr: "a:993", Username: "u", Handle: h, After: 7},
	} {
		if _, err := mailbox.New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}
