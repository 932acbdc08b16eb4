package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TLSMode says how the connection is secured.
type TLSMode int

// TLS modes.
const (
	TLSImplicit TLSMode = iota // TLS from the first byte (IMAPS, port 993)
	TLSStartTLS                // plain connection upgraded with STARTTLS (port 143)
	TLSNone                    // no TLS: only for a server on loopback
)

// After is what happens to a message once Handle accepted it.
type After int

// Afters.
const (
	MarkSeen After = iota // set \Seen and leave it in the mailbox
	Move                  // move it to Options.MoveTo
	Delete                // set \Deleted and expunge it
)

// Options configures a Poller.
type Options struct {
	Addr               string // host:port of the IMAP server
	Username, Password string
	// Mailbox is the mailbox polled; "INBOX" when empty.
	Mailbox string
	TLS     TLSMode
	// TLSConfig sets roots and server name for TLSImplicit and
	// TLSStartTLS; nil uses the system roots and the host of Addr.
	TLSConfig *tls.Config
	// After says what happens to a handled message; MoveTo names the
	// mailbox for Move.
	After  After
	MoveTo string
	// Interval is the time between passes of Run; a minute when zero.
	Interval time.Duration
	// MaxBytes skips (and then treats as handled) messages larger than
	// this; 10 MiB when zero.
	MaxBytes int64
	// Batch is the most messages one pass takes; 100 when zero.
	Batch int
	// Timeout bounds dialling and each command; 30 seconds when zero.
	Timeout time.Duration
	// Handle receives each new message. Required.
	Handle func(ctx context.Context, raw []byte) error
	// Sleep waits between passes; a timer when nil (tests pass a clock's).
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives a line per failed pass (Run) and per message
	// skipped for its size; slog.Default() when nil.
	Logger *slog.Logger
}

// Poller polls one mailbox.
type Poller struct {
	o   Options
	log *slog.Logger
}

// New checks the options and returns a Poller.
func New(o Options) (*Poller, error) {
	switch {
	case o.Addr == "" || o.Username == "":
		return nil, errors.New("mailbox: Addr and Username are required")
	case o.Handle == nil:
		return nil, errors.New("mailbox: Handle is required")
	case o.After == Move && o.MoveTo == "":
		return nil, errors.New("mailbox: After is Move but MoveTo is empty")
	case o.After < MarkSeen || o.After > Delete || o.TLS < TLSImplicit || o.TLS > TLSNone:
		return nil, errors.New("mailbox: unknown After or TLS mode")
	}
	if o.Mailbox == "" {
		o.Mailbox = "INBOX"
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 10 << 20
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Poller{o: o, log: log.With("mailbox", o.Mailbox, "addr", o.Addr)}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Run polls until ctx ends, then returns nil. A failed pass is logged and
// retried at the next interval.
func (p *Poller) Run(ctx context.Context) error {
	for {
		if n, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("bounce mailbox poll failed", "handled", n, "err", err)
		}
		if err := p.o.Sleep(ctx, p.o.Interval); err != nil || ctx.Err() != nil {
			return nil
		}
	}
}

// Poll makes one pass: it hands every new message to Handle and returns
// how many it handled.
func (p *Poller) Poll(ctx context.Context) (int, error) {
	c, err := p.dial()
	if err != nil {
		return 0, fmt.Errorf("mailbox: connect %s: %w", p.o.Addr, err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	n, err := p.pass(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			err = errors.Join(err, ctx.Err())
		}
		return n, fmt.Errorf("mailbox: %w", err)
	}
	if err := c.Logout().Wait(); err != nil {
		p.log.Debug("bounce mailbox logout failed", "err", err)
	}
	return n, nil
}

func (p *Poller) dial() (*imapclient.Client, error) {
	opts := &imapclient.Options{TLSConfig: p.o.TLSConfig, Dialer: &net.Dialer{Timeout: p.o.Timeout}}
	switch p.o.TLS {
	case TLSStartTLS:
		return imapclient.DialStartTLS(p.o.Addr, opts)
	case TLSNone:
		return imapclient.DialInsecure(p.o.Addr, opts)
	}
	return imapclient.DialTLS(p.o.Addr, opts)
}

// pass logs in, finds the new messages and handles each.
func (p *Poller) pass(ctx context.Context, c *imapclient.Client) (int, error) {
	if err := c.Login(p.o.Username, p.o.Password).Wait(); err != nil {
		return 0, fmt.Errorf("login as %q: %w", p.o.Username, err)
	}
	if _, err := c.Select(p.o.Mailbox, nil).Wait(); err != nil {
		return 0, fmt.Errorf("select %q: %w", p.o.Mailbox, err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("search: %w", err)
	}
	uids := data.AllUIDs()
	if len(uids) > p.o.Batch {
		uids = uids[:p.o.Batch]
	}
	n := 0
	for _, uid := range uids {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		ok, err := p.one(ctx, c, uid)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// one fetches, hands over and settles one message. It returns false
// without error when the message is gone.
func (p *Poller) one(ctx context.Context, c *imapclient.Client, uid imap.UID) (bool, error) {
	set := imap.UIDSetNum(uid)
	size, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return false, fmt.Errorf("fetch size of %d: %w", uid, err)
	}
	if len(size) == 0 {
		return false, nil // expunged meanwhile
	}
	if size[0].RFC822Size > p.o.MaxBytes {
		p.log.Warn("bounce mailbox skipped a message over the size limit", "uid", uid, "bytes", size[0].RFC822Size)
		return true, p.settle(c, set)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return false, fmt.Errorf("fetch %d: %w", uid, err)
	}
	if len(msgs) == 0 {
		return false, nil
	}
	raw := msgs[0].FindBodySection(section)
	if err := p.o.Handle(ctx, raw); err != nil {
		// Left unseen for the next pass; the rest wait too, since what
		// failed (the store) would most likely fail for them as well.
		return false, fmt.Errorf("handle message %d (left for the next pass): %w", uid, err)
	}
	return true, p.settle(c, set)
}

// settle applies After to a handled message.
func (p *Poller) settle(c *imapclient.Client, set imap.UIDSet) error {
	switch p.o.After {
	case Move:
		if _, err := c.Move(set, p.o.MoveTo).Wait(); err != nil {
			return fmt.Errorf("move to %q: %w", p.o.MoveTo, err)
		}
		return nil
	case Delete:
		if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return fmt.Errorf("flag deleted: %w", err)
		}
		var expunge *imapclient.ExpungeCommand
		if c.Caps().Has(imap.CapUIDPlus) || c.Caps().Has(imap.CapIMAP4rev2) {
			expunge = c.UIDExpunge(set) // only this message
		} else {
			expunge = c.Expunge()
		}
		if err := expunge.Close(); err != nil {
			return fmt.Errorf("expunge: %w", err)
		}
		return nil
	}
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		return fmt.Errorf("flag seen: %w", err)
	}
	return nil
}
