package digest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
)

// ReaderStore is what previews need to know about a reader.
type ReaderStore interface {
	FindSubscriber(ctx context.Context, email model.Address) (model.Subscriber, bool, error)
	SubscriberByID(ctx context.Context, id int64) (model.Subscriber, error)
	SubscriptionsOf(ctx context.Context, subscriberID int64) ([]model.Subscription, error)
}

// draft is a manual edition planned in memory only.
func (s *Service) draft(ctx context.Context, req SendNowRequest) (config.Digest, model.Edition, []*ArticleView, error) {
	d, err := s.digest(req.Digest)
	if err != nil {
		return d, model.Edition{}, nil, err
	}
	if err := s.checkSlugs(ctx, req.Sections, req.Authors); err != nil {
		return d, model.Edition{}, nil, err
	}
	now := s.now().Truncate(time.Second)
	lb := req.Since
	if lb <= 0 {
		lb = lookback(d, now)
	}
	e := model.Edition{Digest: d.Name, Kind: model.EditionManual, Cutoff: now, Since: now.Add(-lb),
		Sections: req.Sections, Authors: req.Authors, Status: model.EditionPlanning}
	cands, err := s.candidates(ctx, d, e)
	return d, e, cands, err
}

// Preview composes the digest the subscriber with address email would get
// now from digest, sending and recording nothing. An address that is not
// subscribed previews as a new reader following everything. It returns
// ErrNothingNew when that reader would be skipped.
func (s *Service) Preview(ctx context.Context, digest, email string) (*model.Message, error) {
	d, e, cands, err := s.draft(ctx, SendNowRequest{Digest: digest})
	if err != nil {
		return nil, err
	}
	addr, err := model.ParseAddress(email)
	if err != nil {
		return nil, err
	}
	del := model.Delivery{Email: addr}
	su := model.Subscription{Digest: d.Name}
	received := map[int64]bool{}
	if sub, ok, err := s.opt.Readers.FindSubscriber(ctx, addr); err != nil {
		return nil, err
	} else if ok {
		del.SubscriberID, del.Name, del.Email = sub.ID, sub.Name, sub.Email
		subs, err := s.opt.Readers.SubscriptionsOf(ctx, sub.ID)
		if err != nil {
			return nil, err
		}
		for _, x := range subs {
			if x.Digest == d.Name {
				su = x
				del.SubscriptionID = x.ID
			}
		}
		ids := make([]int64, len(cands))
		for i, a := range cands {
			ids[i] = a.ID
		}
		rec, err := s.opt.Plans.ReceivedArticles(ctx, d.Name, []int64{sub.ID}, ids)
		if err != nil {
			return nil, err
		}
		received = rec[sub.ID]
	}
	return s.previewOf(d, e, cands, del, su, received)
}

// previewOf composes del's message from the candidates su selects.
func (s *Service) previewOf(d config.Digest, e model.Edition, cands []*ArticleView, del model.Delivery, su model.Subscription, received map[int64]bool) (*model.Message, error) {
	sel := selectArticles(cands, su, received, d.MaxArticles)
	if len(sel) < max(d.MinArticles, 1) {
		return nil, ErrNothingNew.With("nothing new for %s in %s (%d new article(s), min_articles %d)", del.Email, d.Name, len(sel), d.MinArticles)
	}
	cache := newArticleCache(s.opt.Outbox, s.clean)
	cache.add(cands)
	return s.compose(d, newRenderer(s.cfg, d, s.tmpl, e.Cutoff), e, del, cache.views(sel))
}

// PreviewNewReader composes what a new reader at email following sections
// and authors (none: everything) would get now from digest, sending and
// recording nothing; ErrNothingNew when they would be skipped.
func (s *Service) PreviewNewReader(ctx context.Context, digest, email string, sections, authors []string) (*model.Message, error) {
	if err := s.checkSlugs(ctx, sections, authors); err != nil {
		return nil, err
	}
	d, e, cands, err := s.draft(ctx, SendNowRequest{Digest: digest})
	if err != nil {
		return nil, err
	}
	addr, err := model.ParseAddress(email)
	if err != nil {
		return nil, err
	}
	su := model.Subscription{Digest: d.Name, Status: model.SubscriptionActive, Sections: sections, Authors: authors}
	return s.previewOf(d, e, cands, model.Delivery{Email: addr}, su, nil)
}

