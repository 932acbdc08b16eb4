package digest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
)

// OutboxStore is what the send loop reads and writes.
type OutboxStore interface {
	// DueDeliveries pages through an edition's pending deliveries due at now.
	DueDeliveries(ctx context.Context, editionID int64, now time.Time, afterID int64, limit int) ([]model.Delivery, error)
	// CancelIneligible cancels the pending deliveries in (afterID, throughID]
	// whose subscriber or subscription has left since planning.
	CancelIneligible(ctx context.Context, editionID, afterID, throughID int64) (int64, error)
	EditionStatus(ctx context.Context, id int64) (string, error)
	// NextAttempt is the earliest retry time of the edition's pending deliveries.
	NextAttempt(ctx context.Context, editionID int64) (time.Time, bool, error)
	EditionCounts(ctx context.Context, id int64) (map[string]int, error)
	ArticlesByID(ctx context.Context, ids []int64) ([]model.Article, error)
	// RecordDeliveries stores attempts' results in one transaction, with the
	// articles each sent one carried; bounced subscribers are marked so.
	RecordDeliveries(ctx context.Context, ds []model.Delivery, bounced []int64) error
}

// outcome is one finished attempt on its way to be recorded.
type outcome struct {
	d      model.Delivery // with its new state
	bounce bool
	retry  bool
}

// pass sends every delivery of e due now once; while e is being planned
// (w set), every delivery planned until planning ends. Renderers compose messages
// and hand them to the Mailer; each connection reports a result through
// its record func, which records it (marks.add) and returns only once it
// is recorded. The mailer starts a connection's next message only after
// that, so a crash repeats at most one message per connection
// (design.md).
func (s *Service) pass(ctx context.Context, d config.Digest, e model.Edition, r *renderer, cache *articleCache, p *Progress, prog func(Progress), w *planWatch) error {
	if s.opt.Mailer == nil {
		return errors.New("digest: no mailer configured")
	}
	// A commit that fails stops the pass: whatever is sent after it could
	// not be recorded, and would all be sent again.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	renderers := max(runtime.GOMAXPROCS(0), 1)
	// Unbuffered: a cancel or a stop finds at most one delivery per
	// renderer taken and not yet handed over.
	jobs := make(chan *model.Delivery)
	mk := s.newMarks(ctx, stop, d, e.ID, p, prog, w)
	var inFlight sync.WaitGroup // messages handed to the Mailer, not yet reported
	var wg sync.WaitGroup
	for range renderers {
		wg.Go(func() {
			for del := range jobs {
				if ctx.Err() != nil {
					// Stopping: a delivery not yet handed over stays
					// pending, its attempts untouched, for the next run.
					continue
				}
				s.attempt(ctx, d, e, r, cache, del, mk, &inFlight)
			}
		})
	}
	feedErr := s.feed(ctx, e, cache, jobs, w)
	close(jobs)
	wg.Wait()
	inFlight.Wait()
	mErr := mk.close()
	if mErr != nil {
		feedErr = nil // the feed stopped because recording did
	}
	return errors.Join(feedErr, mErr)
}

