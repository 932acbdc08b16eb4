package smtptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TLSMode says how the server offers TLS.
type TLSMode int

// TLS modes.
const (
	TLSNone     TLSMode = iota // plain SMTP, no STARTTLS offered
	TLSStartTLS                // plain SMTP that offers STARTTLS
	TLSImplicit                // TLS from the first byte (SMTPS)
)

// Options configures a Server. The zero value is a plain SMTP server that
// accepts everything.
type Options struct {
	TLS TLSMode
	// Username and Password, when Username is set, make the server offer
	// AUTH PLAIN and refuse MAIL FROM until a client has authenticated.
	Username, Password string
	// Hook, when set, decides the reply at each step; see Server.SetHook.
	Hook func(*Attempt) Action
	// Domain is the name in the greeting; "mx.test" when empty.
	Domain string
	// DiscardData keeps envelopes and counts but not message bytes, so a
	// benchmark can send millions of messages.
	DiscardData bool
	// Latency delays every write of the server by this much, standing in
	// for a network round trip (benchmarks of round-trip counts).
	Latency time.Duration
	// SMTPUTF8 advertises RFC 6531 SMTPUTF8; Message.UTF8 says which
	// messages asked for it.
	SMTPUTF8 bool
	// NoPipelining hides PIPELINING (RFC 2920) from the EHLO reply (go-smtp
	// always offers it), for clients' one-command-at-a-time path.
	NoPipelining bool
}

// Stage is the step of an SMTP transaction a hook is asked about.
type Stage int

// Stages.
const (
	StageMail Stage = iota + 1 // MAIL FROM
	StageRcpt                  // RCPT TO, once per recipient
	StageData                  // after the message data (and final dot) was read, before the reply
)

func (s Stage) String() string {
	switch s {
	case StageMail:
		return "MAIL"
	case StageRcpt:
		return "RCPT"
	case StageData:
		return "DATA"
	}
	return "stage(" + strconv.Itoa(int(s)) + ")"
}

// Attempt is what a hook sees: one step of one transaction.
type Attempt struct {
	Stage Stage
	Conn  int    // connection number, 1 for the first accepted connection
	From  string // envelope sender
	// Rcpt is the recipient being added (StageRcpt) or the first recipient
	// (StageData); Rcpts are all recipients accepted so far.
	Rcpt  string
	Rcpts []string
	// N counts RCPT TO commands for Rcpt over the server's life, this one
	// included: 1 on the first try for that address, 2 on the retry...
	// Addresses compare case-insensitively.
	N    int
	Data []byte // the raw message, at StageData
}

// Action is a hook's answer. The zero Action accepts.
type Action struct {
	// Reply, when set, is sent instead of success.
	Reply *smtp.SMTPError
	// Drop closes the connection without a reply (after any Stall).
	Drop bool
	// Stall waits this long before replying or dropping (cut short when
	// the server closes).
	Stall time.Duration
	// Deliver, at StageData, records the message as delivered before any
	// stall or drop, even when the reply is an error or the connection is
	// dropped: a server that queued the message and then lost the
	// connection.
	Deliver bool
}

// Accept is the action that accepts.
func Accept() Action { return Action{} }

// Reply answers with an SMTP error reply, as in Reply(451, "4.3.0", "try
// later"). An empty or malformed enhanced code leaves it out of the reply.
func Reply(code int, enhanced, text string) Action {
	e := &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: text}
	if p := strings.Split(enhanced, "."); len(p) == 3 {
		var ec smtp.EnhancedCode
		ok := true
		for i, s := range p {
			n, err := strconv.Atoi(s)
			if err != nil {
				ok = false
				break
			}
			ec[i] = n
		}
		if ok {
			e.EnhancedCode = ec
		}
	}
	return Action{Reply: e}
}

// Drop closes the connection without a reply.
func Drop() Action { return Action{Drop: true} }

// Stall waits d before accepting.
func Stall(d time.Duration) Action { return Action{Stall: d} }

// Message is one message the server recorded as delivered.
type Message struct {
	From string
	To   []string
	Data []byte
	At   time.Time
	Conn int
	UTF8 bool // MAIL FROM carried SMTPUTF8
}

// Server is a running test SMTP server. Its methods are safe for concurrent
// use.
type Server struct {
	tb   testing.TB
	opts Options
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}
	cert *x509.Certificate

	mu       sync.Mutex
	hook     func(*Attempt) Action
	msgs     []Message
	count    map[string]int // deliveries per lower-cased recipient
	tries    map[string]int // RCPT TO per lower-cased recipient
	conns    int
	bad      []string // protocol violations seen
	closeErr sync.Once
}

