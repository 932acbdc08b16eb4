package digest

import (
	"context"
	"errors"
	"time"
)

// Run is the service's own loop in herald serve, until ctx ends: every
// RetryEvery it finishes the unfinished editions of each digest (deliveries
// waiting for a retry, or left by a crash) that nobody else is working on.
// While it runs, editions started with StartSendNow live as long as it;
// when ctx ends it waits for them to put their connections down.
func (s *Service) Run(ctx context.Context) error {
	s.bgMu.Lock()
	s.bg = ctx
	s.bgMu.Unlock()
	defer func() {
		s.bgMu.Lock()
		s.bg = nil
		s.bgMu.Unlock()
		s.bgWait.Wait()
	}()
	t := time.NewTicker(s.opt.RetryEvery)
	defer t.Stop()
	for {
		s.retryUnfinished(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// retryUnfinished resumes each digest's unfinished editions, oldest first,
// skipping a digest whose lease someone else holds.
func (s *Service) retryUnfinished(ctx context.Context) {
	for _, d := range s.cfg.Digests {
		ids, err := s.opt.Editions.UnfinishedEditionIDs(ctx, d.Name)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("listing unfinished editions", "digest", d.Name, "err", err)
			}
			continue
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				return
			}
			_, err := s.Resume(ctx, id, 0, nil)
			if errors.Is(err, ErrLeaseHeld) {
				continue // someone else has this digest (or zone group); they finish it
			}
			if errors.Is(err, ErrEditionFinished) {
				continue // finished (or cancelled) since it was listed
			}
			if err != nil && ctx.Err() == nil {
				s.log.Warn("resuming edition", "edition", id, "err", err)
			}
		}
	}
}
