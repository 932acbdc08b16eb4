package subscription

import (
	"context"
	"slices"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// Preferences is what the preferences page shows: every configured digest,
// whether the reader takes it, and what they follow in it.
type Preferences struct {
	Subscriber model.Subscriber
	Digests    []DigestChoice
}

// DigestChoice is one digest on the preferences page.
type DigestChoice struct {
	Name, Title string
	Subscribed  bool
	Sections    []Choice
	Authors     []Choice
}

// Choice is one section or author that can be followed.
type Choice struct {
	Slug, Name string
	Checked    bool
}

// Wanted is a reader's submitted preferences for one digest.
type Wanted struct {
	Subscribed bool
	Sections   []string // slugs; unknown ones are dropped
	Authors    []string
}

// Preferences returns the preferences of the subscriber a manage link
// (tok) names.
func (s *Service) Preferences(ctx context.Context, tok string) (Preferences, error) {
	sub, err := s.subscriberFor(ctx, tok, token.Manage)
	if err != nil {
		return Preferences{}, err
	}
	return s.preferencesOf(ctx, sub)
}

func (s *Service) preferencesOf(ctx context.Context, sub model.Subscriber) (Preferences, error) {
	p := Preferences{Subscriber: sub}
	subs, err := s.store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return p, err
	}
	secs, err := s.cont.Sections(ctx)
	if err != nil {
		return p, err
	}
	auths, err := s.cont.Authors(ctx)
	if err != nil {
		return p, err
	}
	for _, d := range s.cfg.Digests {
		c := DigestChoice{Name: d.Name, Title: sanitize.Line(d.Title)}
		var su model.Subscription
		for _, x := range subs {
			if x.Digest == d.Name {
				su = x
			}
		}
		c.Subscribed = su.ID != 0 && su.Status == model.SubscriptionActive
		for _, x := range secs {
			if model.ValidSlug(x.Slug) {
				c.Sections = append(c.Sections, Choice{Slug: x.Slug, Name: sanitize.Line(x.Name), Checked: slices.Contains(su.Sections, x.Slug)})
			}
		}
		for _, x := range auths {
			if model.ValidSlug(x.Slug) {
				c.Authors = append(c.Authors, Choice{Slug: x.Slug, Name: sanitize.Line(x.Name), Checked: slices.Contains(su.Authors, x.Slug)})
			}
		}
		p.Digests = append(p.Digests, c)
	}
	return p, nil
}

// SavePreferences applies what the reader a manage link (tok) names chose,
// by digest name: a ticked digest is active with the known slugs it
// follows; an unticked one they had is unsubscribed (with the follows as
// submitted); a
// digest missing from wanted counts as unticked. It returns the saved
// preferences.
func (s *Service) SavePreferences(ctx context.Context, tok string, wanted map[string]Wanted) (Preferences, error) {
	sub, err := s.subscriberFor(ctx, tok, token.Manage)
	if err != nil {
		return Preferences{}, err
	}
	subs, err := s.store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return Preferences{}, err
	}
	validSec, validAuth, err := s.slugSets(ctx)
	if err != nil {
		return Preferences{}, err
	}
	pick := func(vals []string, valid map[string]bool) []string {
		var out []string
		for _, v := range vals {
			if valid[v] && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	for _, d := range s.cfg.Digests {
		w := wanted[d.Name]
		sections, authors := pick(w.Sections, validSec), pick(w.Authors, validAuth)
		had := slices.ContainsFunc(subs, func(x model.Subscription) bool { return x.Digest == d.Name })
		switch {
		case w.Subscribed:
			if _, err := s.store.UpsertSubscription(ctx, sub.ID, d.Name, sections, authors, model.SubscriptionActive); err != nil {
				return Preferences{}, err
			}
		case had:
			if _, err := s.store.UpsertSubscription(ctx, sub.ID, d.Name, sections, authors, model.SubscriptionUnsubscribed); err != nil {
				return Preferences{}, err
			}
		}
	}
	s.log.Info("preferences saved", "subscriber", sub.ID)
	return s.preferencesOf(ctx, sub)
}
