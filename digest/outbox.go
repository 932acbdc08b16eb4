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

// outcome is one finished attempt on its way to the marker. done, when
// set, is told the commit's result: the mailer's connection is waiting.
type outcome struct {
	d      model.Delivery // with its new state
	bounce bool
	retry  bool
	done   chan error
}

// pass sends every delivery of e due now once. Renderers compose messages
// and hand them to the Mailer; each connection reports a result through
// its record func, which hands it to the marker and returns only once the
// marker has committed it (group commit: the marker commits whatever
// results are waiting, from every connection, in one transaction). The
// mailer ends a connection's next message only after that, so a crash
// repeats at most one message per connection (design.md).
func (s *Service) pass(ctx context.Context, d config.Digest, e model.Edition, r *renderer, cache *articleCache, p *Progress, prog func(Progress)) error {
	if s.opt.Mailer == nil {
		return errors.New("digest: no mailer configured")
	}
	// A commit that fails stops the pass: whatever is sent after it could
	// not be recorded, and would all be sent again.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	renderers := max(runtime.GOMAXPROCS(0), 1)
	// Unbuffered, like results: a cancel or a stop finds at most one
	// delivery per renderer taken and not yet handed over.
	jobs := make(chan model.Delivery)
	results := make(chan outcome)
	markErr := make(chan error, 1)
	go func() { markErr <- s.marker(ctx, stop, d, e.ID, results, p, prog) }()
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
				s.attempt(ctx, d, e, r, cache, del, results, &inFlight)
			}
		})
	}
	feedErr := s.feed(ctx, e, cache, jobs)
	close(jobs)
	wg.Wait()
	inFlight.Wait()
	close(results)
	mErr := <-markErr
	if mErr != nil {
		feedErr = nil // the feed stopped because the marker did
	}
	return errors.Join(feedErr, mErr)
}

// feed pages through the due deliveries and hands them to the renderers.
func (s *Service) feed(ctx context.Context, e model.Edition, cache *articleCache, jobs chan<- model.Delivery) error {
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
			return nil
		}
		if err := cache.load(ctx, page); err != nil {
			return err
		}
		for i, del := range page {
			if i%statusEvery == 0 {
				if c, err := cancelled(); err != nil {
					return err
				} else if c {
					s.log.Info("edition cancelled: sending stopped", "edition", e.ID)
					return nil
				}
			}
			select {
			case jobs <- del:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		after = page[len(page)-1].ID
	}
}

// attempt renders one delivery and hands it to the Mailer, whose
// connection reports the result to the marker through results.
func (s *Service) attempt(ctx context.Context, d config.Digest, e model.Edition, r *renderer, cache *articleCache, del model.Delivery, results chan<- outcome, inFlight *sync.WaitGroup) {
	arts := cache.views(del.ArticleIDs)
	del.Attempts++
	if len(arts) == 0 {
		del.Status, del.LastReply = model.DeliverySkipped, "articles withdrawn before sending"
		results <- outcome{d: del}
		return
	}
	bm, bodyOnly := s.opt.Mailer.(BodyMailer)
	msg, err := s.composeBody(d, r, e, del, arts, bodyOnly && bm.ComposesBody())
	if err != nil {
		// A template that fails for this data fails every attempt: record it.
		del.Status, del.LastReply = model.DeliveryFailed, sanitize.Line("render: "+err.Error())
		s.log.Error("digest render failed", "edition", e.ID, "delivery", del.ID, "err", err)
		results <- outcome{d: del}
		return
	}
	inFlight.Add(1)
	err = s.opt.Mailer.Send(ctx, msg, func(res model.SendResult) {
		defer inFlight.Done()
		o := s.judge(del, msg, arts, res)
		o.done = make(chan error, 1)
		results <- o
		<-o.done // committed (or failed to commit: the pass stops)
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

// marker records results as they come (group commit): it takes every
// result waiting, up to MarkBatch, records them at once and tells each
// waiting connection, then takes the next lot. Recording is one write to
// the edition's journal, applied to the database a segment at a time
// (record.go), or without a journal one transaction. While it records
// the connections send their next messages up to the final dot, so results
// gather for the next group. It does not wait for more than are waiting:
// a connection's next final dot waits for this group, and lingering
// (100 µs gaps, up to 500 µs, as it once did) made send-now 15% slower
// once a commit no longer wrote a random index page (docs/benchmarks.md).
// What a crash can repeat is the results handed over and not yet
// recorded: at most one per connection (design.md, docs/reliability.md).
// Progress is reported at most every MarkInterval.
// When recording fails (three tries), the marker stops the pass (stop) and
// answers every later result with the error: those deliveries stay
// pending, to be sent again by a later run. It returns once every result
// recorded is in the database, or applying them has failed.
func (s *Service) marker(ctx context.Context, stop context.CancelCauseFunc, d config.Digest, editionID int64, results <-chan outcome, p *Progress, prog func(Progress)) (err error) {
	var (
		batch  = make([]outcome, 0, s.opt.MarkBatch)
		failed error
		shown  time.Time
	)
	rec := s.newRecorder(context.WithoutCancel(ctx), stop, d.Name, editionID)
	defer func() {
		if cerr := rec.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	commit := func() error {
		if failed != nil {
			return failed
		}
		if err := rec.record(batch); err != nil {
			failed = err
			s.log.Error("recording deliveries failed: the pass stops", "edition", editionID, "err", err)
			stop(err)
			return err
		}
		return nil
	}
	for {
		o, ok := <-results
		if !ok {
			if prog != nil {
				prog(*p)
			}
			return failed
		}
		batch = append(batch[:0], o)
		open := true
	gather:
		for open && len(batch) < s.opt.MarkBatch {
			select {
			case o, open = <-results:
				if open {
					batch = append(batch, o)
				}
			default:
				break gather
			}
		}
		err := commit()
		for _, o := range batch {
			if err == nil {
				count(p, o)
			}
			if o.done != nil {
				o.done <- err
			}
		}
		if prog != nil && err == nil && time.Since(shown) >= s.opt.MarkInterval {
			shown = time.Now()
			prog(*p)
		}
		if !open {
			if prog != nil {
				prog(*p)
			}
			return failed
		}
	}
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
