package digest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/scheduler"
)

// PlanStore is what planning an edition reads and writes.
type PlanStore interface {
	// CandidateArticles returns the published articles visible in (since, cutoff], newest first.
	CandidateArticles(ctx context.Context, since, cutoff time.Time) ([]model.Article, error)
	ActiveSubscriptions(ctx context.Context, digest string, afterID int64, limit int) ([]model.Subscription, error)
	ReceivedArticles(ctx context.Context, digest string, subscriberIDs, articleIDs []int64) (map[int64]map[int64]bool, error)
	PendingArticles(ctx context.Context, editionIDs, subscriberIDs []int64) (map[int64]map[int64]bool, error)
	UnfinishedEditionIDs(ctx context.Context, digest string) ([]int64, error)
	PlanningCursor(ctx context.Context, editionID int64) (int64, error)
	InsertDeliveries(ctx context.Context, editionID int64, ds []model.Delivery, through int64) error
	SetEditionStatus(ctx context.Context, id int64, status string) error
}

// candidates loads, cleans and filters an edition's candidate articles,
// newest first.
func (s *Service) candidates(ctx context.Context, d config.Digest, e model.Edition) ([]*ArticleView, error) {
	raw, err := s.opt.Plans.CandidateArticles(ctx, e.Since, e.Cutoff)
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

// uncount takes the deliveries of dropped readers (another planner
// planned them first) out of the page's counts.
func (p *planPage) uncount(moves []model.CursorMove, dropped []int64) {
	gone := make(map[int64]bool, len(dropped))
	for _, id := range dropped {
		gone[id] = true
	}
	for _, m := range moves {
		if !gone[m.Delivery.SubscriberID] {
			continue
		}
		switch m.Delivery.Status {
		case model.DeliveryPending:
			p.pending--
		case model.DeliverySkipped:
			p.skipped--
		}
	}
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
	at := s.now()
	ids := make([]int64, 0, len(subs))
	for _, sub := range subs {
		ids = append(ids, sub.SubscriberID)
	}
	received, err := s.received(ctx, d, ids, candIDs, others)
	if err != nil {
		return p, err
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
			del.MessageID = s.plannedMessageID(e.ID, sub.SubscriberID, at)
			p.pending++
		}
		p.deliveries = append(p.deliveries, del)
	}
	return p, nil
}

