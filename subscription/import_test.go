package subscription_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/subscription"
)

// A CMS's export of everyone it ever knew, imported after readers left —
// one unsubscribed, one bounced, one complained, one erased, one an
// operator suppressed — reactivates no one, whether its status column says
// active or is empty (issue 14: imports keep opt-outs). The report counts
// each skip by reason with its line. --resubscribe brings back the
// unsubscribed subscription only.
func TestImportKeepsOptOuts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cms := "email,name,digest,sections,authors,status\n" +
		"stay@example.com,Stay,daily,,,active\n" +
		"unsub@example.com,Unsub,daily,,,active\n" +
		"bounce@example.com,Bounce,daily,,,\n" +
		"compl@example.com,Compl,daily,,,active\n" +
		"erased@example.com,Erased,daily,,,\n" +
		"op@example.com,Op,daily,,,active\n" +
		"op2@blocked.example,Op2,daily,,,active\n"
	if rep, err := e.svc.Import(ctx, strings.NewReader(cms)); err != nil || rep.Added != 7 {
		t.Fatalf("first import: %+v %v", rep, err)
	}
	// The readers leave, each their own way.
	unsub, _, _ := e.store.FindSubscriber(ctx, "unsub@example.com")
	subs, _ := e.store.SubscriptionsOf(ctx, unsub.ID)
	e.store.SetSubscriptionStatus(ctx, subs[0].ID, model.SubscriptionUnsubscribed)
	b, _, _ := e.store.FindSubscriber(ctx, "bounce@example.com")
	e.store.SetSubscriberStatus(ctx, b.ID, model.SubscriberBounced)
	c, _, _ := e.store.FindSubscriber(ctx, "compl@example.com")
	e.store.SetSubscriberStatus(ctx, c.ID, model.SubscriberComplained)
	if err := e.svc.EraseAddress(ctx, "erased@example.com"); err != nil {
		t.Fatal(err)
	}
	e.store.Suppress(ctx, "op@example.com", "asked by letter")
	e.store.Suppress(ctx, "@blocked.example", "")

	rep, err := e.svc.Import(ctx, strings.NewReader(cms))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{3: "unsubscribed", 4: "bounced", 5: "complained", 6: "erased", 7: "operator", 8: "operator"}
	if len(rep.Skipped) != len(want) || rep.Updated != 1 || rep.Added != 0 || len(rep.Bad) != 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, sk := range rep.Skipped {
		if want[sk.Line] != sk.Reason {
			t.Errorf("line %d skipped as %q, want %q", sk.Line, sk.Reason, want[sk.Line])
		}
	}
	check := func(addr, status, subStatus string) {
		t.Helper()
		sub, found, _ := e.store.FindSubscriber(ctx, model.Address(addr))
		if !found {
			if status != "" {
				t.Errorf("%s is gone", addr)
			}
			return
		}
		subs, _ := e.store.SubscriptionsOf(ctx, sub.ID)
		if sub.Status != status || len(subs) != 1 || subs[0].Status != subStatus {
			t.Errorf("%s: %s / %v; want %s / %s", addr, sub.Status, subs, status, subStatus)
		}
	}
	check("unsub@example.com", model.SubscriberActive, model.SubscriptionUnsubscribed)
	check("bounce@example.com", model.SubscriberBounced, model.SubscriptionActive)
	check("compl@example.com", model.SubscriberComplained, model.SubscriptionActive)
	check("erased@example.com", "", "")
	// Nothing goes out to any of them.
	active, _ := e.store.ActiveSubscriptions(ctx, "daily", 0, 100)
	if len(active) != 1 {
		t.Errorf("%d subscriptions would be planned, want stay@ only", len(active))
	}

	// --resubscribe: the unsubscribed subscription, and nothing else.
	rep, err = e.svc.ImportWith(ctx, strings.NewReader(cms), subscription.ImportOptions{Resubscribe: true})
	if err != nil || len(rep.Skipped) != 5 {
		t.Fatalf("--resubscribe: %+v %v", rep, err)
	}
	check("unsub@example.com", model.SubscriberActive, model.SubscriptionActive)
	check("bounce@example.com", model.SubscriberBounced, model.SubscriptionActive)
	check("compl@example.com", model.SubscriberComplained, model.SubscriptionActive)
}
