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
	// Result is called once per message handed to Send, with its result
	// and the time from its first connection to the result (rate-limit
	// waits and tries on other relays included). res.Ambiguous counts the
	// messages that may be repeated by a retry.
	Result func(res model.SendResult, took time.Duration)
	// Dial is called after every SMTP connection attempt (nil error: the
	// connection is ready: greeted, TLS and AUTH done).
	Dial func(err error)
	// RelayUp is called with each relay's name (host:port) and true when
	// the mailer starts, false when the relay is benched (refused
	// connections, TLS or AUTH, or refused the sender or itself), and true
	// again when it next carries a message.
	RelayUp func(relay string, up bool)
	// RelayAttempt is called after every try of a message on a relay with
	// the relay's name and what came of it: accepted, temporary,
	// permanent (results for the caller), or rerouted, throttled,
	// retried (the message went on to another try).
	RelayAttempt func(relay, outcome string)
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
// t= tag, for .eml file names and for benching relays (default time.Now).
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
// implicit TLS (default: system roots, ServerName the relay's host, TLS
// 1.2+). Tests use it to trust a self-signed server.
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
		if x.Result == nil && x.Dial == nil && x.RelayUp == nil && x.RelayAttempt == nil {
			return errors.New("mailer: metrics without any hook")
		}
		m.metrics = x
		return nil
	}
}

// Mailer sends composed messages over SMTP, through one or more relays, or
// writes them as .eml files, as smtp.transport says. It owns its
// connections: each relay's max_connections of them, each served by one
// goroutine. Nothing outside the package knows how many there are or which
// one carries a message.
type Mailer struct {
	cfg       config.SMTP
	log       *slog.Logger
	now       func() time.Time
	tlsConfig *tls.Config
	metrics   Metrics
	dkim      *dkimSettings
	from      *netmail.Address // smtp.from, parsed
	lines     *lineCache
	addrs     addrCache
	// bufs are free message buffers, at most two per connection plus two:
	// a free list rather than a sync.Pool, which send-now's frequent
	// collections (GOGC 35) emptied every few hundred messages, so each
	// buffer was grown afresh (13 % of what a 100k send-now allocated).
	bufs chan *assembled

	relays []*relay

	mu     sync.Mutex
	wake   chan struct{} // closed and replaced when a connection is freed or a relay changes
	closed bool

	ctx      context.Context // ends at Close: bounds tries on other relays
	cancel   context.CancelFunc
	quit     chan struct{} // closed by Close
	conns    sync.WaitGroup
	pending  sync.WaitGroup // reroutes not yet done
	closeOne sync.Once
}

// envelope is what a connection needs besides the message bytes. It is
// derived from the message in one place, envelopeOf.
type envelope struct {
	from, to  string // bare SMTP MAIL FROM and RCPT TO addresses
	messageID string
	utf8      bool // an address needs SMTPUTF8 (RFC 6531)
	// crlf: every line of the message ends in CR-LF after a byte other
	// than CR (checked.crlf), so its DATA is the message with a "." in
	// front of each line that starts with one, which begin at cuts: on a
	// plain connection, the message's own buffer cut there, with no copy.
	crlf bool
	cuts []int
}

// job is one message on its way through the mailer.
type job struct {
	msg    *model.Message
	record func(model.SendResult)
	utf8   bool
	start  time.Time

	env      envelope
	raw      *assembled // assembled once, kept for a try on another relay
	excluded []bool     // relays that failed this message for good
	excl     [4]bool    // excluded's room for up to four relays
	tries    int
	last     model.SendResult // the last relay's result
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("mailer: closed")

// lineCacheBytes bounds a generation of the shared encodings of identical
// template lines, charged with their text (see lineCache).
const lineCacheBytes = 512 << 10

// New builds a Mailer from the smtp config and starts its connection
// goroutines. For transport smtp it does not connect: each connection is
// dialled on its first message. A DKIM key that cannot be read is an error
// here, not at send time.
func New(cfg config.SMTP, opts ...Option) (*Mailer, error) {
	m := &Mailer{cfg: cfg, log: slog.Default(), now: time.Now, quit: make(chan struct{}), wake: make(chan struct{}),
		lines: newLineCache(lineCacheBytes)}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(m); err != nil {
			return nil, err
		}
	}
	if cfg.From != "" {
		from, err := netmail.ParseAddress(cfg.From)
		if err != nil {
			return nil, fmt.Errorf("mailer: smtp.from %q: %w", cfg.From, err)
		}
		m.from = from
	}
	var err error
	if m.dkim, err = loadDKIM(cfg.DKIM); err != nil {
		return nil, err
	}
	switch cfg.Transport {
	case "file":
		err = m.fileRelay()
	case "smtp", "":
		err = m.smtpRelays()
	default:
		err = fmt.Errorf("mailer: smtp.transport must be smtp or file, got %q", cfg.Transport)
	}
	if err != nil {
		return nil, err
	}
	conns := 0
	for _, r := range m.relays {
		conns += len(r.conns)
	}
	m.bufs = make(chan *assembled, 2*conns+2)
	m.ctx, m.cancel = context.WithCancel(context.Background())
	for _, r := range m.relays {
		if m.metrics.RelayUp != nil && r.name != fileRelayName {
			m.metrics.RelayUp(r.name, true)
		}
		for _, c := range r.conns {
			m.conns.Go(func() { m.serve(c) })
		}
	}
	return m, nil
}

