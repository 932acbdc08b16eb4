package subscription

import (
	"context"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
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
	Confirmed bool   // add as active, without the confirmation email
	// Async sends the confirmation email in the background (the daemon's
	// POST /subscribe): the answer then takes the same time whether or not
	// the address is new, and an SMTP hiccup is logged rather than shown.
	// Service.Wait waits for such sends.
	Async bool
}

// Subscribe creates or updates a subscriber and their subscription to one
// digest. Unless req.Confirmed, a new or still pending subscriber stays
// pending and is sent a confirmation email (double opt-in); an active one
// keeps its status. A bounced or erased address is made pending again and
// must confirm. An unconfirmed request for an address that is already
// active changes nothing (a stranger must not alter someone's
// subscriptions; the subscriber uses the preferences page linked from every
// digest). It returns the subscriber and whether a confirmation email went
// out.
func (s *Service) Subscribe(ctx context.Context, req Request) (model.Subscriber, bool, error) {
	email, err := model.ParseAddress(req.Email)
	if err != nil {
		return model.Subscriber{}, false, err
	}
	d, err := s.digest(req.Digest)
	if err != nil {
		return model.Subscriber{}, false, err
	}
	if err := s.checkSlugs(ctx, req.Sections, req.Authors); err != nil {
		return model.Subscriber{}, false, err
	}
	tz, err := checkTimezone(req.Timezone)
	if err != nil {
		return model.Subscriber{}, false, err
	}
	name := sanitize.Line(req.Name)
	if len([]rune(name)) > 200 {
		name = string([]rune(name)[:200])
	}
	status := ""
	if req.Confirmed {
		status = model.SubscriberActive
	} else if cur, ok, err := s.store.FindSubscriber(ctx, email); err != nil {
		return model.Subscriber{}, false, err
	} else if ok && (cur.Status == model.SubscriberBounced || cur.Status == model.SubscriberErased) {
		status = model.SubscriberPending
	} else if ok && cur.Status == model.SubscriberActive {
		s.log.Info("subscribe request for an active address ignored", "subscriber", cur.ID)
		return cur, false, nil
	}
	sub, _, err := s.store.UpsertSubscriber(ctx, email, name, status)
	if err != nil {
		return sub, false, err
	}
	if err := s.setTimezone(ctx, &sub, tz); err != nil {
		return sub, false, err
	}
	if _, err := s.store.UpsertSubscription(ctx, sub.ID, d.Name, req.Sections, req.Authors, model.SubscriptionActive); err != nil {
		return sub, false, err
	}
	if sub.Status != model.SubscriberPending {
		return sub, false, nil
	}
	if !s.confirmDue(sub.Email) {
		s.log.Info("confirmation not resent: one went out recently", "subscriber", sub.ID)
		return sub, false, nil
	}
	if req.Async {
		bctx := context.WithoutCancel(ctx)
		s.bg.Go(func() {
			if err := s.SendConfirmation(bctx, sub); err != nil {
				s.log.Warn("confirmation email failed", "subscriber", sub.ID, "err", err)
				s.forgetConfirm(sub.Email) // let the next request try again
			}
		})
		return sub, true, nil
	}
	if err := s.SendConfirmation(ctx, sub); err != nil {
		s.forgetConfirm(sub.Email)
		return sub, false, err
	}
	return sub, true, nil
}

// confirmDue records that address is about to get a confirmation email,
// reporting false when it got one less than ConfirmEvery ago.
func (s *Service) confirmDue(address model.Address) bool {
	s.confirmAtMu.Lock()
	defer s.confirmAtMu.Unlock()
	now := s.now()
	if len(s.confirmAt) > 100_000 {
		clear(s.confirmAt)
	}
	if last, ok := s.confirmAt[address]; ok && now.Sub(last) < ConfirmEvery {
		return false
	}
	s.confirmAt[address] = now
	return true
}

func (s *Service) forgetConfirm(address model.Address) {
	s.confirmAtMu.Lock()
	delete(s.confirmAt, address)
	s.confirmAtMu.Unlock()
}
