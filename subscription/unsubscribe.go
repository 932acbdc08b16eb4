package subscription

import (
	"context"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// Unsubscription is what an unsubscribe link names.
type Unsubscription struct {
	Subscription model.Subscription
	Email        model.Address
	DigestTitle  string
	// Undo is the token of the undo link, set when Unsubscribe just ended
	// the subscription (not for a one-click POST, which shows no page).
	Undo string
}

// ErrNoSubscription: the subscription an unsubscribe link names is gone.
var ErrNoSubscription = &model.Error{Code: model.ENOTFOUND, Message: "We could not find this subscription. It may have been removed already."}

// UnsubscribeTarget returns the subscription an unsubscribe link (tok)
// names, changing nothing.
func (s *Service) UnsubscribeTarget(ctx context.Context, tok string) (Unsubscription, error) {
	id, err := s.verify(tok, token.Unsubscribe)
	if err != nil {
		return Unsubscription{}, err
	}
	su, err := s.store.SubscriptionByID(ctx, id)
	if model.ErrorCode(err) == model.ENOTFOUND {
		return Unsubscription{}, ErrNoSubscription
	}
	if err != nil {
		return Unsubscription{}, err
	}
	u := Unsubscription{Subscription: su, DigestTitle: su.Digest}
	if d, err := s.digest(su.Digest); err == nil {
		u.DigestTitle = sanitize.Line(d.Title)
	}
	sub, err := s.store.SubscriberByID(ctx, su.SubscriberID)
	if err != nil {
		return u, err
	}
	u.Email = sub.Email
	return u, nil
}

// Unsubscribe ends the one subscription tok names (not the address: its
// other digests go on). oneClick says it came from a mail client's RFC 8058
// one-click POST, for the log.
func (s *Service) Unsubscribe(ctx context.Context, tok string, oneClick bool) (Unsubscription, error) {
	u, err := s.UnsubscribeTarget(ctx, tok)
	if err != nil {
		return u, err
	}
	if u.Subscription.Status != model.SubscriptionUnsubscribed {
		if !oneClick {
			before, err := s.store.SubscriptionsOf(ctx, u.Subscription.SubscriberID)
			if err != nil {
				return u, err
			}
			if u.Undo, err = s.snapshot(ctx, u.Subscription.SubscriberID, before); err != nil {
				return u, err
			}
		} else if err := s.dropUndos(ctx, u.Subscription.SubscriberID); err != nil {
			return u, err // an older page's undo link would bring this digest back
		}
		if err := s.store.SetSubscriptionStatus(ctx, u.Subscription.ID, model.SubscriptionUnsubscribed); err != nil {
			return u, err
		}
		u.Subscription.Status = model.SubscriptionUnsubscribed
		s.log.Info("unsubscribed", "subscription", u.Subscription.ID, "one_click", oneClick)
	}
	return u, nil
}
