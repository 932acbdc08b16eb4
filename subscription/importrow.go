package subscription

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/heraldnews/herald/internal/model"
)

// What one import row did.
type rowResult int

const (
	rowAdded rowResult = iota + 1
	rowUpdated
	rowSkipped
	rowBad
)

// importer applies import rows against what is stored.
type importer struct {
	s                         *Service
	opt                       ImportOptions
	digests, sections, author map[string]bool
}

func (s *Service) newImporter(ctx context.Context, opt ImportOptions) (*importer, error) {
	im := &importer{s: s, opt: opt, digests: map[string]bool{}}
	for _, d := range s.cfg.Digests {
		im.digests[d.Name] = true
	}
	var err error
	im.sections, im.author, err = s.slugSets(ctx)
	return im, err
}

// importStatuses are the statuses a row may carry.
var importStatuses = []string{"", model.SubscriberActive, model.SubscriberPending, model.SubscriberBounced,
	model.SubscriberComplained, model.SubscriberErased, model.SubscriptionUnsubscribed}

// row applies one CSV row. A bad row returns rowBad and why; a row that
// would undo an opt-out returns rowSkipped and the opt-out; the error is
// for a failure that stops the import.
func (im *importer) row(ctx context.Context, rec []string) (rowResult, string, error) {
	s := im.s
	if len(rec) < 1 || len(rec) > len(CSVHeader) {
		return rowBad, fmt.Sprintf("want up to %d columns (%s), got %d", len(CSVHeader), strings.Join(CSVHeader, ","), len(rec)), nil
	}
	col := func(i int) string {
		if i < len(rec) {
			return csvValue(strings.TrimSpace(rec[i]))
		}
		return ""
	}
	email, err := model.ParseAddress(col(0))
	if err != nil {
		return rowBad, fmt.Sprintf("invalid email address %q", col(0)), nil
	}
	name := cleanName(col(1))
	dname := col(2)
	if dname == "" {
		dname = s.cfg.Digests[0].Name
	}
	if !im.digests[dname] {
		return rowBad, fmt.Sprintf("unknown digest %q", dname), nil
	}
	secs, auths := splitSlugs(col(3)), splitSlugs(col(4))
	for _, x := range secs {
		if !im.sections[x] {
			return rowBad, fmt.Sprintf("unknown section %q", x), nil
		}
	}
	for _, x := range auths {
		if !im.author[x] {
			return rowBad, fmt.Sprintf("unknown author %q", x), nil
		}
	}
	status := strings.ToLower(col(5))
	if !slices.Contains(importStatuses, status) {
		return rowBad, fmt.Sprintf("unknown status %q (want active, pending, bounced, complained, erased or unsubscribed)", col(5)), nil
	}
	tz, err := checkTimezone(col(6))
	if err != nil {
		return rowBad, fmt.Sprintf("unknown timezone %q", col(6)), nil
	}
	cur, found, err := s.store.FindSubscriber(ctx, email)
	if err != nil {
		return 0, "", err
	}
	sps, blocked, err := s.suppressions(ctx, email)
	if err != nil {
		return 0, "", err
	}

	switch status {
	case model.SubscriberBounced, model.SubscriberComplained, model.SubscriberErased:
		// The file says the address left: record it (never the reverse).
		return im.leave(ctx, cur, found, email, name, dname, secs, auths, status)
	}
	// Anything else would keep or make the address mailable: never for
	// one that left.
	switch {
	case found && (cur.Status == model.SubscriberBounced || cur.Status == model.SubscriberComplained || cur.Status == model.SubscriberErased):
		return rowSkipped, cur.Status, nil
	case blocked:
		return rowSkipped, model.SuppressedOperator, nil
	case len(sps) > 0:
		return rowSkipped, sps[0].Reason, nil // an erased address's hash
	}
	subStatus := ""
	subStatusNew := model.SubscriptionActive
	switch status {
	case model.SubscriptionUnsubscribed:
		status, subStatus, subStatusNew = "", model.SubscriptionUnsubscribed, model.SubscriptionUnsubscribed
	case model.SubscriberActive:
		subStatus = model.SubscriptionActive
	}
	if !found && status == "" {
		status = model.SubscriberActive
	}
	var existing model.Subscription
	if found {
		subs, err := s.store.SubscriptionsOf(ctx, cur.ID)
		if err != nil {
			return 0, "", err
		}
		for _, x := range subs {
			if x.Digest == dname {
				existing = x
			}
		}
	}
	if existing.ID != 0 && existing.Status == model.SubscriptionUnsubscribed && subStatus != model.SubscriptionUnsubscribed {
		if !im.opt.Resubscribe {
			return rowSkipped, model.SubscriptionUnsubscribed, nil
		}
		subStatus = model.SubscriptionActive
	}
	if existing.ID == 0 && subStatus == "" {
		subStatus = subStatusNew
	}
	sub, created, err := s.store.UpsertSubscriber(ctx, email, name, status)
	if err != nil {
		return 0, "", err
	}
	if err := s.setTimezone(ctx, &sub, tz); err != nil {
		return 0, "", err
	}
	if _, err := s.store.UpsertSubscription(ctx, sub.ID, dname, secs, auths, subStatus); err != nil {
		return 0, "", err
	}
	if created || existing.ID == 0 {
		return rowAdded, "", nil
	}
	return rowUpdated, "", nil
}

// leave records a row whose status says the address left: bounced,
// complained (every subscription ends) or erased.
func (im *importer) leave(ctx context.Context, cur model.Subscriber, found bool, email model.Address, name, digest string, secs, auths []string, status string) (rowResult, string, error) {
	s := im.s
	if found && cur.Status == model.SubscriberComplained && status != model.SubscriberErased {
		return rowSkipped, model.SubscriberComplained, nil // nothing to add to a complaint
	}
	if status == model.SubscriberErased {
		// Forget the address, keeping only its keyed hash, so that no
		// later import or stranger brings it back.
		if found {
			return rowUpdated, "", s.erase(ctx, cur)
		}
		key, err := s.suppressionKey(ctx)
		if err != nil {
			return 0, "", err
		}
		return rowSkipped, model.SubscriberErased, s.supp.SuppressErased(ctx, key, email)
	}
	sub, created, err := s.store.UpsertSubscriber(ctx, email, name, status)
	if err != nil {
		return 0, "", err
	}
	subStatus := ""
	if status == model.SubscriberComplained {
		subStatus = model.SubscriptionUnsubscribed
	}
	if _, err := s.store.UpsertSubscription(ctx, sub.ID, digest, secs, auths, subStatus); err != nil {
		return 0, "", err
	}
	if created {
		return rowAdded, "", nil
	}
	return rowUpdated, "", nil
}
