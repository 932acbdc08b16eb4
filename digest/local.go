package digest

import (
	"context"
	"slices"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// LocalStore is what planning a `delivery: local` digest reads and writes
// beside PlanStore: the readers of one zone, their cursors, and when each
// candidate became visible.
type LocalStore interface {
	// SubscriberZones lists the timezones readers have, "" included.
	SubscriberZones(ctx context.Context) ([]string, error)
	// ZoneSubscriptions pages through the active subscriptions of digest
	// whose reader's timezone is zone, by subscriber id.
	ZoneSubscriptions(ctx context.Context, digest, zone string, afterSubscriberID int64, limit int) ([]model.Subscription, error)
	ReaderCursors(ctx context.Context, digest string, subscriberIDs []int64) (map[int64]model.ReaderCursor, error)
	// VisibleTimes returns when each article became visible.
	VisibleTimes(ctx context.Context, ids []int64) (map[int64]time.Time, error)
	LocalPlanningCursor(ctx context.Context, editionID int64) (zone string, through int64, err error)
	// InsertLocalDeliveries records a page of deliveries with their cursor
	// moves (each only if the cursor is still as read; it returns the
	// subscriber ids of those that were not) and the planning cursor, in
	// one transaction.
	InsertLocalDeliveries(ctx context.Context, editionID int64, digest string, moves []model.CursorMove, zone string, through int64) ([]int64, error)
	UnfinishedZoneEdition(ctx context.Context, digest, zone string) (model.Edition, bool, error)
	// UnfinishedWholeEditionIDs lists the digest's unfinished editions
	// for the whole digest (no zone group's).
	UnfinishedWholeEditionIDs(ctx context.Context, digest string) ([]int64, error)
}

// ZoneChangeGap is the least time between a reader's last scheduled digest
// and the next one once they have moved to another timezone: a local slot
// that comes sooner in the new zone passes them by (their window then
// reaches back to their last digest, so no article is lost).
const ZoneChangeGap = 20 * time.Hour

// localPlanning reports whether planning e reads and moves readers'
// cursors: a local digest's zone-group editions, and its manual editions
// that carry everything (a send-now with --section or --author leaves the
// cursors alone, or the articles it did not carry would be skipped).
func localPlanning(d config.Digest, e model.Edition) bool {
	return d.Local() && (e.Zone != "" || e.Kind == model.EditionManual && len(e.Sections) == 0 && len(e.Authors) == 0)
}

// readerWindow is where reader's window in e starts, given their cursor
// (found false: they have none), and false when e must not plan them.
//
// A zone group's edition covers, for each reader, from their cursor to the
// cutoff, at most the lookback back (new readers: the lookback). A reader
// who moved from another zone group is passed by when their last
// scheduled digest is less than ZoneChangeGap old, and otherwise may reach
// ZoneChangeGap further back, to their cursor. A manual edition covers at
// least its usual window, reaching back to the cursor like a move.
func readerWindow(e model.Edition, c model.ReaderCursor, found bool) (time.Time, bool) {
	if !found {
		return e.Since, true
	}
	floor := e.Since
	if e.Kind == model.EditionManual {
		return earlier(later(c.Through, floor.Add(-ZoneChangeGap)), floor), true
	}
	if c.Zone != "" && c.Zone != e.Zone {
		if !c.SlotAt.IsZero() && e.Cutoff.Sub(c.SlotAt) < ZoneChangeGap {
			return time.Time{}, false
		}
		floor = floor.Add(-ZoneChangeGap)
	}
	since := later(c.Through, floor)
	return since, since.Before(e.Cutoff)
}

// movedTo is the cursor a reader has once e plans them.
func movedTo(e model.Edition, c model.ReaderCursor, subscriberID int64) model.ReaderCursor {
	to := model.ReaderCursor{SubscriberID: subscriberID, Through: later(c.Through, e.Cutoff), SlotAt: c.SlotAt, Zone: c.Zone}
	if e.Kind == model.EditionScheduled {
		to.SlotAt, to.Zone = e.Cutoff, e.Zone
	}
	return to
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// localCands are a local edition's candidates with the instant each became
// visible, loaded for (from, cutoff]: the edition's window at first, and
// ZoneChangeGap more once a reader needs it.
type localCands struct {
	views []*ArticleView
	ids   []int64
	vis   map[int64]int64
	from  time.Time
	ok    bool // loaded
}

// cover makes c hold every candidate a reader whose window starts at since
// may get.
func (s *Service) cover(ctx context.Context, d config.Digest, e model.Edition, c *localCands, since time.Time) (loaded []*ArticleView, err error) {
	if c.ok && !since.Before(c.from) {
		return nil, nil
	}
	from := e.Since
	if since.Before(from) {
		from = from.Add(-ZoneChangeGap)
	}
	wide := e
	wide.Since = from
	views, err := s.candidates(ctx, d, wide)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(views))
	for i, a := range views {
		ids[i] = a.ID
	}
	vis, err := s.opt.Local.VisibleTimes(ctx, ids)
	if err != nil {
		return nil, err
	}
	c.views, c.ids, c.from, c.vis, c.ok = views, ids, from, make(map[int64]int64, len(vis)), true
	for id, at := range vis {
		c.vis[id] = at.Unix()
	}
	return views, nil
}

// members are the timezones whose readers form zone's group of d, in the
// order planning walks them: zone itself, and for the digest's own
// timezone also readers of unknown zone ("" or a name this machine does
// not know).
func (s *Service) members(ctx context.Context, d config.Digest, zone string) ([]string, error) {
	if zone != d.Timezone {
		return []string{zone}, nil
	}
	all, err := s.opt.Local.SubscriberZones(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{zone, ""}
	for _, z := range all {
		if z == "" || z == zone {
			continue
		}
		if _, err := time.LoadLocation(z); err != nil || z == "Local" {
			out = append(out, z)
		}
	}
	slices.Sort(out)
	return out, nil
}

// groupEmpty reports whether no active reader of d is in zone's group.
func (s *Service) groupEmpty(ctx context.Context, d config.Digest, zone string) (bool, error) {
	members, err := s.members(ctx, d, zone)
	if err != nil {
		return false, err
	}
	for _, m := range members {
		subs, err := s.opt.Local.ZoneSubscriptions(ctx, d.Name, m, 0, 1)
		if err != nil || len(subs) > 0 {
			return false, err
		}
	}
	return true, nil
}

// planLocalPage plans a page of readers of a local digest: each gets the
// candidates in their own window (readerWindow) that match their follows,
// minus what they received or wait for in the digest's other unfinished
// editions, capped at max_articles; their cursor moves to the cutoff
// whatever max_articles left out, as digest mode drops it too.
func (s *Service) planLocalPage(ctx context.Context, d config.Digest, e model.Edition, c *localCands, subs []model.Subscription, others []int64, cache *articleCache) ([]model.CursorMove, planPage, error) {
	var p planPage
	ids := make([]int64, 0, len(subs))
	for _, sub := range subs {
		ids = append(ids, sub.SubscriberID)
	}
	cursors, err := s.opt.Local.ReaderCursors(ctx, d.Name, ids)
	if err != nil {
		return nil, p, err
	}
	since := make(map[int64]int64, len(subs))
	for _, sub := range subs {
		cur, found := cursors[sub.SubscriberID]
		if at, ok := readerWindow(e, cur, found); ok && eligible(sub, e) {
			since[sub.SubscriberID] = at.Unix()
			loaded, err := s.cover(ctx, d, e, c, at)
			if err != nil {
				return nil, p, err
			}
			cache.add(loaded)
		}
	}
	if len(since) == 0 {
		return nil, p, nil
	}
	received, err := s.received(ctx, d, ids, c.ids, others)
	if err != nil {
		return nil, p, err
	}
	moves := make([]model.CursorMove, 0, len(since))
	planned := s.now()
	for _, sub := range subs {
		from, ok := since[sub.SubscriberID]
		if !ok {
			continue
		}
		sel := selectWindow(c.views, sub, received[sub.SubscriberID], d.MaxArticles, c.vis, from)
		del := model.Delivery{EditionID: e.ID, SubscriberID: sub.SubscriberID, SubscriptionID: sub.ID, Status: model.DeliveryPending, ArticleIDs: sel}
		if len(sel) < max(d.MinArticles, 1) {
			del.Status, del.ArticleIDs = model.DeliverySkipped, nil
			p.skipped++
		} else {
			del.MessageID = s.plannedMessageID(e.ID, sub.SubscriberID, planned)
			p.pending++
		}
		cur, found := cursors[sub.SubscriberID]
		moves = append(moves, model.CursorMove{Delivery: del, Found: found, From: cur, To: movedTo(e, cur, sub.SubscriberID)})
	}
	return moves, p, nil
}

// planLocal writes a local digest's edition page by page from its planning
// cursor: a zone group's readers zone by zone in subscriber id order, or,
// for a manual edition, every reader in subscription id order, telling
// each page to w (when set), whose edition is being sent meanwhile. It
// then moves the edition to sending and returns how many candidates its
// own window had. An edition cancelled meanwhile ends planning (no error).
func (s *Service) planLocal(ctx context.Context, d config.Digest, e model.Edition, cache *articleCache, prog func(Progress), w *planWatch) (int, error) {
	// Articles waiting in another unfinished edition for a reader it
	// planned lie at or before that edition's cutoff, so at or before the
	// reader's cursor, which a zone group's window starts from: only
	// editions that move no cursor (a filtered send-now) or reach behind
	// it (any manual one) can hold articles of this window.
	list := s.opt.Local.UnfinishedWholeEditionIDs
	if e.Zone == "" {
		list = s.opt.Plans.UnfinishedEditionIDs
	}
	unfinished, err := list(ctx, d.Name)
	if err != nil {
		return 0, err
	}
	others := slices.DeleteFunc(unfinished, func(id int64) bool { return id == e.ID })
	var c localCands
	loaded, err := s.cover(ctx, d, e, &c, e.Since)
	if err != nil {
		return 0, err
	}
	cache.add(loaded)
	articles := len(c.views)
	planned := Progress{EditionID: e.ID, Phase: "planning"}
	page := func(subs []model.Subscription, zone string, through int64) error {
		moves, p, err := s.planLocalPage(ctx, d, e, &c, subs, others, cache)
		if err != nil {
			return err
		}
		dropped, err := s.opt.Local.InsertLocalDeliveries(ctx, e.ID, d.Name, moves, zone, through)
		if err != nil {
			return err
		}
		if len(dropped) > 0 {
			s.log.Info("readers planned by another edition meanwhile", "digest", d.Name, "edition", e.ID, "readers", len(dropped))
			p.uncount(moves, dropped)
		}
		planned.Pending += p.pending
		planned.Skipped += p.skipped
		w.wrote(p.pending, p.skipped)
		if prog != nil {
			prog(planned)
		}
		return nil
	}
	if e.Zone == "" {
		err = s.eachActivePage(ctx, d, e, func(subs []model.Subscription) error {
			return page(subs, "", subs[len(subs)-1].ID)
		})
	} else {
		err = s.eachZonePage(ctx, d, e, page)
	}
	if err == nil {
		err = s.opt.Plans.SetEditionStatus(ctx, e.ID, model.EditionSending)
	}
	if err != nil {
		return articles, s.planStopped(d, e, err)
	}
	s.log.Info("edition planned", "digest", d.Name, "edition", e.ID, "zone", e.Zone, "articles", articles)
	return articles, nil
}

// eachActivePage calls fn for each page of d's active subscriptions after
// e's planning cursor.
func (s *Service) eachActivePage(ctx context.Context, d config.Digest, e model.Edition, fn func([]model.Subscription) error) error {
	cursor, err := s.opt.Plans.PlanningCursor(ctx, e.ID)
	if err != nil {
		return err
	}
	for {
		subs, err := s.opt.Plans.ActiveSubscriptions(ctx, d.Name, cursor, s.opt.PageSize)
		if err != nil || len(subs) == 0 {
			return err
		}
		if err := fn(subs); err != nil {
			return err
		}
		cursor = subs[len(subs)-1].ID
	}
}

// eachZonePage calls fn for each page of the readers of e's zone group
// after its planning cursor, with the member zone and last subscriber id
// that become the cursor.
func (s *Service) eachZonePage(ctx context.Context, d config.Digest, e model.Edition, fn func(subs []model.Subscription, zone string, through int64) error) error {
	members, err := s.members(ctx, d, e.Zone)
	if err != nil {
		return err
	}
	at, after, err := s.opt.Local.LocalPlanningCursor(ctx, e.ID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m < at {
			continue // walked before a restart
		}
		if m != at {
			after = 0
		}
		for {
			subs, err := s.opt.Local.ZoneSubscriptions(ctx, d.Name, m, after, s.opt.PageSize)
			if err != nil {
				return err
			}
			if len(subs) == 0 {
				break
			}
			after = subs[len(subs)-1].SubscriberID
			if err := fn(subs, m, after); err != nil {
				return err
			}
		}
	}
	return nil
}