// fileRelay sets up the file transport as one relay of max_connections.
func (m *Mailer) fileRelay() error {
	if m.cfg.MaxConnections < 1 {
		return fmt.Errorf("mailer: smtp.max_connections must be at least 1, got %d", m.cfg.MaxConnections)
	}
	r := newRelay(fileRelayName, 1, nil, m.cfg.MaxConnections)
	for range m.cfg.MaxConnections {
		fc, err := newFileConn(m.cfg.FileDir, m.now)
		if err != nil {
			return err
		}
		m.add(r, fc)
	}
	m.relays = []*relay{r}
	return nil
}

// smtpRelays sets up smtp.relays (or the one relay of the single keys).
func (m *Mailer) smtpRelays() error {
	timeout := m.cfg.Timeout.D()
	if timeout <= 0 {
		return fmt.Errorf("mailer: smtp.timeout must be positive, got %s", m.cfg.Timeout)
	}
	for _, rc := range m.cfg.EffectiveRelays() {
		if rc.MaxConnections < 1 {
			return fmt.Errorf("mailer: smtp.max_connections must be at least 1, got %d (relay %s)", rc.MaxConnections, rc.Name())
		}
		if rc.RatePerSecond < 0 {
			return fmt.Errorf("mailer: smtp.rate_per_second must be 0 or more, got %v (relay %s)", rc.RatePerSecond, rc.Name())
		}
		var lim *rate.Limiter
		if rc.RatePerSecond > 0 {
			// Burst 1: messages are spaced evenly, never bunched.
			lim = rate.NewLimiter(rate.Limit(rc.RatePerSecond), 1)
		}
		r := newRelay(rc.Name(), max(rc.Weight, 1), lim, rc.MaxConnections)
		r.index = len(m.relays)
		for range rc.MaxConnections {
			sc, err := newSMTPConn(rc, timeout, m.tlsConfig, m.log, m.metrics.Dial)
			if err != nil {
				return err
			}
			m.add(r, sc)
		}
		m.relays = append(m.relays, r)
	}
	return nil
}

// Send hands msg to a connection of one of the relays, waiting for one,
// and returns nil once a connection has taken it: a free one, or one on a
// message that takes msg next (its lookahead, conn.go). The mailer then
// owns the message until it calls record, exactly once, with its result:
// it composes it once, sends it (smtp.timeout bounds each try), and when a
// relay fails it as a relay (unreachable, refusing the sender, throttling)
// tries the others before giving up with a Temporary result. Send never
// retries a result meant for the caller: accepted, temporary or permanent,
// the caller decides what happens next.
//
// Each connection calls record for its messages one at a time, in order,
// on its own goroutine, and sends its next message's data only after the
// previous message's record has returned: so when record makes a result
// durable before returning, a crash can leave at most one accepted but
// unrecorded message per connection (design.md's bound). A slow record
// holds up that connection: record should be quick (the outbox's is one
// write to the edition's journal).
//
// ctx bounds the wait for a connection (and the relay's rate_per_second
// pacing). When Send returns an error — ctx ended, or the mailer is closed
// (ErrClosed) — the message was not handed over and record is never
// called. Send may be called from any number of goroutines.
func (m *Mailer) Send(ctx context.Context, msg *model.Message, record func(model.SendResult)) error {
	if record == nil {
		return errors.New("mailer: Send without a record func")
	}
	j := &job{msg: msg, record: record, utf8: m.needsUTF8(msg)}
	if len(m.relays) <= len(j.excl) {
		j.excluded = j.excl[:len(m.relays)] // one allocation a message, not two
	} else {
		j.excluded = make([]bool, len(m.relays))
	}
	return m.dispatch(ctx, j, true)
}

// ComposesBody reports that the mailer composes a message from its Body
// (shared templates and values) whenever it is set, so a caller may leave
// Text and HTML empty (digest.BodyMailer).
func (m *Mailer) ComposesBody() bool { return true }

// Close stops taking messages, waits for every connection to finish the
// message it is on and for every record call, then closes the connections
// (QUIT). Send after Close returns ErrClosed.
func (m *Mailer) Close() error {
	m.closeOne.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		close(m.quit)
		m.cancel()
		m.conns.Wait()
		m.pending.Wait()
		for _, r := range m.relays {
			for _, c := range r.conns {
				c.tr.close()
			}
		}
	})
	return nil
}

// assembled is a message as assemble wrote it: its bytes, and where its
// lines that start with "." begin (checked.cuts). Both are kept for the
// next message (getBuf, putBuf).
type assembled struct {
	bytes.Buffer
	cuts []int
}

// getBuf returns an empty buffer, a free one when there is one.
func (m *Mailer) getBuf() *assembled {
	select {
	case b := <-m.bufs:
		return b
	default:
		return new(assembled)
	}
}

// putBuf frees b for the next message, unless the free list is full or
// b grew past 1 MiB (one huge message should not stay resident).
func (m *Mailer) putBuf(b *assembled) {
	if b == nil || b.Cap() > 1<<20 {
		return
	}
	b.Reset()
	b.cuts = b.cuts[:0]
	select {
	case m.bufs <- b:
	default:
	}
}
