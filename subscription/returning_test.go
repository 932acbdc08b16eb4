package subscription_test

import (
	"context"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/subscription"
)

var linkRE = regexp.MustCompile(`https://news\.example\.com/(confirm|preferences)\?token=([A-Za-z0-9_.-]+)`)

// lastMail returns the subject and the link of the last message to addr,
// and how many it got.
func (e *env) lastMail(addr string) (subject, page, tok string, n int) {
	e.t.Helper()
	raws := e.mailTo(addr)
	if len(raws) == 0 {
		return "", "", "", 0
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raws[len(raws)-1])))
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(msg.Body)
	text, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(body))))
	m := linkRE.FindStringSubmatch(string(text))
	if m == nil {
		e.t.Fatalf("no link in the mail to %s:\n%s", addr, text)
	}
	return msg.Header.Get("Subject"), m[1], m[2], len(raws)
}

// POST /subscribe answers the same for every address; what follows
// depends on the address (issue 14, returning readers): a new or pending
// address gets a confirmation, an active reader a link to the preferences
// page, a reader who left the digest a confirmation for that digest, a
// bounced address a confirmation whose completion lifts bounced; a
// complained or operator-suppressed address gets nothing. Each at most
// once per address per ten minutes.
func TestReturningReaders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.subscriber("pend@example.com", "", model.SubscriberPending, nil, nil)
	e.subscriber("act@example.com", "", model.SubscriberActive, []string{"world"}, nil)
	left := e.subscriber("left@example.com", "", model.SubscriberActive, []string{"world"}, nil)
	subs, _ := e.store.SubscriptionsOf(ctx, left.ID)
	e.store.SetSubscriptionStatus(ctx, subs[0].ID, model.SubscriptionUnsubscribed)
	e.subscriber("bounce@example.com", "", model.SubscriberBounced, nil, nil)
	e.subscriber("compl@example.com", "", model.SubscriberComplained, nil, nil)
	e.subscriber("op@example.com", "", model.SubscriberActive, nil, nil)
	if err := e.store.Suppress(ctx, "op@example.com", "asked by phone"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Suppress(ctx, "@blocked.example", ""); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		addr, page string // page: the link's page; "" for no mail
		subject    string
	}{
		{"new@example.com", "confirm", "Confirm"},
		{"pend@example.com", "confirm", "Confirm"},
		{"act@example.com", "preferences", "Your subscription"},
		{"left@example.com", "confirm", "Confirm"},
		{"bounce@example.com", "confirm", "Confirm"},
		{"compl@example.com", "", ""},
		{"op@example.com", "", ""},
		{"anyone@blocked.example", "", ""},
	}
	for _, tc := range cases {
		if err := e.svc.Enqueue(ctx, subscription.Request{Email: tc.addr, Sections: []string{"sport"}}); err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
	}
	e.svc.Wait()
	toks := map[string]string{}
	for _, tc := range cases {
		subject, page, tok, n := e.lastMail(tc.addr)
		if page != tc.page || !strings.Contains(subject, tc.subject) || tc.page != "" && n != 1 {
			t.Errorf("%s: %d mails, the last %q with a %s link; want one %q with a %s link", tc.addr, n, subject, page, tc.subject, tc.page)
		}
		toks[tc.addr] = tok
	}
	// An active reader's follows are not a stranger's to change.
	act, _, _ := e.store.FindSubscriber(ctx, "act@example.com")
	if subs, _ := e.store.SubscriptionsOf(ctx, act.ID); strings.Join(subs[0].Sections, ",") != "world" {
		t.Errorf("a subscribe request changed an active reader's follows: %+v", subs[0])
	}

	// Ten minutes: no second mail to any address, however often asked.
	for _, tc := range cases {
		e.svc.Enqueue(ctx, subscription.Request{Email: tc.addr})
	}
	e.svc.Wait()
	for _, tc := range cases {
		if _, _, _, n := e.lastMail(tc.addr); tc.page != "" && n != 1 {
			t.Errorf("%s got %d mails within ten minutes", tc.addr, n)
		}
	}
	e.clock.Add(subscription.ConfirmEvery + time.Second)
	e.svc.Enqueue(ctx, subscription.Request{Email: "pend@example.com"})
	e.svc.Wait()
	if _, _, _, n := e.lastMail("pend@example.com"); n != 2 {
		t.Errorf("pending address: %d mails after ten minutes, want 2", n)
	}

	// The reader who left follows the link: that subscription is back,
	// with the follows it had.
	if _, err := e.svc.Confirm(ctx, toks["left@example.com"]); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.store.SubscriptionByID(ctx, subs[0].ID); s.Status != model.SubscriptionActive || strings.Join(s.Sections, ",") != "world" {
		t.Errorf("resubscribed: %+v", s)
	}
	// The bounced address confirms: bounced is lifted.
	if sub, err := e.svc.Confirm(ctx, toks["bounce@example.com"]); err != nil || sub.Status != model.SubscriberActive {
		t.Errorf("bounced address confirmed: %+v %v", sub, err)
	}
}

// A complaint stays until `suppressions remove`: even a confirm link the
// address got before it complained is refused.
func TestComplainedAddressCannotConfirm(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.svc.Enqueue(ctx, subscription.Request{Email: "c@example.com"}); err != nil {
		t.Fatal(err)
	}
	e.svc.Wait()
	_, _, tok, _ := e.lastMail("c@example.com")
	sub, _, _ := e.store.FindSubscriber(ctx, "c@example.com")
	if err := e.store.SetSubscriberStatus(ctx, sub.ID, model.SubscriberComplained); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Confirm(ctx, tok); model.ErrorCode(err) != model.EINVALID {
		t.Fatalf("confirm after a complaint: %v", err)
	}
	if s, _ := e.store.SubscriberByID(ctx, sub.ID); s.Status != model.SubscriberComplained {
		t.Fatalf("status %s", s.Status)
	}
}

// Transactional mail has the outbox's promise (issue 11, item 3): a
// temporary failure leaves it queued and it is retried after the backoff;
// a permanent 5.1.1 fails it and marks the address bounced.
func TestTransactionalMailRetried(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var fail atomic.Bool
	fail.Store(true)
	e.smtp.SetHook(func(a *smtptest.Attempt) smtptest.Action {
		switch {
		case a.Stage == smtptest.StageRcpt && a.Rcpt == "gone@example.com":
			return smtptest.Reply(550, "5.1.1", "no such user")
		case a.Stage == smtptest.StageData && fail.Load():
			return smtptest.Reply(451, "4.3.0", "try again later")
		}
		return smtptest.Accept()
	})
	e.svc.Enqueue(ctx, subscription.Request{Email: "r@example.com"})
	e.svc.Wait()
	if n := len(e.mailTo("r@example.com")); n != 0 {
		t.Fatalf("%d delivered through a 451", n)
	}
	fail.Store(false)
	e.svc.Wait() // not due yet
	if n := len(e.mailTo("r@example.com")); n != 0 {
		t.Fatalf("retried before its backoff: %d", n)
	}
	e.clock.Add(31 * time.Second)
	e.svc.Wait()
	if n := len(e.mailTo("r@example.com")); n != 1 {
		t.Fatalf("%d confirmations after the retry, want 1", n)
	}
	e.svc.Enqueue(ctx, subscription.Request{Email: "gone@example.com"})
	e.svc.Wait()
	if s, _, _ := e.store.FindSubscriber(ctx, "gone@example.com"); s.Status != model.SubscriberBounced {
		t.Errorf("a 5.1.1 on the confirmation left the address %s", s.Status)
	}
}
