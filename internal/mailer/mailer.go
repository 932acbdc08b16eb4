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
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// Metrics receives what the mailer observes; internal/server can back it
// with Prometheus counters. Nil funcs are skipped. They are called from the
// outbox workers' goroutines and must be safe for concurrent use.
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
// as smtp.transport says. It implements digest.Sender: Send may be called
// concurrently with distinct worker indexes in [0, Workers()).
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
	closed    atomic.Bool
}

// transport delivers one rendered message.
type transport interface {
	send(ctx context.Context, worker int, env envelope, raw []byte) model.SendResult
	close() error
}

// envelope is what a transport needs besides the message bytes.
type envelope struct {
	from, to  string // bare SMTP MAIL FROM and RCPT TO addresses
	messageID string
}

// New builds a Mailer from the smtp config. For transport smtp it does not
// connect: each worker dials its connection on its first Send. A DKIM key
// that cannot be read is an error here, not at send time.
func New(cfg config.SMTP, opts ...Option) (*Mailer, error) {
	m := &Mailer{cfg: cfg, log: slog.Default(), now: time.Now}
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
	return m, nil
}

// Workers is smtp.max_connections: one connection per outbox worker.
func (m *Mailer) Workers() int { return m.cfg.MaxConnections }

// Send delivers msg using worker's connection and classifies the result.
// It never retries. msg.From and msg.ReplyTo default to smtp.from and
// smtp.reply_to. A message that cannot be composed (a header value with CR
// or LF, a bad address or Message-ID) is Permanent with Code 0.
func (m *Mailer) Send(ctx context.Context, worker int, msg *model.Message) model.SendResult {
	start := time.Now()
	res := m.send(ctx, worker, msg)
	if m.metrics.Result != nil {
		m.metrics.Result(res, time.Since(start))
	}
	if res.Ambiguous {
		m.log.Warn("mail may have been delivered: connection lost after the message was sent",
			"message_id", msgID(msg), "reply", res.Reply)
	}
	return res
}

func (m *Mailer) send(ctx context.Context, worker int, msg *model.Message) model.SendResult {
	if m.closed.Load() {
		return model.SendResult{Outcome: model.Temporary, Reply: "mailer: closed"}
	}
	if worker < 0 || worker >= m.Workers() {
		return model.SendResult{Outcome: model.Temporary, Reply: fmt.Sprintf("mailer: worker %d out of range [0,%d)", worker, m.Workers())}
	}
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
	if m.limiter != nil {
		if err := m.limiter.Wait(ctx); err != nil {
			return model.SendResult{Outcome: model.Temporary, Reply: oneLine("mailer: rate limit: " + err.Error())}
		}
	}
	if err := ctx.Err(); err != nil {
		return model.SendResult{Outcome: model.Temporary, Reply: oneLine("mailer: " + err.Error())}
	}
	from, err := netmail.ParseAddress(cp.From) // checked by render
	if err != nil {
		return model.SendResult{Outcome: model.Permanent, Reply: oneLine("mailer: from: " + err.Error())}
	}
	return m.transport.send(ctx, worker, envelope{from: from.Address, to: cp.ToAddr, messageID: cp.MessageID}, buf.Bytes())
}

// Close closes every connection (QUIT). Send after Close is Temporary.
func (m *Mailer) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	return m.transport.close()
}

func msgID(msg *model.Message) string {
	if msg == nil {
		return ""
	}
	return msg.MessageID
}