// feed pages through the due deliveries and hands them to the renderers.
// While e is being planned (w set) it waits for each page planning
// writes, until planning ends; a planning failure ends it with that error.
func (s *Service) feed(ctx context.Context, e model.Edition, cache *articleCache, jobs chan<- *model.Delivery, w *planWatch) error {
	var after int64
	now := s.now()
	// cancelled reports whether an editor cancelled the edition meanwhile;
	// checked every statusEvery deliveries, so a cancel stops the sending
	// within that many messages rather than after a whole page.
	const statusEvery = 64
	cancelled := func() (bool, error) {
		st, err := s.opt.Outbox.EditionStatus(ctx, e.ID)
		return st == model.EditionCancelled, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		// Read before the page: a page planned after this read closes more.
		var more <-chan struct{}
		planned := true
		if w != nil {
			var err error
			if more, planned, err = w.state(); err != nil {
				return err
			}
		}
		page, err := s.opt.Outbox.DueDeliveries(ctx, e.ID, now, after, s.opt.PageSize)
		if err != nil {
			return err
		}
		// Someone who unsubscribed, bounced or was removed since planning
		// gets nothing, even from a delivery waiting for a retry: the page
		// is checked before it is sent, and read again while that cancels
		// any (the new page may reach past the checked ids).
		for len(page) > 0 {
			n, err := s.opt.Outbox.CancelIneligible(ctx, e.ID, after, page[len(page)-1].ID)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			s.log.Info("deliveries cancelled: subscriber left before sending", "edition", e.ID, "count", n)
			if page, err = s.opt.Outbox.DueDeliveries(ctx, e.ID, now, after, s.opt.PageSize); err != nil {
				return err
			}
		}
		if len(page) == 0 {
			if planned {
				return nil
			}
			select {
			case <-more:
				continue
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		if err := cache.load(ctx, page); err != nil {
			return err
		}
		// Each delivery is handed over in place: its renderer and its
		// connection's record use it from the page, which is not read
		// again (a copy of each escaped to the heap: 3 % of what a
		// send-now allocated).
		for i := range page {
			if i%statusEvery == 0 {
				if c, err := cancelled(); err != nil {
					return err
				} else if c {
					s.log.Info("edition cancelled: sending stopped", "edition", e.ID)
					return nil
				}
			}
			select {
			case jobs <- &page[i]:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		after = page[len(page)-1].ID
	}
}

// attempt renders one delivery and hands it to the Mailer, whose
// connection records the result (mk.add) before it sends another. del is
// the feed's page's: attempt owns it from here.
func (s *Service) attempt(ctx context.Context, d config.Digest, e model.Edition, r *renderer, cache *articleCache, del *model.Delivery, mk *marks, inFlight *sync.WaitGroup) {
	arts := cache.views(del.ArticleIDs)
	del.Attempts++
	if len(arts) == 0 {
		del.Status, del.LastReply = model.DeliverySkipped, "articles withdrawn before sending"
		_ = mk.add(outcome{d: *del})
		return
	}
	bm, bodyOnly := s.opt.Mailer.(BodyMailer)
	msg, err := s.composeBody(d, r, e, *del, arts, bodyOnly && bm.ComposesBody())
	if err != nil {
		// A template that fails for this data fails every attempt: record it.
		del.Status, del.LastReply = model.DeliveryFailed, sanitize.Line("render: "+err.Error())
		s.log.Error("digest render failed", "edition", e.ID, "delivery", del.ID, "err", err)
		_ = mk.add(outcome{d: *del})
		return
	}
	inFlight.Add(1)
	err = s.opt.Mailer.Send(ctx, msg, func(res model.SendResult) {
		defer inFlight.Done()
		_ = mk.add(s.judge(*del, msg, arts, res)) // a failure stops the pass
	})
	if err != nil {
		// Not handed over (stopping, or the mailer closed): the delivery
		// stays pending, its attempts untouched, for the next run.
		inFlight.Done()
	}
}

// judge works out a delivery's new state from its send result.
func (s *Service) judge(del model.Delivery, msg *model.Message, arts []*ArticleView, res model.SendResult) outcome {
	del.LastReply = sanitize.Line(res.Reply)
	del.Relay = res.Relay
	switch res.Outcome {
	case model.Accepted:
		del.Status, del.MessageID, del.SentAt = model.DeliverySent, msg.MessageID, s.now()
		del.ArticleIDs = make([]int64, len(arts))
		for i, a := range arts {
			del.ArticleIDs[i] = a.ID
		}
		return outcome{d: del}
	case model.Permanent:
		del.Status = model.DeliveryFailed
		return outcome{d: del, bounce: res.Bounce}
	default: // temporary, ambiguous, or unknown: retry while attempts last
		if del.Attempts >= max(s.cfg.SMTP.MaxAttempts, 1) {
			del.Status = model.DeliveryFailed
			del.LastReply = sanitize.Line(fmt.Sprintf("gave up after %d attempts: %s", del.Attempts, del.LastReply))
			return outcome{d: del}
		}
		del.Status = model.DeliveryPending
		del.NextAttemptAt = s.now().Add(s.opt.Backoff(del.Attempts))
		return outcome{d: del, retry: true}
	}
}

// marks records results as they come, on the goroutine that has each
// (a connection's, or a renderer's for a message never sent), with group
// commit: a result that arrives while another goroutine is recording
// waits, and the next of those waiting records every result waiting at
// once. Recording is one write to the edition's journal, applied to the
// database a segment at a time (record.go), or without a journal one
// transaction. No goroutine of its own: handing each result to one and
// back cost more than the write (docs/benchmarks.md). What a crash can
// repeat is the results handed over and not yet recorded: at most one
// per connection (design.md, docs/reliability.md). Progress is reported
// at most every MarkInterval. When recording fails (three tries), marks
// stops the pass (stop) and answers every later result with the error:
// those deliveries stay pending, to be sent again by a later run.
type marks struct {
	s         *Service
	stop      context.CancelCauseFunc
	editionID int64
	p         *Progress
	prog      func(Progress)
	rec       recorder
	plan      *planWatch // the edition's planning, running beside the pass (nil: none)

	mu      sync.Mutex
	turn    *sync.Cond // signalled when a group is recorded
	busy    bool       // a goroutine is recording a group
	waiting []*waiter  // results that came while it was
	free    []*waiter  // waiters done with, for the next results (one a result was 3 % of send-now's allocation)
	failed  error
	shown   time.Time
	batch   []outcome // the group being recorded (used by whoever records)
}

// waiter is one result waiting for the group that records it.
type waiter struct {
	o    outcome
	done bool
	err  error
}

func (s *Service) newMarks(ctx context.Context, stop context.CancelCauseFunc, d config.Digest, editionID int64, p *Progress, prog func(Progress), w *planWatch) *marks {
	mk := &marks{s: s, stop: stop, editionID: editionID, p: p, prog: prog, plan: w,
		rec: s.newRecorder(context.WithoutCancel(ctx), stop, d.Name, editionID)}
	mk.turn = sync.NewCond(&mk.mu)
	return mk
}

// add records o, with whatever other results are waiting, and returns
// once it is recorded (nil) or recording has failed.
func (mk *marks) add(o outcome) error {
	mk.mu.Lock()
	var w *waiter
	if n := len(mk.free); n > 0 {
		w, mk.free = mk.free[n-1], mk.free[:n-1]
		*w = waiter{o: o}
	} else {
		w = &waiter{o: o}
	}
	mk.waiting = append(mk.waiting, w)
	for mk.busy && !w.done {
		mk.turn.Wait()
	}
	if w.done {
		err := w.err
		mk.release(w)
		mk.mu.Unlock()
		return err
	}
	// This goroutine records the group: every result waiting, its own
	// among them.
	mk.busy = true
	group := mk.waiting
	mk.waiting = nil
	failed := mk.failed
	mk.mu.Unlock()

	err := failed
	if err == nil {
		mk.batch = mk.batch[:0]
		for _, g := range group {
			mk.batch = append(mk.batch, g.o)
		}
		if err = mk.rec.record(mk.batch); err != nil {
			mk.s.log.Error("recording deliveries failed: the pass stops", "edition", mk.editionID, "err", err)
			mk.stop(err)
		} else {
			for _, g := range group {
				count(mk.p, g.o)
			}
			if mk.prog != nil && time.Since(mk.shown) >= mk.s.opt.MarkInterval {
				mk.shown = time.Now()
				mk.report()
			}
		}
	}

	mk.mu.Lock()
	if err != nil && mk.failed == nil {
		mk.failed = err
	}
	for _, g := range group {
		g.done, g.err = true, err
	}
	if cap(mk.waiting) == 0 && cap(group) <= 64 {
		mk.waiting = group[:0] // reuse the slice for the next group
	}
	mk.busy = false
	mk.release(w)
	mk.turn.Broadcast()
	mk.mu.Unlock()
	return err
}

// release keeps w, whose add is returning, for a later result. Called
// with mk.mu held; the group slices that held w are truncated before
// they are used again.
func (mk *marks) release(w *waiter) {
	if len(mk.free) < 64 {
		*w = waiter{}
		mk.free = append(mk.free, w)
	}
}

// close waits until every result recorded is in the database (or
// applying them has failed), reports the final progress, and returns the
// first failure. Every add must have returned.
func (mk *marks) close() error {
	err := mk.rec.close()
	mk.mu.Lock()
	defer mk.mu.Unlock()
	if mk.prog != nil {
		mk.report()
	}
	if mk.failed != nil {
		return mk.failed
	}
	return err
}

// report shows the progress, with what planning has added since the
// edition's counts were read.
func (mk *marks) report() {
	p := *mk.p
	pending, skipped := mk.plan.planned()
	p.Total += pending
	p.Skipped += skipped
	mk.prog(p)
}

// count adds a committed result to the progress.
func count(p *Progress, o outcome) {
	switch {
	case o.d.Status == model.DeliverySent:
		p.Sent++
	case o.d.Status == model.DeliverySkipped:
		p.Skipped++
	case o.retry:
		p.Retry++
	default:
		p.Failed++
	}
}
