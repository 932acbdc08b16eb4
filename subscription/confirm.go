package subscription

import (
	"context"
	"errors"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/token"
)

// ErrNoSubscriber: the address a confirm or preferences link names is no
// longer on the list.
var ErrNoSubscriber = &model.Error{Code: model.ENOTFOUND, Message: "This address is no longer on our list. You can subscribe again on our site."}

// Confirmation is what a confirm link names: a subscriber's double
// opt-in, or (for an active reader taking a digest again) one
// subscription's.
type Confirmation struct {
	Subscriber   model.Subscriber
	Subscription model.Subscription // resubscribe links only
	DigestTitle  string             // resubscribe links only
	Done         bool               // nothing left to confirm
}

// ConfirmTarget returns what a confirm link (tok) names, changing nothing.
func (s *Service) ConfirmTarget(ctx context.Context, tok string) (Confirmation, error) {
	var c Confirmation
	id, err := s.verify(tok, token.Confirm)
	if errors.Is(err, ErrBadLink) {
		// Not a subscriber's confirm token: a subscription's?
		if sid, rerr := s.verify(tok, token.Resubscribe); rerr == nil || errors.Is(rerr, ErrExpiredLink) {
			if rerr != nil {
				return c, rerr
			}
			return s.resubscribeTarget(ctx, sid)
		}
	}
	if err != nil {
		return c, err
	}
	if c.Subscriber, err = s.subscriberByID(ctx, id); err != nil {
		return c, err
	}
	c.Done = c.Subscriber.Status == model.SubscriberActive
	return c, nil
}

func (s *Service) resubscribeTarget(ctx context.Context, subscriptionID int64) (Confirmation, error) {
	var c Confirmation
	su, err := s.store.SubscriptionByID(ctx, subscriptionID)
	if model.ErrorCode(err) == model.ENOTFOUND {
		return c, ErrNoSubscription
	}
	if err != nil {
		return c, err
	}
	if c.Subscriber, err = s.subscriberByID(ctx, su.SubscriberID); err != nil {
		return c, err
	}
	c.Subscription, c.DigestTitle = su, su.Digest
	if d, err := s.digest(su.Digest); err == nil {
		c.DigestTitle = d.Title
	}
	c.Done = su.Status == model.SubscriptionActive && c.Subscriber.Status == model.SubscriberActive
	return c, nil
}

// subscriberFor returns the subscriber a link's token (made for purpose)
// names; an erased one counts as gone.
func (s *Service) subscriberFor(ctx context.Context, tok, purpose string) (model.Subscriber, error) {
	id, err := s.verify(tok, purpose)
	if err != nil {
		return model.Subscriber{}, err
	}
	return s.subscriberByID(ctx, id)
}

// subscriberByID returns a subscriber; an erased one counts as gone.
func (s *Service) subscriberByID(ctx context.Context, id int64) (model.Subscriber, error) {
	sub, err := s.store.SubscriberByID(ctx, id)
	if model.ErrorCode(err) == model.ENOTFOUND || err == nil && sub.Status == model.SubscriberErased {
		return model.Subscriber{}, ErrNoSubscriber
	}
	return sub, err
}

// Confirm completes the double opt-in a confirm link (tok) names: the
// address becomes active — lifting bounced and erased, as design.md says —
// and, for a resubscribe link, its subscription too. An address a
// complaint or an operator put on the suppression list stays there
// (ErrSuppressed): only `herald suppressions remove` lifts that.
func (s *Service) Confirm(ctx context.Context, tok string) (model.Subscriber, error) {
	c, err := s.ConfirmTarget(ctx, tok)
	if err != nil {
		return c.Subscriber, err
	}
	sub := c.Subscriber
	if _, blocked, err := s.suppressions(ctx, sub.Email); err != nil {
		return sub, err
	} else if blocked || sub.Status == model.SubscriberComplained {
		return sub, ErrSuppressed
	}
	if c.Subscription.ID != 0 && c.Subscription.Status != model.SubscriptionActive {
		if err := s.store.SetSubscriptionStatus(ctx, c.Subscription.ID, model.SubscriptionActive); err != nil {
			return sub, err
		}
		s.log.Info("subscription taken again", "subscription", c.Subscription.ID)
	}
	if sub.Status != model.SubscriberActive {
		if err := s.store.SetSubscriberStatus(ctx, sub.ID, model.SubscriberActive); err != nil {
			return sub, err
		}
		sub.Status = model.SubscriberActive
		s.log.Info("subscriber confirmed", "subscriber", sub.ID)
	}
	key, err := s.suppressionKey(ctx)
	if err != nil {
		return sub, err
	}
	return sub, s.supp.LiftErased(ctx, key, sub.Email)
}
