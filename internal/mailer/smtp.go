package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"syscall"
	"time"

	"github.com/wneessen/go-mail"
	gmsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// How a connection is used, decided by measurement (bench_test.go,
// bench_internal_test.go):
//
// go-mail's Client.Send sends NOOP before and RSET after every message, and
// its smtp.timeout is a deadline on the whole connection that only that
// per-Send connection check pushes forward. That is six round trips per
// message where four (MAIL, RCPT, DATA, the final dot) do the work. With
// every server reply delayed 1 ms, as on a network, go-mail's Send managed
// 118 msgs/s on one connection and this code 207 msgs/s
// (BenchmarkSendGoMailDefault/latency=1ms vs BenchmarkSendLatency/conns=1); on
// loopback with no delay the two are within noise of each other (CPU bound,
// shared with the in-process server). So each connection drives go-mail's
// smtp.Client itself:
//
//   - the deadline is pushed to now+smtp.timeout at the start of every
//     message (UpdateDeadline, no round trip), so smtp.timeout bounds one
//     message and a batch of any length shares one connection with no
//     redial per batch (TestLongBatchOneConnection);
//   - no RSET after a successful message (the reply to the final dot
//     already ends the transaction), and no NOOP before one unless the
//     connection has been idle for idleCheck (servers drop idle clients);
//   - after a failed transaction the connection is RSET (an error reply to
//     MAIL, RCPT or DATA) or closed and redialled on the next message
//     (network error, timeout, 421, a reply the protocol does not expect,
//     a failed RSET), so the next message always starts clean
//     (TestClassification sends one after every kind of failure);
const idleCheck = 10 * time.Second

// stage is how far a transaction got.
type stage int

const (
	stageMail stage = iota // MAIL FROM
	stageRcpt              // RCPT TO
	stageData              // the DATA command
	stageBody              // writing the message
	stageDot               // the final dot written, waiting for the reply
)

var stageNames = [...]string{"MAIL FROM", "RCPT TO", "DATA", "message data", "end of data"}

func (s stage) String() string { return stageNames[s] }

// smtpConn is one connection to a relay, used by one goroutine at a time.
type smtpConn struct {
	timeout  time.Duration
	log      *slog.Logger
	onDial   func(error)
	mc       *mail.Client // dial settings; only used to dial
	dialled  *trackConn   // set by the dial func during mc's dial
	c        *gmsmtp.Client
	tc       *trackConn // the TCP connection under c (under TLS, if any)
	lastUsed time.Time
	stuffed  []byte // the message being sent, dot-stuffed (or its end of data alone)
	cmd      []byte // the pipelined envelope being sent
	// envSent: the next message's envelope went out behind the last
	// final dot (pipelined); its three replies are still to be read.
	envSent bool

	pipelining, eightBit bool // the relay offers PIPELINING, 8BITMIME
	// plain: no TLS, so the client's textproto writer writes straight to
	// tc (pipelined bypasses it with writeBuffers).
	plain bool
}

// trackConn remembers whether a write failed, so a lost connection after
// the final dot can be told apart from one lost while sending it.
type trackConn struct {
	net.Conn
	werr error
	iov  [][]byte // writeStuffed's vector, kept so it is not allocated per message
}

func (c *trackConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && c.werr == nil {
		c.werr = err
	}
	return n, err
}

// dot is the "." that dot-stuffing puts in front of a line.
var dot = []byte{'.'}

// writeStuffed writes p with a "." in front of each of cuts (dotCuts),
// then tail, in one writev(2) on a TCP connection (net.Buffers; a plain
// sequence of writes otherwise): the pieces of p are written from p, not
// copied. It returns how many bytes left.
func (c *trackConn) writeStuffed(p []byte, cuts []int, tail []byte) (int, error) {
	v := c.iov[:0]
	from := 0
	for _, cut := range cuts {
		if cut > from {
			v = append(v, p[from:cut])
		}
		v = append(v, dot)
		from = cut
	}
	v = append(v, p[from:], tail)
	c.iov = v
	bufs := net.Buffers(v)
	n, err := bufs.WriteTo(c.Conn)
	clear(v) // WriteTo consumes bufs; clear what it left, so no message stays reachable
	if err != nil && c.werr == nil {
		c.werr = err
	}
	return int(n), err
}

