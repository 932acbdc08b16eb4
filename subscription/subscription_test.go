package subscription_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/testkit"
	"github.com/heraldnews/herald/internal/token"
	"github.com/heraldnews/herald/subscription"
)

// The confirmation email, byte for byte (it moved here from package digest
// with its golden file: the same config, clock and subscriber id).
func TestGoldenConfirmation(t *testing.T) {
	e := newEnv(t)
	e.subscriber("ada@example.com", "Ada Lovelace", model.SubscriberActive, nil, nil)
	e.clock.Add(time.Second)
	sub, mailed, err := e.svc.Subscribe(context.Background(), subscription.Request{Email: "new@example.com", Name: "New Reader"})
	if err != nil || !mailed {
		t.Fatal(mailed, err)
	}
	msg, err := e.svc.ConfirmationMessage(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := mailer.WriteMessage(&b, msg); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/confirm.eml", b.Bytes())
	if got := e.mailTo("new@example.com"); len(got) != 1 || !bytes.Contains(got[0], []byte("/confirm?token=3D")) {
		t.Fatalf("confirmation over SMTP: %d messages", len(got))
	}
}

func TestSubscribeConfirmUnsubscribe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, mailed, err := e.svc.Subscribe(ctx, subscription.Request{Email: " New@Example.COM ", Name: "New Reader", Sections: []string{"world"}})
	if err != nil || !mailed || sub.Status != model.SubscriberPending || sub.Email != "New@example.com" {
		t.Fatalf("%+v %v %v", sub, mailed, err)
	}
	tok := e.svc.Tokens().Make(token.Confirm, sub.ID, time.Hour)
	if got, err := e.svc.ConfirmTarget(ctx, tok); err != nil || got.Subscriber.Status != model.SubscriberPending {
		t.Fatalf("target %+v %v", got, err)
	}
	if got, err := e.svc.Confirm(ctx, tok); err != nil || got.Status != model.SubscriberActive {
		t.Fatalf("confirm %+v %v", got, err)
	}
	subs, _ := e.store.SubscriptionsOf(ctx, sub.ID)
	u, err := e.svc.Unsubscribe(ctx, e.svc.Tokens().Make(token.Unsubscribe, subs[0].ID, time.Hour), true)
	if err != nil || u.Subscription.Status != model.SubscriptionUnsubscribed || u.DigestTitle != "Morning Briefing" {
		t.Fatalf("unsubscribe %+v %v", u, err)
	}
	if s, _ := e.store.SubscriberByID(ctx, sub.ID); s.Status != model.SubscriberActive {
		t.Fatal("unsubscribe ended the address, not the subscription")
	}
}

// Refused links come back as domain errors whose code the HTTP layer maps.
func TestLinksRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := e.subscriber("a@example.com", "", model.SubscriberPending, nil, nil)
	good := e.svc.Tokens().Make(token.Confirm, sub.ID, time.Hour)
	for name, tc := range map[string]struct {
		tok  string
		code string
	}{
		"expired":       {e.svc.Tokens().Make(token.Confirm, sub.ID, -time.Minute), model.EEXPIRED},
		"tampered":      {good[:len(good)-2] + "xx", model.EINVALID},
		"other purpose": {e.svc.Tokens().Make(token.Manage, sub.ID, time.Hour), model.EINVALID},
		"unknown id":    {e.svc.Tokens().Make(token.Confirm, 999, time.Hour), model.ENOTFOUND},
	} {
		if _, err := e.svc.Confirm(ctx, tc.tok); model.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want code %s", name, err, tc.code)
		}
	}
	if s, _ := e.store.SubscriberByID(ctx, sub.ID); s.Status != model.SubscriberPending {
		t.Fatal("a refused token changed state")
	}
}

func TestUnconfirmedSubscribeLeavesActiveSubscriberAlone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := e.subscriber("a@example.com", "A", model.SubscriberActive, []string{"world"}, nil)
	subs, _ := e.store.SubscriptionsOf(ctx, sub.ID)
	if err := e.store.SetSubscriptionStatus(ctx, subs[0].ID, model.SubscriptionUnsubscribed); err != nil {
		t.Fatal(err)
	}
	// The reader gets a confirmation for that subscription (issue 14:
	// an unsubscribed subscription starts double opt-in again); until it
	// is followed, nothing changes.
	if _, mailed, err := e.svc.Subscribe(ctx, subscription.Request{Email: "A@example.com", Sections: []string{"sport"}}); err != nil || !mailed {
		t.Fatal(mailed, err)
	}
	subs, _ = e.store.SubscriptionsOf(ctx, sub.ID)
	if subs[0].Status != model.SubscriptionUnsubscribed || strings.Join(subs[0].Sections, ",") != "world" {
		t.Fatalf("a stranger's request changed the subscription: %+v", subs[0])
	}
	if _, _, err := e.svc.Subscribe(ctx, subscription.Request{Email: "a@exam ple.com"}); !errors.Is(err, model.ErrInvalidAddress) {
		t.Fatalf("bad address: %v", err)
	}
	if _, _, err := e.svc.Subscribe(ctx, subscription.Request{Email: "b@example.com", Digest: "nope"}); !errors.Is(err, subscription.ErrUnknownDigest) || model.ErrorCode(err) != model.EINVALID {
		t.Fatalf("unknown digest: %v", err)
	}
	if _, _, err := e.svc.Subscribe(ctx, subscription.Request{Email: "b@example.com", Sections: []string{"nope"}}); !errors.Is(err, subscription.ErrUnknownSlug) {
		t.Fatalf("unknown section: %v", err)
	}
}

func TestPreferencesSaved(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := e.subscriber("a@example.com", "", model.SubscriberActive, nil, nil)
	tok := e.svc.Tokens().Make(token.Manage, sub.ID, time.Hour)
	p, err := e.svc.SavePreferences(ctx, tok, map[string]subscription.Wanted{
		"daily": {Subscribed: true, Sections: []string{"sport", "nope", "sport"}, Authors: []string{"ann"}}})
	if err != nil || len(p.Digests) != 1 || !p.Digests[0].Subscribed {
		t.Fatalf("%+v %v", p, err)
	}
	subs, _ := e.store.SubscriptionsOf(ctx, sub.ID)
	if strings.Join(subs[0].Sections, ",") != "sport" || strings.Join(subs[0].Authors, ",") != "ann" {
		t.Fatalf("saved %+v", subs[0])
	}
	if _, err := e.svc.SavePreferences(ctx, tok, nil); err != nil {
		t.Fatal(err)
	}
	subs, _ = e.store.SubscriptionsOf(ctx, sub.ID)
	if subs[0].Status != model.SubscriptionUnsubscribed {
		t.Fatalf("unticked digest still active: %+v", subs)
	}
}