// Start starts a server on 127.0.0.1:0 and closes it in tb.Cleanup.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := &Server{
		tb:    tb,
		opts:  opts,
		done:  make(chan struct{}),
		hook:  opts.Hook,
		count: make(map[string]int),
		tries: make(map[string]int),
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = opts.Domain
	if s.srv.Domain == "" {
		s.srv.Domain = "mx.test"
	}
	s.srv.AllowInsecureAuth = true
	s.srv.EnableSMTPUTF8 = opts.SMTPUTF8
	s.srv.MaxRecipients = 100
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.Debug = violationWriter{s} // plain-text sessions only: TLS hides the commands

	var err error
	s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtptest: listen: %v", err)
	}
	if opts.Latency > 0 || opts.NoPipelining {
		s.ln = latencyListener{s.ln, opts.Latency, opts.NoPipelining}
	}
	if opts.TLS != TLSNone {
		cfg, cert, err := selfSigned()
		if err != nil {
			tb.Fatalf("smtptest: certificate: %v", err)
		}
		s.cert = cert
		s.srv.TLSConfig = cfg
		if opts.TLS == TLSImplicit {
			s.ln = tls.NewListener(s.ln, cfg)
		}
	}
	go func() { _ = s.srv.Serve(s.ln) }()
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server and drops every open connection. Tests need not
// call it: Start registers it with tb.Cleanup.
func (s *Server) Close() {
	s.closeErr.Do(func() {
		close(s.done)
		_ = s.srv.Close()
	})
}

// Addr is the listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// latencyListener hands out connections whose writes are delayed, and
// whose EHLO reply may hide PIPELINING.
type latencyListener struct {
	net.Listener
	d      time.Duration
	noPipe bool
}

func (l latencyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return latencyConn{c, l.d, l.noPipe}, nil
}

type latencyConn struct {
	net.Conn
	d      time.Duration
	noPipe bool
}

func (c latencyConn) Write(p []byte) (int, error) {
	if c.d > 0 {
		time.Sleep(c.d)
	}
	if c.noPipe && bytes.Contains(p, []byte("PIPELINING")) {
		// Same length, so the caller's count stays right.
		n, err := c.Conn.Write(bytes.ReplaceAll(p, []byte("PIPELINING"), []byte("XNOPIPELIN")))
		return n, err
	}
	return c.Conn.Write(p)
}

// Host is "127.0.0.1".
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// RootCAs is a pool holding the server's self-signed certificate, for a
// client's tls.Config; nil when the server has no TLS.
func (s *Server) RootCAs() *x509.CertPool {
	if s.cert == nil {
		return nil
	}
	p := x509.NewCertPool()
	p.AddCert(s.cert)
	return p
}

// ClientTLSConfig is a client configuration that trusts the server's
// certificate for the name "localhost" and the IP 127.0.0.1.
func (s *Server) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs(), ServerName: s.Host(), MinVersion: tls.VersionTLS12}
}

// SetHook replaces the hook; nil accepts everything.
func (s *Server) SetHook(h func(*Attempt) Action) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

// Messages returns a copy of the delivered messages in arrival order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	copy(out, s.msgs)
	return out
}

// CountFor is how many delivered messages had rcpt as a recipient
// (case-insensitive).
func (s *Server) CountFor(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count[strings.ToLower(rcpt)]
}

// Counts returns deliveries per lower-cased recipient.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.count))
	for k, v := range s.count {
		out[k] = v
	}
	return out
}

// Violations lists commands that go-smtp tolerates but strict servers
// (mailpit, Postfix) refuse: MAIL FROM or RCPT TO without angle brackets.
// Only plain-text sessions are checked.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}

// violationWriter receives go-smtp's debug copy of the conversation.
type violationWriter struct{ s *Server }

func (w violationWriter) Write(p []byte) (int, error) {
	// Most writes are replies and message data: skip them without allocating.
	if !bytes.Contains(p, []byte("MAIL FROM:")) && !bytes.Contains(p, []byte("RCPT TO:")) &&
		!bytes.Contains(p, []byte("mail from:")) && !bytes.Contains(p, []byte("rcpt to:")) {
		return len(p), nil
	}
	for _, line := range strings.Split(string(p), "\r\n") {
		u := strings.ToUpper(line)
		for _, cmd := range []string{"MAIL FROM:", "RCPT TO:"} {
			if strings.HasPrefix(u, cmd) && !strings.HasPrefix(strings.TrimLeft(line[len(cmd):], " "), "<") {
				w.s.mu.Lock()
				w.s.bad = append(w.s.bad, line)
				w.s.mu.Unlock()
			}
		}
	}
	return len(p), nil
}

// Connections is how many connections the server has accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}
