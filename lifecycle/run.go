package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/heraldnews/herald/bounce/mailbox"
	"github.com/heraldnews/herald/bounce/receiver"
	"github.com/heraldnews/herald/internal/scheduler"
)

// housekeepEvery is how often Run prunes.
const housekeepEvery = time.Hour

// errNotOurs refuses a recipient the listener does not take (550).
var errNotOurs = errors.New("no such recipient here")

// Accept decides one recipient of the bounce listener: a VERP address
// whose token verifies, the bare bounces.address (feedback loops and
// forwarded reports arrive there) and a subscription's unsubscribe address
// are taken; anything else — another address, a forged or expired token —
// is refused (550). Nothing is relayed.
func (s *Service) Accept(rcpt string) error {
	switch s.opt.VERP.Parse(rcpt).Kind {
	case ToBounces, ToDelivery, ToMail, ToUnsubscribe:
		return nil
	}
	return errNotOurs
}

// deliver is the listener's Deliver: an error (only a failure to record
// now) answers 451, so the sending MTA tries again.
func (s *Service) deliver(source string) func(ctx context.Context, rcpts []string, raw []byte) error {
	return func(ctx context.Context, rcpts []string, raw []byte) error {
		_, err := s.HandleRaw(ctx, source, rcpts, raw)
		return err
	}
}

// Run serves the bounce listener (on ln, when not nil: the daemon binds
// bounces.listen at start, so a busy port is an error then), polls
// bounces.imap's mailbox and does the housekeeping, until ctx ends.
func (s *Service) Run(ctx context.Context, ln net.Listener) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	if ln != nil {
		srv, err := receiver.New(receiver.Options{Domain: s.domain(), MaxBytes: s.cfg.Bounces.MaxBytes,
			Accept: s.Accept, Deliver: s.deliver("smtp"), Logger: s.log})
		if err != nil {
			return err
		}
		wg.Go(func() {
			if err := srv.Serve(ctx, ln); err != nil {
				fail(fmt.Errorf("lifecycle: bounce listener: %w", err))
			}
		})
	}
	if im := s.cfg.Bounces.IMAP; im.Host != "" {
		p, err := s.poller()
		if err != nil {
			return err
		}
		wg.Go(func() {
			if err := p.Run(ctx); err != nil && ctx.Err() == nil {
				fail(fmt.Errorf("lifecycle: mailbox poll: %w", err))
			}
		})
	}
	wg.Go(func() {
		t := time.NewTicker(housekeepEvery)
		defer t.Stop()
		for {
			if err := s.Housekeep(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("housekeeping failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	wg.Wait()
	return errors.Join(errs...)
}

// domain is the bounce address's domain, for the listener's greeting.
func (s *Service) domain() string {
	if _, d := split(s.cfg.Bounces.Address); d != "" {
		return d
	}
	return "localhost"
}

// poller is the bounces.imap mailbox poll.
func (s *Service) poller() (*mailbox.Poller, error) {
	im := s.cfg.Bounces.IMAP
	tls := map[string]mailbox.TLSMode{"tls": mailbox.TLSImplicit, "starttls": mailbox.TLSStartTLS, "none": mailbox.TLSNone}[im.TLS]
	after := mailbox.MarkSeen
	if im.Delete {
		after = mailbox.Delete
	}
	return mailbox.New(mailbox.Options{Addr: net.JoinHostPort(im.Host, fmt.Sprint(im.Port)), Username: im.Username, Password: im.Password,
		Mailbox: im.Mailbox, TLS: tls, After: after, Interval: im.Interval.D(), MaxBytes: s.cfg.Bounces.MaxBytes,
		Handle: func(ctx context.Context, raw []byte) error {
			_, err := s.HandleRaw(ctx, "imap", nil, raw)
			return err
		}, Logger: s.log})
}

// Housekeep deletes subscribers who never confirmed within
// subscribers.pending_ttl and prunes delivery rows older than
// subscribers.delivery_retention, keeping the received-article records any
// digest's lookback can still need.
func (s *Service) Housekeep(ctx context.Context) error {
	hs := s.opt.Housekeeping
	if hs == nil {
		return nil
	}
	now := s.now()
	n, err := hs.PrunePending(ctx, now.Add(-s.cfg.Subscribers.PendingTTL.D()))
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("unconfirmed subscribers deleted", "count", n, "older_than", s.cfg.Subscribers.PendingTTL)
	}
	keep := now.Add(-s.maxLookback(now) - 24*time.Hour)
	if n, err = hs.PruneDeliveries(ctx, now.Add(-s.cfg.Subscribers.DeliveryRetention.D()), keep); err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("old deliveries pruned", "count", n, "older_than", s.cfg.Subscribers.DeliveryRetention)
	}
	return nil
}

// maxLookback is the longest window any digest's edition can look back
// over: its lookback, or else the longest gap between two of its slots in
// the year ahead (a manual edition looks back to the previous slot).
func (s *Service) maxLookback(now time.Time) time.Duration {
	var longest time.Duration
	for _, d := range s.cfg.Digests {
		if d.Lookback > 0 {
			longest = max(longest, d.Lookback.D())
			continue
		}
		sched, err := d.CronSchedule()
		if err != nil {
			continue
		}
		loc := d.Location()
		if prev, ok := scheduler.PreviousSlot(sched, loc, now); ok {
			longest = max(longest, now.Sub(prev.At))
		}
		t := now
		for i := 0; i < 10_000 && t.Before(now.Add(366*24*time.Hour)); i++ {
			next, ok := scheduler.NextSlot(sched, loc, t)
			if !ok {
				break
			}
			longest = max(longest, next.At.Sub(next.Previous))
			t = next.At
		}
	}
	return longest
}
