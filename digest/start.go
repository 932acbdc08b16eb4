package digest

import (
	"context"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// StartResume is Resume for the daemon's pages: it takes the edition's
// lease, its digest's or zone group's (or returns ErrLeaseHeld, or
// ErrEditionFinished for a done or cancelled edition) before returning,
// then finishes the edition in the background (one pass plus the retries
// due within wait), living as long as the service's Run like
// StartSendNow's editions.
func (s *Service) StartResume(ctx context.Context, editionID int64, wait time.Duration) (<-chan SendNowResult, error) {
	e, err := s.opt.Editions.Edition(ctx, editionID)
	if err != nil {
		return nil, err
	}
	if e.Status == model.EditionDone || e.Status == model.EditionCancelled {
		return nil, ErrEditionFinished.With("edition %d is %s", e.ID, e.Status)
	}
	d, err := s.digest(e.Digest)
	if err != nil {
		return nil, err
	}
	life := context.WithoutCancel(ctx)
	s.bgMu.Lock()
	if s.bg != nil {
		life = s.bg
	}
	s.bgWait.Add(1)
	s.bgMu.Unlock()
	lctx, release, err := s.acquire(life, d.Name, e.Zone)
	if err != nil {
		s.bgWait.Done()
		return nil, err
	}
	out := make(chan SendNowResult, 1)
	go func() {
		defer s.bgWait.Done()
		defer release()
		start := time.Now()
		r, err := s.runEdition(lctx, d, e, s.now().Add(wait), nil)
		res := SendNowResult{ResumedID: e.ID}
		res.add(r)
		s.observe(res, start)
		if err != nil {
			s.log.Error("resume failed", "edition", e.ID, "err", err)
		} else {
			s.log.Info("resume finished", "edition", e.ID, "sent", res.Sent, "failed", res.Failed, "left_for_retry", res.Left)
		}
		out <- res
	}()
	return out, nil
}

// Describe says what a send-now asks for, as the audit log records it:
// "digest=daily section=world since=6h0m0s".
func (r SendNowRequest) Describe() string {
	parts := []string{"digest=" + r.Digest}
	for _, s := range r.Sections {
		parts = append(parts, "section="+s)
	}
	for _, a := range r.Authors {
		parts = append(parts, "author="+a)
	}
	if r.Since > 0 {
		parts = append(parts, "since="+r.Since.String())
	}
	return strings.Join(parts, " ")
}
