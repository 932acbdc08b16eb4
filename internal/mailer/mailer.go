package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// Metrics receives what the mailer observes; internal/server can back it
// with Prometheus counters. Nil funcs are skipped. They are called from the
// connections' goroutines and must be safe for concurrent use.
type Metrics struct {
	// Result is called after every Send with its result and duration
	// (rate-limit wait included). res.Ambiguous counts the messages that may
	// be repeated by a retry.
	Result func(res model.SendResult, took time.Duration)
	// Dial is called after every SMTP connection attempt (nil error: the
	// connection is ready: greeted, TLS and AUTH done).
	Dial func(err error)
}

// Option configures a Mailer. Options validate their argument.
type Option func(*Mailer) error

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(m *Mailer) error {
		if l == nil {
			return errors.New("mailer: nil logger")
		}
		m.log = l
		return nil
	}
}

// WithClock sets the clock used for a message without a Date, for DKIM's
// t= tag and for .eml file names (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(m *Mailer) error {
		if now == nil {
			return errors.New("mailer: nil clock")
		}
		m.now = now
		return nil
	}
}

// WithTLSConfig replaces the TLS client configuration used for STARTTLS and
// implicit TLS (default: system roots, ServerName smtp.host, TLS 1.2+).
// Tests use it to trust a self-signed server.
func WithTLSConfig(c *tls.Config) Option {
	return func(m *Mailer) error {
		if c == nil {
			return errors.New("mailer: nil TLS config")
		}
		m.tlsConfig = c.Clone()
		return nil
	}
}

// WithMetrics sets the metrics hooks.
func WithMetrics(x Metrics) Option {
	return func(m *Mailer) error {
		if x.Result == nil && x.Dial == nil {
			return errors.New("mailer: metrics without any hook")
		}
		m.metrics = x
		return nil
	}
}

// Mailer sends composed messages over SMTP or writes them as .eml files,
// as smtp.transport says. It owns its connections: smtp.max_connections of
// them, each served by one goroutine that takes the next message handed to
// Send. Nothing outside the package knows how many there are or which one
// carries a message.
type Mailer struct {
	cfg       config.SMTP
	log       *slog.Logger
	now       func() time.Time
	tlsConfig *tls.Config
	metrics   Metrics
	dkim      *dkimSettings
	limiter   *rate.Limiter // nil: no limit
	transport transport
	bufs      sync.Pool

	jobs     chan job      // unbuffered: a hand-over is a connection taking the message
	quit     chan struct{} // closed by Close
	conns    sync.WaitGroup
	closeOne sync.Once
	closeErr error
}

// job is one message on its way to a connection.
type job struct {
	msg    *model.Message
	record func(model.SendResult)
}

// transport delivers one rendered message on connection conn.
type transport interface {
	send(ctx context.Context, conn int, env envelope, raw []byte) model.SendResult
	close() error
}

// envelope is what a transport needs besides the message bytes.
type envelope struct {
	from, to  string // bare SMTP MAIL FROM and RCPT TO addresses
	messageID string
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("mailer: closed")

// New builds a Mailer from the smtp config and starts its connection
// goroutines. For transport smtp it does not connect: each connection is
// dialled on its first message. A DKIM key that cannot be read is an error
// here, not at send time.
func New(cfg config.SMTP, opts ...Option) (*Mailer, error) {
	m := &Mailer{cfg: cfg, log: slog.Default(), now: time.Now, jobs: make(chan job), quit: make(chan struct{})}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(m); err != nil {
			return nil, err
		}
	}
	if cfg.MaxConnections < 1 {
		return nil, fmt.Errorf("mailer: smtp.max_connections must be at least 1, got %d", cfg.MaxConnections)
	}
	if cfg.From != "" {
		if _, err := netmail.ParseAddress(cfg.From); err != nil {
			return nil, fmt.Errorf("mailer: smtp.from %q: %w", cfg.From, err)
		}
	}
	var err error
	if m.dkim, err = loadDKIM(cfg.DKIM); err != nil {
		return nil, err
	}
	switch cfg.Transport {
	case "file":
		if m.transport, err = newFileTransport(cfg.FileDir, m.now); err != nil {
			return nil, err
		}
	case "smtp", "":
		if cfg.RatePerSecond < 0 {
			return nil, fmt.Errorf("mailer: smtp.rate_per_second must be 0 or more, got %v", cfg.RatePerSecond)
		}
		if cfg.RatePerSecond > 0 {
			// Burst 1: messages are spaced evenly, never bunched.
			m.limiter = rate.NewLimiter(rate.Limit(cfg.RatePerSecond), 1)
		}
		if m.transport, err = newSMTPTransport(cfg, m.tlsConfig, m.log, m.metrics.Dial); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("mailer: smtp.transport must be smtp or file, got %q", cfg.Transport)
	}
	for conn := range cfg.MaxConnections {
		m.conns.Go(func() { m.serve(conn) })
	}
	return m, nil
}

