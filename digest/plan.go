package digest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// candidates loads, cleans and filters an edition's candidate articles,
// newest first.
func (s *Service) candidates(ctx context.Context, d config.Digest, e model.Edition) ([]*ArticleView, error) {
	raw, err := s.store.CandidateArticles(ctx, e.Since, e.Cutoff)
	if err != nil {
		return nil, err
	}
	views := make([]*ArticleView, 0, len(raw))
	for _, a := range raw {
		c, ok := s.clean.Article(a)
		if !ok {
			continue
		}
		views = append(views, newArticleView(c))
	}
	return candidateFilter(d, e, views), nil
}

// planPage is one page of planned deliveries.
type planPage struct {
	deliveries []model.Delivery
	through    int64 // the page's last subscription id
	pending    int
	skipped    int
}

// planOne plans a page of subscriptions against cands. others are the
// digest's other unfinished editions: articles waiting there for a retry
// count as received, so no article reaches a reader twice.
func (s *Service) planOne(ctx context.Context, d config.Digest, e model.Edition, cands []*ArticleView, candIDs []int64, subs []model.Subscription, others []int64) (planPage, error) {
	p := planPage{deliveries: make([]model.Delivery, 0, len(subs))}
	if len(subs) == 0 {
		return p, nil
	}
	p.through = subs[len(subs)-1].ID
	ids := make([]int64, 0, len(subs))
	for _, sub := range subs {
		ids = append(ids, sub.SubscriberID)
	}
	received, err := s.store.ReceivedArticles(ctx, d.Name, ids, candIDs)
	if err != nil {
		return p, err
	}
	if len(others) > 0 {
		waiting, err := s.store.PendingArticles(ctx, others, ids)
		if err != nil {
			return p, err
		}
		for sub, arts := range waiting {
			if received[sub] == nil {
				received[sub] = map[int64]bool{}
			}
			for a := range arts {
				received[sub][a] = true
			}
		}
	}
	for _, sub := range subs {
		if !eligible(sub, e) {
			continue
		}
		sel := selectArticles(cands, sub, received[sub.SubscriberID], d.MaxArticles)
		del := model.Delivery{EditionID: e.ID, SubscriberID: sub.SubscriberID, SubscriptionID: sub.ID, Status: model.DeliveryPending, ArticleIDs: sel}
		if len(sel) < max(d.MinArticles, 1) {
			del.Status, del.ArticleIDs = model.DeliverySkipped, nil
			p.skipped++
		} else {
			p.pending++
		}
		p.deliveries = append(p.deliveries, del)
	}
	return p, nil
}

// plan writes an edition's deliveries page by page, from its planning
// cursor on, so a planning run that stops resumes where it was and memory
// stays bounded by one page whatever the number of subscribers. It then
// moves the edition to sending.
func (s *Service) plan(ctx context.Context, d config.Digest, e model.Edition, cands []*ArticleView, prog func(Progress)) error {
	candIDs := make([]int64, len(cands))
	for i, a := range cands {
		candIDs[i] = a.ID
	}
	cursor, err := s.store.PlanningCursor(ctx, e.ID)
	if err != nil {
		return err
	}
	unfinished, err := s.store.UnfinishedEditionIDs(ctx, d.Name)
	if err != nil {
		return err
	}
	others := slices.DeleteFunc(unfinished, func(id int64) bool { return id == e.ID })
	var planned Progress
	planned.EditionID, planned.Phase = e.ID, "planning"
	for {
		subs, err := s.store.ActiveSubscriptions(ctx, d.Name, cursor, s.opt.PageSize)
		if err != nil {
			return err
		}
		if len(subs) == 0 {
			break
		}
		page, err := s.planOne(ctx, d, e, cands, candIDs, subs, others)
		if err != nil {
			return err
		}
		if err := s.store.InsertDeliveries(ctx, e.ID, page.deliveries, page.through); err != nil {
			return err
		}
		cursor = page.through
		planned.Pending += page.pending
		planned.Skipped += page.skipped
		if prog != nil {
			prog(planned)
		}
	}
	if err := s.store.SetEditionStatus(ctx, e.ID, model.EditionSending); err != nil {
		return err
	}
	s.log.Info("edition planned", "digest", d.Name, "edition", e.ID, "articles", len(cands))
	return nil
}

// lookback is how far back a manual edition of d looks at now: the digest's
// lookback when set, else the interval between its two most recent
// scheduled slots (a weekday 07:00 digest looks back 72h on Monday).
func lookback(d config.Digest, now time.Time) time.Duration {
	if d.Lookback > 0 {
		return d.Lookback.D()
	}
	prev, last, ok := lastTwoSlots(d, now)
	if !ok {
		return 24 * time.Hour
	}
	return last.Sub(prev)
}

// SlotLookback is the lookback of the scheduled slot at: the digest's
// lookback when set, else the time since the slot before it.
func SlotLookback(d config.Digest, at time.Time) time.Duration {
	if d.Lookback > 0 {
		return d.Lookback.D()
	}
	prev, _, ok := lastTwoSlots(d, at)
	if !ok {
		return 24 * time.Hour
	}
	return at.Sub(prev)
}

// lastTwoSlots returns the two most recent slots of d at or before t.
func lastTwoSlots(d config.Digest, t time.Time) (prev, last time.Time, ok bool) {
	sched, err := d.CronSchedule()
	if err != nil {
		return
	}
	loc := d.Location()
	t = t.In(loc)
	for _, back := range []time.Duration{48 * time.Hour, 9 * 24 * time.Hour, 63 * 24 * time.Hour, 400 * 24 * time.Hour} {
		var slots []time.Time
		n := 0
		for at := sched.Next(t.Add(-back)); !at.IsZero() && !at.After(t) && n < 20000; at = sched.Next(at) {
			slots = append(slots, at)
			if len(slots) > 2 {
				slots = slots[1:]
			}
			n++
		}
		if len(slots) == 2 {
			return slots[0], slots[1], true
		}
	}
	return
}

// newManualEdition records a manual edition of d cut off now.
func (s *Service) newManualEdition(ctx context.Context, d config.Digest, req SendNowRequest) (model.Edition, error) {
	now := s.now().Truncate(time.Second)
	lb := req.Since
	if lb <= 0 {
		lb = lookback(d, now)
	}
	e, _, err := s.store.CreateEdition(ctx, model.Edition{
		Digest: d.Name, Kind: model.EditionManual, Cutoff: now, Since: now.Add(-lb),
		Sections: req.Sections, Authors: req.Authors,
	})
	if err != nil {
		return e, fmt.Errorf("digest %s: new edition: %w", d.Name, err)
	}
	return e, nil
}