// newSMTPConn prepares (without dialling) a connection to relay r.
func newSMTPConn(r config.Relay, timeout time.Duration, tlsConfig *tls.Config, log *slog.Logger, onDial func(error)) (*smtpConn, error) {
	if r.Host == "" {
		return nil, errors.New("mailer: smtp.host must not be empty")
	}
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tlsConfig.ServerName == "" {
		tlsConfig = tlsConfig.Clone()
		tlsConfig.ServerName = r.Host
	}
	s := &smtpConn{timeout: timeout, log: log, onDial: onDial}
	opts := []mail.Option{
		mail.WithPort(r.Port), mail.WithTimeout(timeout), mail.WithTLSConfig(tlsConfig),
		mail.WithDialContextFunc(s.dialFunc(r.TLS == "tls", tlsConfig)),
	}
	switch r.TLS {
	case "none", "tls": // implicit TLS is done by the dial func
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case "starttls", "":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		return nil, fmt.Errorf("mailer: smtp.tls must be none, starttls or tls, got %q", r.TLS)
	}
	if r.Username != "" {
		// PLAIN and LOGIN refuse to send the password unless the
		// connection is encrypted or to localhost (go-mail's check).
		opts = append(opts, mail.WithUsername(r.Username), mail.WithPassword(r.Password),
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1,
				mail.SMTPAuthCramMD5, mail.SMTPAuthPlain, mail.SMTPAuthLogin))
	}
	mc, err := mail.NewClient(r.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: smtp: %w", err)
	}
	s.mc = mc
	return s, nil
}

// dialFunc dials TCP (and TLS for implicit TLS) and records the TCP
// connection in s.dialled.
func (s *smtpConn) dialFunc(implicitTLS bool, tlsConfig *tls.Config) mail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackConn{Conn: raw}
		s.dialled = tc
		if !implicitTLS {
			return tc, nil
		}
		tlsConn := tls.Client(tc, tlsConfig)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		return tlsConn, nil
	}
}

// dial connects, greets, does STARTTLS and AUTH as configured.
func (s *smtpConn) dial() error {
	s.dialled = nil
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	c, err := s.mc.DialToSMTPClientWithContext(ctx)
	if s.onDial != nil {
		s.onDial(err)
	}
	if err != nil {
		if s.dialled != nil { // go-mail leaves it open when EHLO, STARTTLS or AUTH fail
			_ = s.dialled.Close()
		}
		return err
	}
	s.c, s.tc, s.lastUsed = c, s.dialled, time.Now()
	s.pipelining, _ = c.Extension("PIPELINING")
	s.eightBit, _ = c.Extension("8BITMIME")
	_, tlsOn := c.TLSConnectionState()
	s.plain = !tlsOn && s.tc != nil
	return nil
}

// drop closes the connection; the next message redials.
func (s *smtpConn) drop() {
	if s.c != nil {
		_ = s.c.Close()
	}
	s.c, s.tc, s.envSent = nil, nil, false
}

// send delivers raw, and with PIPELINING the envelope f.take returns (if
// any) behind the dot.
func (s *smtpConn) send(env envelope, raw []byte, f follower) (model.SendResult, verdict) {
	if s.c != nil && !s.envSent && time.Since(s.lastUsed) >= idleCheck {
		if s.c.UpdateDeadline(s.timeout) != nil || s.c.Noop() != nil {
			s.drop()
		}
	}
	if s.c == nil {
		if err := s.dial(); err != nil {
			res := model.SendResult{Outcome: model.Temporary, Reply: oneLine("connect: " + err.Error())}
			var te *textproto.Error
			if errors.As(err, &te) {
				res.Code, res.Enhanced = te.Code, enhancedCode(te.Code, te.Msg)
			}
			return res, verdictUnreachable
		}
	}
	if env.utf8 {
		if !s.offersUTF8() {
			return model.SendResult{Outcome: model.Temporary,
				Reply: "the relay does not offer SMTPUTF8 (RFC 6531), which this message's address needs"}, verdictNoUTF8
		}
	}
	s.c.SkipSMTPUTF8(!env.utf8) // go-mail would declare SMTPUTF8 for every message the relay allows it on
	if err := s.c.UpdateDeadline(s.timeout); err != nil {
		s.drop()
		return model.SendResult{Outcome: model.Temporary, Reply: oneLine(err.Error())}, verdictDone
	}
	res, v := s.transaction(env, raw, f)
	s.lastUsed = time.Now()
	return res, v
}

// stuff appends p, env's message or the start of it, dot-stuffed: by
// env's cuts when its line ends are all CR-LF, else by appendDotStuffed's
// walk over every line.
func stuff(dst, p []byte, env envelope) []byte {
	if !env.crlf {
		return appendDotStuffed(dst, p)
	}
	cuts := env.cuts
	for len(cuts) > 0 && cuts[len(cuts)-1] >= len(p) {
		cuts = cuts[:len(cuts)-1]
	}
	return appendCut(dst, p, cuts)
}

