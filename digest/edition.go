package digest

import (
	"context"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// EditionStore is what creating, finding and finishing editions needs.
type EditionStore interface {
	// CreateEdition records e, or finds the edition with the same digest
	// and slot; it reports whether it created one.
	CreateEdition(ctx context.Context, e model.Edition) (model.Edition, bool, error)
	Edition(ctx context.Context, id int64) (model.Edition, error)
	// UnfinishedEdition is the digest's oldest edition still planning or sending.
	UnfinishedEdition(ctx context.Context, digest string) (model.Edition, bool, error)
	UnfinishedEditionIDs(ctx context.Context, digest string) ([]int64, error)
	SetEditionStatus(ctx context.Context, id int64, status string) error
}

type runResult struct {
	counts       map[string]int
	sent, failed int
	articles     int
}

// runEdition sends an edition's pending deliveries in passes until none
// is left or the next retry falls after deadline; an edition still
// planning is planned beside the first pass, which ends once planning has.
func (s *Service) runEdition(ctx context.Context, d config.Digest, e model.Edition, deadline time.Time, prog func(Progress)) (res runResult, err error) {
	cache := newArticleCache(s.opt.Outbox, s.clean)
	rd := d
	if e.Zone != "" {
		rd.Timezone = e.Zone // a zone group's date is its readers'
	}
	r := newRenderer(s.cfg, rd, s.tmpl, e.Cutoff)
	// Counted before planning starts: what it writes from then on is
	// counted by its watch.
	counts, err := s.opt.Outbox.EditionCounts(ctx, e.ID)
	if err != nil {
		return res, err
	}
	var w *planWatch
	stopPlan := func() {}
	if e.Status == model.EditionPlanning {
		var plan func(ctx context.Context, w *planWatch) (int, error)
		if localPlanning(d, e) {
			plan = func(ctx context.Context, w *planWatch) (int, error) {
				return s.planLocal(ctx, d, e, cache, prog, w)
			}
		} else {
			cands, err := s.candidates(ctx, d, e)
			if err != nil {
				return res, err
			}
			cache.add(cands)
			plan = func(ctx context.Context, w *planWatch) (int, error) {
				return len(cands), s.plan(ctx, d, e, cands, prog, w)
			}
		}
		// The edition is sent while it is planned; the first pass ends
		// once planning has.
		w, stopPlan = s.startPlan(ctx, plan)
		defer func() {
			stopPlan()
			res.articles = w.articles()
		}()
		if counts[model.DeliveryPending] == 0 {
			if err := w.firstPending(ctx); err != nil {
				return res, err
			}
		}
	}
	if pending, _ := w.planned(); counts[model.DeliveryPending]+pending > 0 { // its archive page, for the "view in browser" link
		if r.archiveURL, err = s.archiveURL(ctx, d, e); err != nil {
			return res, err
		}
	}
	p := Progress{EditionID: e.ID, Phase: "sending", Total: counts[model.DeliveryPending], Skipped: counts[model.DeliverySkipped]}
	s.log.Info("edition sending", "digest", d.Name, "edition", e.ID)
	for {
		if err := s.pass(ctx, d, e, r, cache, &p, prog, w); err != nil {
			stopPlan() // before the counts: no page is written after them
			res.sent, res.failed = p.Sent, p.Failed
			res.counts, _ = s.opt.Outbox.EditionCounts(context.WithoutCancel(ctx), e.ID)
			return res, err
		}
		// A cancelled edition is over, whatever a row left pending says
		// (none should be: the cancel cancels them, and planning writes
		// no page after it).
		if st, err := s.opt.Outbox.EditionStatus(ctx, e.ID); err != nil {
			return res, err
		} else if st == model.EditionCancelled {
			s.log.Info("edition cancelled", "digest", d.Name, "edition", e.ID, "sent", p.Sent, "failed", p.Failed)
			break
		}
		next, ok, err := s.opt.Outbox.NextAttempt(ctx, e.ID)
		if err != nil {
			return res, err
		}
		if !ok {
			cur, err := s.opt.Editions.Edition(ctx, e.ID)
			if err != nil {
				return res, err
			}
			if cur.Status == model.EditionSending {
				if err := s.opt.Editions.SetEditionStatus(ctx, e.ID, model.EditionDone); err != nil {
					return res, err
				}
			}
			_, skipped := w.planned()
			s.log.Info("edition done", "digest", d.Name, "edition", e.ID, "sent", p.Sent, "failed", p.Failed, "skipped", p.Skipped+skipped)
			break
		}
		if next.After(deadline) {
			s.log.Info("deliveries left for retry", "digest", d.Name, "edition", e.ID, "next_attempt", next)
			break
		}
		if err := s.sleep(ctx, next.Sub(s.now())); err != nil {
			return res, err
		}
	}
	res.sent, res.failed = p.Sent, p.Failed
	res.counts, err = s.opt.Outbox.EditionCounts(ctx, e.ID)
	return res, err
}
