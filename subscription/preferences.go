package subscription

import (
	"context"
	"slices"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// Preferences is what the preferences page shows: every configured digest,
// whether the reader takes it, and what they follow in it.
type Preferences struct {
	Subscriber model.Subscriber
	Digests    []DigestChoice
	// Undo is the token of the undo link, set when SavePreferences or
	// UnsubscribeAll just ended a subscription.
	Undo string
}

// DigestChoice is one digest on the preferences page or the subscribe form.
type DigestChoice struct {
	Name, Title string
	Description string // one line, from the config
	Local       bool   // sent at each reader's own time (delivery: local)
	Subscribed  bool
	// Sections and Authors are what the digest offers to follow: those its
	// config names, else every one with a valid slug (the subscribe form's
	// Offers lists authors only when the config names them).
	Sections []Choice
	Authors  []Choice
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

// offered returns the choices among all whose slug is valid and, when the
// digest names its own (own non-empty), among those.
func offered(all []Choice, own []string, followed []string) []Choice {
	var out []Choice
	for _, c := range all {
		if len(own) > 0 && !slices.Contains(own, c.Slug) {
			continue
		}
		c.Checked = slices.Contains(followed, c.Slug)
		out = append(out, c)
	}
	return out
}

// choices returns every section and author a reader may follow.
func (s *Service) choices(ctx context.Context) (secs, auths []Choice, err error) {
	ss, err := s.cont.Sections(ctx)
	if err != nil {
		return nil, nil, err
	}
	as, err := s.cont.Authors(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, x := range ss {
		if model.ValidSlug(x.Slug) {
			secs = append(secs, Choice{Slug: x.Slug, Name: sanitize.Line(x.Name)})
		}
	}
	for _, x := range as {
		if model.ValidSlug(x.Slug) {
			auths = append(auths, Choice{Slug: x.Slug, Name: sanitize.Line(x.Name)})
		}
	}
	return secs, auths, nil
}

func choiceOf(d config.Digest) DigestChoice {
	return DigestChoice{Name: d.Name, Title: sanitize.Line(d.Title), Description: sanitize.Line(d.Description), Local: d.Local()}
}

// Offers lists the configured digests as the subscribe form shows them:
// title, description, the sections each offers (its own, else every one),
// and the authors it offers when its config names them (a site's every
// author is no list to tick at sign-up: the preferences page finds them).
func (s *Service) Offers(ctx context.Context) ([]DigestChoice, error) {
	secs, auths, err := s.choices(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DigestChoice, 0, len(s.cfg.Digests))
	for _, d := range s.cfg.Digests {
		c := choiceOf(d)
		c.Sections = offered(secs, d.Sections, nil)
		if len(d.Authors) > 0 {
			c.Authors = offered(auths, d.Authors, nil)
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Service) preferencesOf(ctx context.Context, sub model.Subscriber) (Preferences, error) {
	p := Preferences{Subscriber: sub}
	subs, err := s.store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return p, err
	}
	secs, auths, err := s.choices(ctx)
	if err != nil {
		return p, err
	}
	for _, d := range s.cfg.Digests {
		c := choiceOf(d)
		var su model.Subscription
		for _, x := range subs {
			if x.Digest == d.Name {
				su = x
			}
		}
		c.Subscribed = su.ID != 0 && su.Status == model.SubscriptionActive
		c.Sections = offered(secs, d.Sections, su.Sections)
		c.Authors = offered(auths, d.Authors, su.Authors)
		p.Digests = append(p.Digests, c)
	}
	return p, nil
}

// SavePreferences applies what the reader a manage link (tok) names chose,
// by digest name: a ticked digest is active with the known slugs it
// follows; an unticked one they had is unsubscribed (with the follows as
// submitted); a
// digest missing from wanted counts as unticked. It returns the saved
// preferences, with an undo link's token when a subscription ended.
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
	var undo string
	for _, d := range s.cfg.Digests {
		w := wanted[d.Name]
		sections, authors := pick(w.Sections, validSec), pick(w.Authors, validAuth)
		i := slices.IndexFunc(subs, func(x model.Subscription) bool { return x.Digest == d.Name })
		switch {
		case w.Subscribed:
			if _, err := s.store.UpsertSubscription(ctx, sub.ID, d.Name, sections, authors, model.SubscriptionActive); err != nil {
				return Preferences{}, err
			}
		case i >= 0:
			if subs[i].Status == model.SubscriptionActive && undo == "" {
				if undo, err = s.snapshot(ctx, sub.ID, subs); err != nil {
					return Preferences{}, err
				}
			}
			if _, err := s.store.UpsertSubscription(ctx, sub.ID, d.Name, sections, authors, model.SubscriptionUnsubscribed); err != nil {
				return Preferences{}, err
			}
		}
	}
	if undo == "" {
		// No unsubscribe here, but the follows or digests changed: an
		// older undo link would now revert them.
		if err := s.dropUndos(ctx, sub.ID); err != nil {
			return Preferences{}, err
		}
	}
	s.log.Info("preferences saved", "subscriber", sub.ID)
	p, err := s.preferencesOf(ctx, sub)
	p.Undo = undo
	return p, err
}

// UnsubscribeAll ends every subscription of the reader a manage link (tok)
// names, keeping their follows, and returns the preferences with an undo
// link's token (none when nothing was active).
func (s *Service) UnsubscribeAll(ctx context.Context, tok string) (Preferences, error) {
	sub, err := s.subscriberFor(ctx, tok, token.Manage)
	if err != nil {
		return Preferences{}, err
	}
	subs, err := s.store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return Preferences{}, err
	}
	var undo string
	for _, su := range subs {
		if su.Status != model.SubscriptionActive {
			continue
		}
		if undo == "" {
			if undo, err = s.snapshot(ctx, sub.ID, subs); err != nil {
				return Preferences{}, err
			}
		}
		if err := s.store.SetSubscriptionStatus(ctx, su.ID, model.SubscriptionUnsubscribed); err != nil {
			return Preferences{}, err
		}
	}
	s.log.Info("unsubscribed from everything", "subscriber", sub.ID)
	p, err := s.preferencesOf(ctx, sub)
	p.Undo = undo
	return p, err
}

// SaveTimezone sets the time zone of the reader a manage link (tok) names:
// an IANA name, or "" to leave it unknown (each digest's own applies).
func (s *Service) SaveTimezone(ctx context.Context, tok, tz string) error {
	sub, err := s.subscriberFor(ctx, tok, token.Manage)
	if err != nil {
		return err
	}
	if tz, err = checkTimezone(tz); err != nil {
		return err
	}
	if tz == sub.Timezone {
		return nil
	}
	return s.store.SetSubscriberTimezone(ctx, sub.ID, tz)
}