// utf8 reports whether the connection is up and whether its relay offers
// SMTPUTF8.
func (s *smtpConn) utf8() (known, ok bool) {
	if s.c == nil {
		return false, false
	}
	return true, s.offersUTF8()
}

// transaction sends one message. go-mail's smtp.Client writes "MAIL
// FROM:%s" and "RCPT TO:%s" verbatim, so the angle brackets are ours to
// add; strict servers (mailpit, Postfix) refuse bare addresses
// (smtptest's Violations catches a regression).
func (s *smtpConn) transaction(env envelope, raw []byte, f follower) (model.SendResult, verdict) {
	if s.pipelining {
		return s.pipelined(env, raw, f)
	}
	if err := s.c.Mail("<" + env.from + ">"); err != nil {
		return s.fail(stageMail, err)
	}
	if err := s.c.Rcpt("<" + env.to + ">"); err != nil {
		return s.fail(stageRcpt, err)
	}
	w, err := s.c.Data()
	if err != nil {
		return s.fail(stageData, err)
	}
	if f != nil {
		f.offer() // the next message waits here rather than for a free connection
	}
	// All but the last line go to the connection dot-stuffed (stuff);
	// the DotWriter sees only the last line, from its start, so the bytes
	// are the same and its Close ends the data as usual.
	cut := lastLine(raw)
	// After DATA's reply the buffer is empty, so bufio writes the stuffed
	// message straight to the connection: one system call.
	s.stuffed = stuff(s.stuffed[:0], raw[:cut], env)
	if _, err := s.c.Text.W.Write(s.stuffed); err != nil {
		return s.fail(stageBody, err)
	}
	if cap(s.stuffed) > 1<<20 {
		s.stuffed = nil
	}
	if _, err := w.Write(raw[cut:]); err != nil {
		return s.fail(stageBody, err)
	}
	s.tc.werr = nil // from here on, a write error means the dot never left
	if err := w.Close(); err != nil {
		return s.fail(stageDot, err)
	}
	reply := "250"
	if dc, ok := w.(*gmsmtp.DataCloser); ok {
		reply += " " + dc.ServerResponse()
	}
	return model.SendResult{Outcome: model.Accepted, Code: 250, Enhanced: enhancedCode(250, reply[4:]), Reply: oneLine(reply)}, verdictDone
}

// fail classifies err at stage st and leaves the connection clean: RSET
// after an error reply that leaves a transaction open, closed otherwise.
func (s *smtpConn) fail(st stage, err error) (model.SendResult, verdict) {
	var te *textproto.Error
	if errors.As(err, &te) {
		res, v := classifyReply(st, te.Code, te.Msg)
		switch {
		case te.Code == 421 || (te.Code/100 != 4 && te.Code/100 != 5):
			s.drop() // closing, or out of step with the server
		case st == stageDot:
			// The reply to the dot ends the transaction.
		default:
			if rerr := s.c.Reset(); rerr != nil {
				s.drop()
			}
		}
		if v == verdictThrottled {
			s.drop() // the relay wants fewer connections: this one goes
		}
		return res, v
	}
	// No reply: network error, timeout, TLS failure or cancelled context.
	res := model.SendResult{Outcome: model.Temporary, Reply: oneLine(st.String() + ": " + err.Error())}
	if st == stageMail && closedConn(err) {
		// The server closed the connection while it was idle (or the
		// relay went away): nothing of the message was offered.
		s.drop()
		return res, verdictRetry
	}
	if st == stageDot && s.tc != nil && s.tc.werr == nil {
		// The whole message and the final dot were handed to the network
		// and no reply came: the server may have accepted it. Retrying
		// (Temporary) can deliver it twice; that is the one repeat
		// design.md allows besides a crash's. Ambiguous lets the caller
		// count it.
		res.Ambiguous = true
		res.Reply = oneLine("connection lost after the message was sent: " + err.Error())
	}
	s.drop()
	return res, verdictDone
}

// isReply reports an error that is an SMTP reply (not a network error).
func isReply(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te)
}

// closedConn reports an error that says the peer closed the connection
// (not a timeout: a server that stops answering is not retried at once).
func closedConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

func (s *smtpConn) close() {
	if s.c == nil {
		return
	}
	_ = s.c.UpdateDeadline(min(s.timeout, 5*time.Second))
	if err := s.c.Quit(); err != nil {
		s.log.Debug("smtp quit failed", "error", err)
	}
	s.drop()
}