// DryRunReport is what a send-now would do now.
type DryRunReport struct {
	Digest     string
	Since      time.Time
	Cutoff     time.Time
	Articles   int            // candidate articles
	Recipients int            // subscribers who would get a digest
	Skipped    int            // subscribers with nothing new
	BySection  map[string]int // recipients getting at least one article of each section (by name)
	Sample     *model.Message // the first recipient's message, nil when none
	// Candidates are the candidate articles grouped by section, newest first.
	Candidates []SectionView
}

// DryRun plans a send-now in memory, page by page, recording and sending
// nothing. It ignores an unfinished edition (a real send-now resumes it
// first).
func (s *Service) DryRun(ctx context.Context, req SendNowRequest) (DryRunReport, error) {
	d, e, cands, err := s.draft(ctx, req)
	if err != nil {
		return DryRunReport{}, err
	}
	rep := DryRunReport{Digest: d.Name, Since: e.Since, Cutoff: e.Cutoff, Articles: len(cands), BySection: map[string]int{},
		Candidates: groupSections(cands)}
	candIDs := make([]int64, len(cands))
	byID := make(map[int64]*ArticleView, len(cands))
	for i, a := range cands {
		candIDs[i] = a.ID
		byID[a.ID] = a
	}
	var first *model.Delivery
	var cursor int64
	for {
		subs, err := s.opt.Plans.ActiveSubscriptions(ctx, d.Name, cursor, s.opt.PageSize)
		if err != nil {
			return rep, err
		}
		if len(subs) == 0 {
			break
		}
		page, err := s.planOne(ctx, d, e, cands, candIDs, subs, nil)
		if err != nil {
			return rep, err
		}
		cursor = page.through
		rep.Recipients += page.pending
		rep.Skipped += page.skipped
		for i := range page.deliveries {
			del := page.deliveries[i]
			if del.Status != model.DeliveryPending {
				continue
			}
			if first == nil {
				first = &del
			}
			seen := map[string]bool{}
			for _, id := range del.ArticleIDs {
				if a := byID[id]; a != nil && !seen[a.Section] {
					seen[a.Section] = true
					rep.BySection[a.Section]++
				}
			}
		}
	}
	if first != nil {
		sub, err := s.opt.Readers.SubscriberByID(ctx, first.SubscriberID)
		if err != nil {
			return rep, err
		}
		first.Email, first.Name = sub.Email, sub.Name
		cache := newArticleCache(s.opt.Outbox, s.clean)
		cache.add(cands)
		if rep.Sample, err = s.compose(d, newRenderer(s.cfg, d, s.tmpl, e.Cutoff), e, *first, cache.views(first.ArticleIDs)); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// SortedSections returns the report's section names in order.
func (r DryRunReport) SortedSections() []string {
	out := make([]string, 0, len(r.BySection))
	for k := range r.BySection {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SendSample sends one sample of what a send-now would carry now (as for a
// reader following everything) to the address to, recording nothing.
func (s *Service) SendSample(ctx context.Context, req SendNowRequest, to string) (model.SendResult, error) {
	if s.opt.Mailer == nil {
		return model.SendResult{}, errors.New("digest: no mailer configured")
	}
	addr, err := model.ParseAddress(to)
	if err != nil {
		return model.SendResult{}, err
	}
	d, e, cands, err := s.draft(ctx, req)
	if err != nil {
		return model.SendResult{}, err
	}
	sel := selectArticles(cands, model.Subscription{}, nil, d.MaxArticles)
	if len(sel) == 0 {
		return model.SendResult{}, ErrNothingNew.With("nothing new in %s", d.Name)
	}
	cache := newArticleCache(s.opt.Outbox, s.clean)
	cache.add(cands)
	msg, err := s.compose(d, newRenderer(s.cfg, d, s.tmpl, e.Cutoff), e, model.Delivery{Email: addr}, cache.views(sel))
	if err != nil {
		return model.SendResult{}, err
	}
	msg.MessageID = fmt.Sprintf("<sample.%d@%s>", s.now().UnixNano(), s.domain)
	msg.Subject = sanitize.Line("[Sample] " + msg.Subject)
	res, err := SendAndWait(ctx, s.opt.Mailer, msg)
	if err != nil {
		return res, err
	}
	if res.Outcome != model.Accepted {
		return res, fmt.Errorf("digest: sample to %s: %s (%s)", addr, res.Outcome, sanitize.Line(res.Reply))
	}
	return res, nil
}
