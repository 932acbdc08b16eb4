package subscription

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/lease"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
)

// The worker: it applies the subscribe requests POST /subscribe recorded
// and sends the transactional mail queue with the outbox's promise — at
// least once, retried with backoff until smtp.max_attempts, nothing lost
// in a crash: a mail is queued in the database before anything is sent,
// and recorded sent only after the server accepted it; the connection
// takes its next message only once that record is written, so a crash
// repeats at most the message each connection had in flight. One process
// at a time sends the queue: it holds the mailLease while it does (a
// killed holder's lease is taken over at once, as a digest's is).

// mailLease is the lease key of the transactional mail queue (not a valid
// digest name, so it never meets one).
const mailLease = ":mail"

// ErrQueued says a mail was queued but another process (the daemon) holds
// the queue and sends it.
var ErrQueued = errors.New("subscription: mail queued; the process sending the queue (the daemon) sends it")

// retryEvery is the longest the worker sleeps between passes.
const retryEvery = 30 * time.Second

// Run applies recorded subscribe requests and sends due transactional
// mail until ctx ends: at once when a request is recorded, else when the
// next retry falls due (at least every 30s).
func (s *Service) Run(ctx context.Context) error {
	for {
		if err := s.pass(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("subscription worker pass failed", "err", err)
		}
		wait := retryEvery
		if next, ok, err := s.queue.NextMailAttempt(ctx); err == nil && ok {
			wait = min(wait, max(next.Sub(s.now()), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.nudge:
		case <-t.C:
		}
		t.Stop()
	}
}

// Wait applies every subscribe request recorded so far and sends every
// transactional mail due now, returning when each has its result (a
// failure is logged and left for the next pass). It catches up without
// Run: for tests and commands.
func (s *Service) Wait() {
	if err := s.pass(context.Background()); err != nil {
		s.log.Error("subscription worker pass failed", "err", err)
	}
}

// pass is one worker pass: the recorded requests, then the due mail.
func (s *Service) pass(ctx context.Context) error {
	s.passMu.Lock()
	defer s.passMu.Unlock()
	return errors.Join(s.handleIntake(ctx), s.sendDue(ctx))
}

// handleIntake applies the recorded subscribe requests, oldest first. A
// request whose rules fail for a reason of its own (a digest no longer
// configured) is dropped with a log line; one that fails on the database
// stays for the next pass.
func (s *Service) handleIntake(ctx context.Context) error {
	for {
		batch, err := s.intake.Intakes(ctx, 100)
		if err != nil || len(batch) == 0 {
			return err
		}
		for _, in := range batch {
			if err := s.handleOne(ctx, in); err != nil {
				if model.ErrorCode(err) == model.EINTERNAL {
					return fmt.Errorf("subscription: subscribe request %d: %w", in.ID, err)
				}
				s.log.Warn("subscribe request dropped", "request", in.ID, "err", err)
			}
			if err := s.intake.DeleteIntake(ctx, in.ID); err != nil {
				return err
			}
		}
	}
}

func (s *Service) handleOne(ctx context.Context, in model.Intake) error {
	c, err := s.check(ctx, Request{Email: string(in.Email), Name: in.Name, Digest: in.Digest,
		Sections: in.Sections, Authors: in.Authors, Timezone: in.Timezone})
	if err != nil {
		return err
	}
	_, _, err = s.apply(ctx, c, false)
	return err
}

// sendDue sends the transactional mails due now, unless another process
// holds the queue.
func (s *Service) sendDue(ctx context.Context) error {
	if s.mailer == nil {
		return nil // a command that sends nothing
	}
	if due, err := s.queue.DueMail(ctx, s.now(), 1); err != nil || len(due) == 0 {
		return err
	}
	lctx, release, err := s.leases.Acquire(ctx, mailLease)
	if errors.Is(err, lease.ErrHeld) {
		return nil
	}
	if err != nil {
		return err
	}
	defer release()
	ctx = lctx
	for {
		due, err := s.queue.DueMail(ctx, s.now(), 50)
		if err != nil || len(due) == 0 {
			return err
		}
		var wg sync.WaitGroup
		for _, m := range due {
			if err := s.sendMail(ctx, m, &wg, nil); err != nil {
				wg.Wait()
				return err
			}
		}
		wg.Wait()
		if len(due) < 50 {
			return nil
		}
	}
}

// sendQueued sends the queued mail id now and returns its result.
func (s *Service) sendQueued(ctx context.Context, id int64) (model.SendResult, error) {
	if s.mailer == nil {
		return model.SendResult{}, errors.New("subscription: no mailer configured")
	}
	lctx, release, err := s.leases.Acquire(ctx, mailLease)
	if errors.Is(err, lease.ErrHeld) {
		return model.SendResult{}, ErrQueued
	}
	if err != nil {
		return model.SendResult{}, err
	}
	defer release()
	ctx = lctx
	m, err := s.queue.MailByID(ctx, id)
	if err != nil {
		return model.SendResult{}, err
	}
	var (
		wg  sync.WaitGroup
		res model.SendResult
	)
	if err := s.sendMail(ctx, m, &wg, &res); err != nil {
		return res, err
	}
	wg.Wait()
	return res, nil
}

// sendMail composes pending mail m and hands it to the mailer; the
// connection records the result (and stores it in *res when res is not
// nil) before taking its next message. wg counts the message until then.
// A mail to an address suppressed since it was queued is cancelled.
func (s *Service) sendMail(ctx context.Context, m model.Mail, wg *sync.WaitGroup, res *model.SendResult) error {
	if m.Status != model.DeliveryPending {
		return nil
	}
	sub, err := s.store.SubscriberByID(ctx, m.SubscriberID)
	if err != nil {
		return err
	}
	_, blocked, err := s.suppressions(ctx, sub.Email)
	if err != nil {
		return err
	}
	if blocked || sub.Status == model.SubscriberErased || sub.Status == model.SubscriberComplained {
		m.Status, m.LastReply = model.DeliveryCancelled, "not sent: the address is suppressed or erased"
		return s.queue.RecordMail(ctx, m, false)
	}
	msg, err := s.message(ctx, m, sub, s.mailMessageID(m))
	if err != nil {
		// A template that fails for this mail fails every attempt.
		m.Status, m.Attempts, m.LastReply = model.DeliveryFailed, m.Attempts+1, sanitize.Line("compose: "+err.Error())
		s.log.Error("transactional mail failed to render", "mail", m.ID, "err", err)
		return s.queue.RecordMail(ctx, m, false)
	}
	wg.Add(1)
	err = s.mailer.Send(ctx, msg, func(r model.SendResult) {
		defer wg.Done()
		if res != nil {
			*res = r
		}
		s.record(m, msg, r)
	})
	if err != nil {
		wg.Done() // not handed over: it stays pending
	}
	return err
}

// mailMessageID is a transactional mail's Message-ID, the same on every
// attempt.
func (s *Service) mailMessageID(m model.Mail) string {
	return fmt.Sprintf("<%s.%d.m%d@%s>", m.Kind, m.SubscriberID, m.ID, s.domain())
}

// record stores one attempt's result before the connection moves on.
func (s *Service) record(m model.Mail, msg *model.Message, res model.SendResult) {
	m.Attempts++
	m.LastReply = sanitize.Line(res.Reply)
	bounced := false
	switch res.Outcome {
	case model.Accepted:
		m.Status, m.MessageID, m.SentAt = model.DeliverySent, msg.MessageID, s.now()
		s.log.Info("transactional mail sent", "mail", m.ID, "kind", m.Kind, "subscriber", m.SubscriberID)
	case model.Permanent:
		m.Status, bounced = model.DeliveryFailed, res.Bounce
		s.log.Warn("transactional mail refused", "mail", m.ID, "kind", m.Kind, "subscriber", m.SubscriberID, "reply", m.LastReply)
	default:
		if m.Attempts >= max(s.cfg.SMTP.MaxAttempts, 1) {
			m.Status, m.LastReply = model.DeliveryFailed, sanitize.Line(fmt.Sprintf("gave up after %d attempts: %s", m.Attempts, m.LastReply))
		} else {
			m.Status, m.NextAttemptAt = model.DeliveryPending, s.now().Add(s.opt.Backoff(m.Attempts))
		}
	}
	// Not the caller's context: a result the server gave is recorded even
	// while stopping.
	if err := s.queue.RecordMail(context.Background(), m, bounced); err != nil {
		s.log.Error("transactional mail result not recorded; it will be sent again", "mail", m.ID, "err", err)
	}
}
