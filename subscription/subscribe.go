package subscription

import (
	"context"
	"fmt"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// Request is one subscriber to add: the CLI's `subscribers add` and the
// daemon's POST /subscribe.
type Request struct {
	Email     string
	Name      string
	Digest    string   // "" for the first digest
	Sections  []string // follows; none means everything
	Authors   []string
	Timezone  string // IANA name; "" keeps the reader's (unknown: each digest's own)
	Confirmed bool   // add as active, without the confirmation email (the CLI's --confirmed)
}

// checked is a Request that passed check.
type checked struct {
	email    model.Address
	name     string
	digest   config.Digest
	sections []string
	authors  []string
	timezone string
}

// check validates req — the address, the digest, the follows, the zone —
// the same way for every address, looking nothing up about it.
func (s *Service) check(ctx context.Context, req Request) (checked, error) {
	var c checked
	var err error
	if c.email, err = model.ParseAddress(req.Email); err != nil {
		return c, err
	}
	if c.digest, err = s.digest(req.Digest); err != nil {
		return c, err
	}
	if err := s.checkSlugs(ctx, req.Sections, req.Authors); err != nil {
		return c, err
	}
	if c.timezone, err = checkTimezone(req.Timezone); err != nil {
		return c, err
	}
	c.name, c.sections, c.authors = cleanName(req.Name), req.Sections, req.Authors
	return c, nil
}

// Enqueue is POST /subscribe's whole work: it checks req (errors are for
// the request itself: a bad address, an unknown digest) and records it
// for the worker (Run), which applies the rules and mails. It does the
// same whatever the address's state, so neither the answer nor its timing
// tells whether the address is subscribed.
func (s *Service) Enqueue(ctx context.Context, req Request) error {
	c, err := s.check(ctx, req)
	if err != nil {
		return err
	}
	if _, err := s.intake.AddIntake(ctx, model.Intake{Email: c.email, Name: c.name, Digest: c.digest.Name,
		Sections: c.sections, Authors: c.authors, Timezone: c.timezone}); err != nil {
		return err
	}
	select {
	case s.nudge <- struct{}{}:
	default:
	}
	return nil
}

// Subscribe applies req now, as `subscribers add` does: with Confirmed
// the address is active at once (refused while it is suppressed);
// otherwise the rules for a returning reader apply (see apply) and the
// mail they queue is sent before Subscribe returns (ErrQueued when another
// process holds the queue and will send it). It returns the subscriber and
// whether a mail went out.
func (s *Service) Subscribe(ctx context.Context, req Request) (model.Subscriber, bool, error) {
	c, err := s.check(ctx, req)
	if err != nil {
		return model.Subscriber{}, false, err
	}
	sub, mailID, err := s.apply(ctx, c, req.Confirmed)
	if err != nil || mailID == 0 {
		return sub, false, err
	}
	res, err := s.sendQueued(ctx, mailID)
	if err != nil {
		return sub, false, err // ErrQueued: the daemon sends it
	}
	if res.Outcome != model.Accepted {
		return sub, false, fmt.Errorf("subscription: mail to %s: %s (%s); queued for retry", sub.Email, res.Outcome, res.Reply)
	}
	return sub, true, nil
}

// apply applies one subscribe request's rules and returns the subscriber
// and the id of the mail it queued (0: none):
//
//   - on the suppression list for good (a complaint, an operator's
//     entry): nothing, and an error when confirmed (the CLI says so);
//   - confirmed (the CLI's --confirmed): active at once with these follows;
//   - a new address (or an erased one): pending, with this subscription,
//     and a confirmation;
//   - pending: these follows, and the confirmation again;
//   - bounced: this subscription, and a confirmation (its completion
//     lifts bounced);
//   - active and already taking this digest: a link to the preferences
//     page; its subscriptions stay as they are (a stranger must not change
//     them);
//   - active and not taking this digest (unsubscribed, or never): a
//     confirmation for that subscription only.
//
// Each mail at most once per address per ConfirmEvery.
func (s *Service) apply(ctx context.Context, c checked, confirmed bool) (model.Subscriber, int64, error) {
	sps, blocked, err := s.suppressions(ctx, c.email)
	if err != nil {
		return model.Subscriber{}, 0, err
	}
	if blocked || confirmed && len(sps) > 0 {
		if confirmed {
			return model.Subscriber{}, 0, ErrSuppressed.With("%s is on the suppression list (%s): lift it with `herald suppressions remove %s` first",
				c.email, sps[0].Reason, c.email)
		}
		s.log.Info("subscribe request for a suppressed address ignored")
		return model.Subscriber{}, 0, nil
	}
	if confirmed {
		sub, _, err := s.store.UpsertSubscriber(ctx, c.email, c.name, model.SubscriberActive)
		if err != nil {
			return sub, 0, err
		}
		if err := s.setTimezone(ctx, &sub, c.timezone); err != nil {
			return sub, 0, err
		}
		_, err = s.store.UpsertSubscription(ctx, sub.ID, c.digest.Name, c.sections, c.authors, model.SubscriptionActive)
		return sub, 0, err
	}
	cur, found, err := s.store.FindSubscriber(ctx, c.email)
	if err != nil {
		return cur, 0, err
	}
	mail := model.Mail{Kind: model.MailConfirm}
	switch {
	case found && cur.Status == model.SubscriberActive:
		subs, err := s.store.SubscriptionsOf(ctx, cur.ID)
		if err != nil {
			return cur, 0, err
		}
		var su model.Subscription
		for _, x := range subs {
			if x.Digest == c.digest.Name {
				su = x
			}
		}
		switch {
		case su.ID != 0 && su.Status == model.SubscriptionActive:
			mail.Kind = model.MailManage
		case su.ID == 0:
			// A new subscription, ended until its link is followed.
			if su, err = s.store.UpsertSubscription(ctx, cur.ID, c.digest.Name, c.sections, c.authors, model.SubscriptionUnsubscribed); err != nil {
				return cur, 0, err
			}
			fallthrough
		default:
			mail.Kind, mail.SubscriptionID = model.MailResubscribe, su.ID
		}
	default: // new, pending, bounced, erased: double opt-in
		if cur, _, err = s.store.UpsertSubscriber(ctx, c.email, c.name, ""); err != nil {
			return cur, 0, err
		}
		if err := s.setTimezone(ctx, &cur, c.timezone); err != nil {
			return cur, 0, err
		}
		if _, err := s.store.UpsertSubscription(ctx, cur.ID, c.digest.Name, c.sections, c.authors, model.SubscriptionActive); err != nil {
			return cur, 0, err
		}
	}
	if recent, err := s.queue.MailedSince(ctx, cur.Email, s.now().Add(-ConfirmEvery)); err != nil {
		return cur, 0, err
	} else if recent {
		s.log.Info("subscribe mail not sent: one went out recently", "subscriber", cur.ID)
		return cur, 0, nil
	}
	mail.SubscriberID, mail.To = cur.ID, cur.Email
	id, err := s.queue.EnqueueMail(ctx, mail)
	if err != nil {
		return cur, 0, err
	}
	s.log.Info("subscribe mail queued", "subscriber", cur.ID, "kind", mail.Kind, "mail", id)
	return cur, id, nil
}