// received returns, for each of subscriber ids, the candidates among
// candIDs they already received from d, or that wait for them in the
// digest's other unfinished editions others (being retried): selection
// leaves both out, so no article reaches a reader twice.
func (s *Service) received(ctx context.Context, d config.Digest, ids, candIDs, others []int64) (map[int64]map[int64]bool, error) {
	received, err := s.opt.Plans.ReceivedArticles(ctx, d.Name, ids, candIDs)
	if err != nil {
		return nil, err
	}
	if len(others) > 0 {
		waiting, err := s.opt.Plans.PendingArticles(ctx, others, ids)
		if err != nil {
			return nil, err
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
	return received, nil
}

// planWatch tells an edition's sending what its planning, running
// beside it, has written: a page at a time, then that it ended.
type planWatch struct {
	mu      sync.Mutex
	more    chan struct{} // closed (and replaced) when a page is written or planning ends
	pending int           // deliveries planned to send so far
	skipped int           // planned as skipped (nothing new) so far
	done    bool
	err     error // why planning failed, once done
	arts    int   // the edition's candidate articles, once done
}

func newPlanWatch() *planWatch { return &planWatch{more: make(chan struct{})} }

// wrote notes a page written (nothing without a watch).
func (w *planWatch) wrote(pending, skipped int) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending += pending
	w.skipped += skipped
	w.changed()
}

// end notes that planning ended, with the edition's number of candidate
// articles and why it failed.
func (w *planWatch) end(articles int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done, w.err, w.arts = true, err, articles
	w.changed()
}

// changed wakes whoever waits on more. Called with w.mu held.
func (w *planWatch) changed() {
	close(w.more)
	w.more = make(chan struct{})
}

// articles returns the edition's number of candidate articles, once
// planning has ended (0 before, or without a watch).
func (w *planWatch) articles() int {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.arts
}

// state returns a channel closed at the next change, whether planning
// has ended and why it failed: read it before reading the deliveries,
// and a page written after that read closes the channel.
func (w *planWatch) state() (more <-chan struct{}, done bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.more, w.done, w.err
}

// firstPending waits until planning has written a delivery to send, or
// has ended (returning why it failed).
func (w *planWatch) firstPending(ctx context.Context) error {
	for {
		w.mu.Lock()
		more, pending, done, err := w.more, w.pending, w.done, w.err
		w.mu.Unlock()
		if pending > 0 || done {
			return err
		}
		select {
		case <-more:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// planned returns how many deliveries planning has written so far, to
// send and skipped.
func (w *planWatch) planned() (pending, skipped int) {
	if w == nil {
		return 0, 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pending, w.skipped
}

// startPlan runs plan in the background and returns its watch and a
// func that stops it (cancels it, if it is still running) and waits for
// it to end; the func may be called more than once.
// plan returns how many candidate articles the edition had. Sending
// starts as soon as the first page is written: planning a large list took
// a tenth of send-now's time with the relay idle (docs/benchmarks.md).
func (s *Service) startPlan(ctx context.Context, plan func(context.Context, *planWatch) (int, error)) (*planWatch, func()) {
	w := newPlanWatch()
	pctx, cancel := context.WithCancel(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		n, err := plan(pctx, w)
		w.end(n, err)
	}()
	return w, func() {
		cancel()
		<-ended
	}
}

// plan writes an edition's deliveries page by page, from its planning
// cursor on, so a planning run that stops resumes where it was and memory
// stays bounded by one page whatever the number of subscribers. It then
// moves the edition to sending. Each page written is told to w (when
// set), whose edition is being sent meanwhile. An edition cancelled
// meanwhile ends planning (no error): its pending deliveries were
// cancelled, and no page is written after that.
func (s *Service) plan(ctx context.Context, d config.Digest, e model.Edition, cands []*ArticleView, prog func(Progress), w *planWatch) error {
	candIDs := make([]int64, len(cands))
	for i, a := range cands {
		candIDs[i] = a.ID
	}
	cursor, err := s.opt.Plans.PlanningCursor(ctx, e.ID)
	if err != nil {
		return err
	}
	unfinished, err := s.opt.Plans.UnfinishedEditionIDs(ctx, d.Name)
	if err != nil {
		return err
	}
	others := slices.DeleteFunc(unfinished, func(id int64) bool { return id == e.ID })
	var planned Progress
	planned.EditionID, planned.Phase = e.ID, "planning"
	// Reading and planning the next page (a reader connection and this
	// CPU) overlaps writing the one before (the writer): pages are still
	// written in order, each with its cursor, so a resumed plan starts
	// where the last written page ended, and one planned page at most waits
	// in memory.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan planPage, 1)
	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(pages)
		for cur := cursor; ; {
			subs, err := s.opt.Plans.ActiveSubscriptions(pctx, d.Name, cur, s.opt.PageSize)
			if err != nil {
				readErr = err
				return
			}
			if len(subs) == 0 {
				return
			}
			page, err := s.planOne(pctx, d, e, cands, candIDs, subs, others)
			if err != nil {
				readErr = err
				return
			}
			select {
			case pages <- page:
			case <-pctx.Done():
				readErr = pctx.Err()
				return
			}
			cur = page.through
		}
	}()
	for page := range pages {
		if err := s.opt.Plans.InsertDeliveries(ctx, e.ID, page.deliveries, page.through); err != nil {
			cancel()
			<-readDone
			return s.planStopped(d, e, err)
		}
		planned.Pending += page.pending
		planned.Skipped += page.skipped
		w.wrote(page.pending, page.skipped)
		if prog != nil {
			prog(planned)
		}
	}
	<-readDone
	if readErr != nil {
		return readErr
	}
	if err := s.opt.Plans.SetEditionStatus(ctx, e.ID, model.EditionSending); err != nil {
		return s.planStopped(d, e, err)
	}
	s.log.Info("edition planned", "digest", d.Name, "edition", e.ID, "articles", len(cands))
	return nil
}

// planStopped is what a failed write of e's plan means: nil when the
// edition is no longer planning (an editor cancelled it), err otherwise.
func (s *Service) planStopped(d config.Digest, e model.Edition, err error) error {
	if model.ErrorCode(err) == model.EFINISHED {
		s.log.Info("edition cancelled: planning stopped", "digest", d.Name, "edition", e.ID)
		return nil
	}
	return err
}

// lookback is how far back a manual edition of d cut off at now looks: the
// digest's lookback when set, else the time between its last two
// scheduled slots at or before now (a weekday 07:00 digest looks back 72h
// on Monday). Slots are the scheduler's, so a DST change counts as it
// happened: a daily slot across the spring change is 23h apart, not 24h
// or 48h.
func lookback(d config.Digest, now time.Time) time.Duration {
	if d.Lookback > 0 {
		return d.Lookback.D()
	}
	sched, err := d.CronSchedule()
	if err != nil {
		return 24 * time.Hour
	}
	last, ok := scheduler.PreviousSlot(sched, d.Location(), now.Add(time.Nanosecond))
	if !ok || last.Previous.IsZero() {
		return 24 * time.Hour
	}
	return last.At.Sub(last.Previous)
}

// newManualEdition records a manual edition of d cut off now.
func (s *Service) newManualEdition(ctx context.Context, d config.Digest, req SendNowRequest) (model.Edition, error) {
	now := s.now().Truncate(time.Second)
	lb := req.Since
	if lb <= 0 {
		lb = lookback(d, now)
	}
	e, _, err := s.opt.Editions.CreateEdition(ctx, model.Edition{
		Digest: d.Name, Kind: model.EditionManual, Cutoff: now, Since: now.Add(-lb),
		Sections: req.Sections, Authors: req.Authors,
	})
	if err != nil {
		return e, fmt.Errorf("digest %s: new edition: %w", d.Name, err)
	}
	return e, nil
}
