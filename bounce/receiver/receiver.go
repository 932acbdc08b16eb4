package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// ErrTemporary, wrapped by an Accept error, makes the RCPT answer a
// temporary 451 instead of 550 (the caller cannot decide now, such as a
// database that is down).
var ErrTemporary = errors.New("temporary failure")

// Options configures a Server.
type Options struct {
	// Addr is the address ListenAndServe listens on, such as
	// "127.0.0.1:2525".
	Addr string
	// Domain is the name in the greeting and EHLO reply; "localhost"
	// when empty.
	Domain string
	// MaxBytes is the largest message accepted; 10 MiB when zero.
	MaxBytes int64
	// MaxRecipients limits RCPT TO per message; 50 when zero.
	MaxRecipients int
	// ReadTimeout and WriteTimeout bound each network read and write; a
	// minute each when zero.
	ReadTimeout, WriteTimeout time.Duration
	// DeliverTimeout bounds one Deliver call; 30 seconds when zero.
	DeliverTimeout time.Duration
	// ShutdownGrace is how long Serve waits, once its context ends, for
	// sessions to finish before closing them; 10 seconds when zero.
	ShutdownGrace time.Duration
	// Accept decides each recipient (RCPT TO): nil accepts; an error
	// wrapping ErrTemporary answers 451; any other error 550. Required.
	Accept func(rcpt string) error
	// Deliver receives each accepted message with its accepted recipients.
	// An error answers 451 so the sender retries. Required.
	Deliver func(ctx context.Context, rcpts []string, raw []byte) error
	// Logger receives one line per refused recipient and failed delivery;
	// slog.Default() when nil.
	Logger *slog.Logger
}

// Server is an SMTP server for bounce mail.
type Server struct {
	opts Options
	log  *slog.Logger
}

// New checks the options and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Accept == nil || opts.Deliver == nil {
		return nil, errors.New("receiver: Accept and Deliver are required")
	}
	if opts.MaxBytes < 0 || opts.MaxRecipients < 0 {
		return nil, errors.New("receiver: negative MaxBytes or MaxRecipients")
	}
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 10 << 20
	}
	if opts.MaxRecipients == 0 {
		opts.MaxRecipients = 50
	}
	opts.ReadTimeout = orDefault(opts.ReadTimeout, time.Minute)
	opts.WriteTimeout = orDefault(opts.WriteTimeout, time.Minute)
	opts.DeliverTimeout = orDefault(opts.DeliverTimeout, 30*time.Second)
	opts.ShutdownGrace = orDefault(opts.ShutdownGrace, 10*time.Second)
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Server{opts: opts, log: log}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ListenAndServe listens on Options.Addr and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("receiver: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve answers SMTP on ln until ctx ends, then shuts down gracefully and
// returns nil; it returns an error when the listener fails. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Deliveries outlive the serve context during the grace period; they
	// are cancelled when the server closes for good.
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	srv := smtp.NewServer(&backend{s: s, ctx: base})
	srv.Domain = s.opts.Domain
	srv.MaxMessageBytes = s.opts.MaxBytes
	srv.MaxRecipients = s.opts.MaxRecipients
	srv.ReadTimeout = s.opts.ReadTimeout
	srv.WriteTimeout = s.opts.WriteTimeout
	srv.ErrorLog = logAdapter{s.log}

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		_ = srv.Close()
		return fmt.Errorf("receiver: serve: %w", err)
	case <-ctx.Done():
	}
	grace, stop := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownGrace)
	defer stop()
	if err := srv.Shutdown(grace); err != nil {
		cancel()
		_ = srv.Close()
		s.log.Warn("bounce receiver closed sessions after the grace period", "grace", s.opts.ShutdownGrace)
	}
	<-done
	return nil
}

// backend makes one session per connection.
type backend struct {
	s   *Server
	ctx context.Context
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, ctx: b.ctx, remote: c.Conn().RemoteAddr().String()}, nil
}

// session is one SMTP connection's state. It implements no AUTH.
type session struct {
	s      *Server
	ctx    context.Context
	remote string
	rcpts  []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error { ss.rcpts = ss.rcpts[:0]; return nil }

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.s.opts.Accept(to); err != nil {
		ss.s.log.Info("bounce receiver refused recipient", "rcpt", to, "remote", ss.remote, "err", err)
		if errors.Is(err, ErrTemporary) {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Cannot take mail for this address now, try again later"}
		}
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such recipient here"}
	}
	for _, r := range ss.rcpts {
		if strings.EqualFold(r, to) {
			return nil
		}
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // go-smtp's ErrDataTooLarge is a 552
	}
	ctx, cancel := context.WithTimeout(ss.ctx, ss.s.opts.DeliverTimeout)
	defer cancel()
	if err := ss.s.opts.Deliver(ctx, append([]string(nil), ss.rcpts...), raw); err != nil {
		ss.s.log.Warn("bounce receiver could not deliver", "rcpts", len(ss.rcpts), "bytes", len(raw), "remote", ss.remote, "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Cannot record the message now, try again later"}
	}
	return nil
}

func (ss *session) Reset()        { ss.rcpts = ss.rcpts[:0] }
func (ss *session) Logout() error { return nil }

// logAdapter sends go-smtp's error log to slog.
type logAdapter struct{ l *slog.Logger }

func (a logAdapter) Printf(format string, v ...any) {
	a.l.Warn("bounce receiver smtp error", "detail", fmt.Sprintf(format, v...))
}

func (a logAdapter) Println(v ...any) {
	a.l.Warn("bounce receiver smtp error", "detail", strings.TrimSpace(fmt.Sprintln(v...)))
}