// Send hands msg to the next free connection, waiting for one, and returns
// nil once a connection has taken it. That connection composes and sends
// the message to the end (smtp.timeout bounds it: a transaction abandoned
// midway would leave its outcome unknown), then calls record with the
// result, and starts no other message until record returns — so the caller
// decides when a result is durable before the connection moves on. Send
// never retries: the result is classified (accepted, temporary, permanent)
// and the caller decides what happens next.
//
// ctx bounds the wait for a connection (and smtp.rate_per_second's pacing).
// When Send returns an error — ctx ended, or the mailer is closed
// (ErrClosed) — the message was not handed over and record is never
// called. Send may be called from any number of goroutines.
func (m *Mailer) Send(ctx context.Context, msg *model.Message, record func(model.SendResult)) error {
	if record == nil {
		return errors.New("mailer: Send without a record func")
	}
	select {
	case <-m.quit:
		return ErrClosed
	default:
	}
	if m.limiter != nil {
		if err := m.limiter.Wait(ctx); err != nil {
			return fmt.Errorf("mailer: rate limit: %w", err)
		}
	}
	select {
	case m.jobs <- job{msg: msg, record: record}:
		return nil
	case <-m.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serve is one connection's loop: take a message, send it, report it.
func (m *Mailer) serve(conn int) {
	for {
		select {
		case <-m.quit:
			return
		case j := <-m.jobs:
			start := time.Now()
			res := m.deliver(conn, j.msg)
			if m.metrics.Result != nil {
				m.metrics.Result(res, time.Since(start))
			}
			if res.Ambiguous {
				m.log.Warn("mail may have been delivered: connection lost after the message was sent",
					"message_id", msgID(j.msg), "reply", res.Reply)
			}
			j.record(res)
		}
	}
}

// deliver composes msg and sends it on connection conn. A message that
// cannot be composed (a header value with CR or LF, a bad address or
// Message-ID) is Permanent with Code 0. msg.From and msg.ReplyTo default to
// smtp.from and smtp.reply_to.
func (m *Mailer) deliver(conn int, msg *model.Message) model.SendResult {
	if msg == nil {
		return model.SendResult{Outcome: model.Permanent, Reply: "mailer: nil message"}
	}
	cp := *msg
	if cp.From == "" {
		cp.From = m.cfg.From
	}
	if cp.ReplyTo == "" {
		cp.ReplyTo = m.cfg.ReplyTo
	}
	buf, _ := m.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			m.bufs.Put(buf)
		}
	}()
	if err := render(buf, &cp, composeOptions{now: m.now, signer: m.dkim}); err != nil {
		return model.SendResult{Outcome: model.Permanent, Reply: oneLine(err.Error())}
	}
	from, err := netmail.ParseAddress(cp.From) // checked by render
	if err != nil {
		return model.SendResult{Outcome: model.Permanent, Reply: oneLine("mailer: from: " + err.Error())}
	}
	envFrom := from.Address
	if cp.ReturnPath != "" {
		envFrom = string(cp.ReturnPath) // VERP: bounces name the message
	}
	return m.transport.send(context.Background(), conn, envelope{from: envFrom, to: string(cp.ToAddr), messageID: cp.MessageID}, buf.Bytes())
}

// Close stops taking messages, waits for every connection to finish the
// message it is on (and its record call), then closes the connections
// (QUIT). Send after Close returns ErrClosed.
func (m *Mailer) Close() error {
	m.closeOne.Do(func() {
		close(m.quit)
		m.conns.Wait()
		m.closeErr = m.transport.close()
	})
	return m.closeErr
}

func msgID(msg *model.Message) string {
	if msg == nil {
		return ""
	}
	return msg.MessageID
}
