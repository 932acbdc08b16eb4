package digest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// RunSlot runs the scheduled edition of one slot. The edition is keyed by
// (digest, key), so a second call for the same slot finds the first edition:
// it finishes it when unfinished and otherwise does nothing. The cutoff is
// the slot's instant and the lookback the digest's, or else the time since
// the previous slot (previous zero: 24h). An unfinished edition of the digest
// is resumed first. When another process holds the digest's lease, RunSlot
// waits for it (up to wait) before giving up with ErrLeaseHeld.
func (s *Service) RunSlot(ctx context.Context, digest, key string, at, previous time.Time, wait time.Duration) (SendNowResult, error) {
	d, err := s.digest(digest)
	if err != nil {
		return SendNowResult{}, err
	}
	var (
		lctx    context.Context
		release func()
	)
	giveUp := s.now().Add(wait)
	for {
		lctx, release, err = s.lease(ctx, d.Name)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrLeaseHeld) || !s.now().Before(giveUp) {
			return SendNowResult{}, err
		}
		if err := s.sleep(ctx, 5*time.Second); err != nil {
			return SendNowResult{}, err
		}
	}
	defer release()

	var res SendNowResult
	deadline := s.now().Add(wait)
	if e, ok, err := s.store.UnfinishedEdition(lctx, d.Name); err != nil {
		return res, err
	} else if ok && e.Slot != key {
		res.ResumedID = e.ID
		s.log.Info("resuming unfinished edition before the scheduled one", "digest", d.Name, "edition", e.ID)
		r, err := s.runEdition(lctx, d, e, deadline, nil)
		res.add(r)
		if err != nil {
			return res, err
		}
	}
	lb := d.Lookback.D()
	if lb <= 0 {
		lb = 24 * time.Hour
		if !previous.IsZero() && previous.Before(at) {
			lb = at.Sub(previous)
		}
	}
	e, created, err := s.store.CreateEdition(lctx, model.Edition{
		Digest: d.Name, Kind: model.EditionScheduled, Slot: key,
		Cutoff: at.Truncate(time.Second), Since: at.Add(-lb).Truncate(time.Second),
	})
	if err != nil {
		return res, fmt.Errorf("digest %s: edition for slot %s: %w", d.Name, key, err)
	}
	res.EditionID = e.ID
	if !created && (e.Status == model.EditionDone || e.Status == model.EditionCancelled) {
		s.log.Info("scheduled slot already ran", "digest", d.Name, "slot", key, "edition", e.ID)
		res.Counts = e.Counts
		return res, nil
	}
	s.log.Info("scheduled edition", "digest", d.Name, "slot", key, "edition", e.ID, "lookback", lb, "resumed", !created)
	r, err := s.runEdition(lctx, d, e, deadline, nil)
	res.add(r)
	return res, err
}
