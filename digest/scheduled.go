package digest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/scheduler"
)

// RunSlot runs the scheduled edition of one slot. The edition is keyed by
// (digest, key), so a second call for the same slot finds the first edition:
// it finishes it when unfinished and otherwise does nothing. The cutoff is
// the slot's instant and the lookback the digest's, or else the time since
// the previous slot (previous zero: 24h). An unfinished edition of the digest
// is resumed first. When another process holds the digest's lease, RunSlot
// waits for it (up to wait) before giving up with ErrLeaseHeld. For a
// `delivery: local` digest it runs the zone group of the digest's own
// timezone (RunScheduled runs the others).
func (s *Service) RunSlot(ctx context.Context, digest, key string, at, previous time.Time, wait time.Duration) (res SendNowResult, err error) {
	return s.runSlot(ctx, scheduler.Slot{Digest: digest, Key: key, At: at, Previous: previous}, wait)
}

// runSlot is RunSlot for a slot of any zone group. A local digest's zone
// group has its own lease (a part of the digest's) and resumes its own
// unfinished edition; a group with no reader gets no edition.
func (s *Service) runSlot(ctx context.Context, slot scheduler.Slot, wait time.Duration) (res SendNowResult, err error) {
	start, none := time.Now(), false
	defer func() {
		if !none {
			s.observe(res, start)
		}
	}()
	d, err := s.digest(slot.Digest)
	if err != nil {
		return SendNowResult{}, err
	}
	zone, key, at := "", slot.Key, slot.At
	if d.Local() {
		zone = cmp.Or(slot.Zone, d.Timezone)
	}
	var (
		lctx    context.Context
		release func()
	)
	giveUp := s.now().Add(wait)
	for {
		lctx, release, err = s.acquire(ctx, d.Name, zone)
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

	deadline := s.now().Add(wait)
	var (
		e  model.Edition
		ok bool
	)
	if zone == "" {
		e, ok, err = s.opt.Editions.UnfinishedEdition(lctx, d.Name)
	} else {
		e, ok, err = s.opt.Local.UnfinishedZoneEdition(lctx, d.Name, zone)
	}
	if err != nil {
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
	if zone != "" && !(ok && e.Slot == key) {
		empty, err := s.groupEmpty(lctx, d, zone)
		if err != nil || empty {
			none = empty && res.ResumedID == 0 // no edition to observe
			return res, err
		}
	}
	lb := d.Lookback.D()
	if lb <= 0 {
		lb = 24 * time.Hour
		if !slot.Previous.IsZero() && slot.Previous.Before(at) {
			lb = at.Sub(slot.Previous)
		}
	}
	e, created, err := s.opt.Editions.CreateEdition(lctx, model.Edition{
		Digest: d.Name, Kind: model.EditionScheduled, Slot: key, Zone: zone,
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

// RunScheduled is the scheduler's job (a scheduler.Job): the edition of
// one slot (of one zone group, for a `delivery: local` digest). While another edition of the digest holds its lease (a
// send-now retrying with --wait), the slot waits for it — at least 10
// minutes, and until the slot would no longer be caught up at a restart
// either — so a busy lease never drops a slot.
func (s *Service) RunScheduled(ctx context.Context, slot scheduler.Slot) error {
	wait := 10 * time.Minute
	if d, err := s.digest(slot.Digest); err == nil {
		catchUp := d.CatchUp.D()
		if catchUp <= 0 {
			catchUp = scheduler.DefaultCatchUp
		}
		wait = max(wait, slot.At.Add(catchUp).Sub(s.now()))
	}
	res, err := s.runSlot(ctx, slot, wait)
	if err != nil || res.EditionID == 0 {
		return err // no edition: a zone group nobody reads in
	}
	s.log.Info("scheduled edition finished", "digest", slot.Digest, "slot", slot.Key, "edition", res.EditionID,
		"sent", res.Sent, "skipped", res.Skipped, "failed", res.Failed, "left_for_retry", res.Left)
	return nil
}
