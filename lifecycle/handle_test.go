package lifecycle_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/lifecycle"
)

const bare = "news+bounces@news.example.com"

// The policy, one kind of report each, matched each of the three ways:
// a hard bounce marks the address bounced; soft bounces count over
// distinct editions within bounces.soft_window; a report that blames the
// sender changes nothing for the address; a complaint ends every
// subscription and suppresses the address; what is not a bounce changes
// nothing (issue 14).
func TestPolicy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, a := range []string{"hard@example.org", "soft@example.org", "sender@example.org", "compl@example.org", "addr@example.org", "calm@example.org"} {
		e.reader(a)
	}
	ed := e.edition()
	handle := func(rcpts []string, raw []byte) lifecycle.Outcome {
		t.Helper()
		out, err := e.svc.HandleRaw(ctx, "test", rcpts, raw)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	// Hard, by the VERP token of the envelope recipient.
	hardTo := string(e.verp.Delivery(ed["hard@example.org"].ID))
	if out := handle([]string{hardTo}, dsn(hardTo, "hard@example.org", "5.1.1", "550 5.1.1 <hard@example.org>: Recipient address rejected: User unknown", "<other@x>")); out.Recorded != 1 {
		t.Fatalf("hard: %+v", out)
	}
	if st, _ := e.status("hard@example.org"); st != model.SubscriberBounced {
		t.Errorf("hard bounce left %s", st)
	}

	// Soft, by Message-ID: counted, not suppressing until the limit of
	// distinct editions within the window.
	soft := func(d model.Delivery) {
		t.Helper()
		if out := handle(nil, dsn(bare, "soft@example.org", "5.2.2", "552 5.2.2 mailbox full", d.MessageID)); out.Recorded != 1 {
			t.Fatalf("soft: %+v", out)
		}
	}
	soft(ed["soft@example.org"])
	soft(ed["soft@example.org"]) // the same edition twice counts once
	e.clock.Add(31 * 24 * time.Hour)
	soft(e.edition()["soft@example.org"])
	soft(e.edition()["soft@example.org"])
	if st, _ := e.status("soft@example.org"); st != model.SubscriberActive {
		t.Errorf("soft bounces outside the window counted: %s", st)
	}
	soft(e.edition()["soft@example.org"])
	if st, _ := e.status("soft@example.org"); st != model.SubscriberBounced {
		t.Errorf("three soft bounces from distinct editions within 30 days left %s", st)
	}

	// Blames the sender (DMARC): recorded, nothing against the address.
	last := e.edition()
	if out := handle(nil, dsn(bare, "sender@example.org", "5.7.26", "550 5.7.26 Unauthenticated email from news.example.com is not accepted due to domain's DMARC policy", last["sender@example.org"].MessageID)); out.Recorded != 1 {
		t.Fatalf("sender: %+v", out)
	}
	if st, _ := e.status("sender@example.org"); st != model.SubscriberActive {
		t.Errorf("a sender-blaming report marked the address %s", st)
	}

	// A complaint (ARF to the bare address), by Message-ID.
	if out := handle(nil, arf(bare, "compl@example.org", last["compl@example.org"].MessageID)); out.Recorded != 1 {
		t.Fatalf("complaint: %+v", out)
	}
	if st, active := e.status("compl@example.org"); st != model.SubscriberComplained || active {
		t.Errorf("complaint: %s, subscription active %v", st, active)
	}

	// By address alone: no token, no Message-ID.
	if out := handle(nil, dsn(bare, "addr@example.org", "5.1.1", "user unknown", "")); out.Recorded != 1 {
		t.Fatalf("by address: %+v", out)
	}
	if st, _ := e.status("addr@example.org"); st != model.SubscriberBounced {
		t.Errorf("matched by address: %s", st)
	}

	// Not bounces: an auto-reply, a reader's reply, a delay notice, an
	// address herald never mailed.
	for name, raw := range map[string][]byte{
		"auto-reply":    []byte("From: calm@example.org\r\nTo: " + bare + "\r\nSubject: Out of Office: The Herald\r\nAuto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n"),
		"reply":         []byte("From: calm@example.org\r\nTo: " + bare + "\r\nSubject: Re: The Herald: Daily\r\nIn-Reply-To: " + last["calm@example.org"].MessageID + "\r\n\r\nThanks for the story about the user unknown.\r\n"),
		"delayed":       []byte(strings.Replace(string(dsn(bare, "calm@example.org", "4.4.1", "connection timed out", last["calm@example.org"].MessageID)), "Action: failed", "Action: delayed", 1)),
		"stranger":      dsn(bare, "stranger@example.org", "5.1.1", "user unknown", ""),
		"not a message": []byte("\x00\x01 garbage"),
	} {
		out := handle(nil, raw)
		if out.Recorded != 0 || len(out.Ignored) == 0 {
			t.Errorf("%s: %+v", name, out)
		}
	}
	if st, active := e.status("calm@example.org"); st != model.SubscriberActive || !active {
		t.Errorf("mail that is not a bounce changed calm@: %s %v", st, active)
	}
	if e.seen["hard"] != 2 || e.seen["soft"] != 5 || e.seen["sender"] != 1 || e.seen["complaint"] != 1 {
		t.Errorf("counted %v", e.seen)
	}

	// The next edition plans none of the bounced or complained.
	next := e.edition()
	for _, a := range []model.Address{"hard@example.org", "soft@example.org", "compl@example.org", "addr@example.org"} {
		if _, ok := next[a]; ok {
			t.Errorf("the next edition plans %s", a)
		}
	}
	if _, ok := next["calm@example.org"]; !ok || len(next) != 2 {
		t.Errorf("the next edition plans %d: %v", len(next), next)
	}
	evs, err := e.store.BounceEvents(ctx, ed["hard@example.org"].EditionID)
	if err != nil || len(evs) != 2 || evs[0].Kind != "hard" || evs[0].Status != "5.1.1" || !strings.Contains(evs[0].Diagnostic, "User unknown") {
		t.Errorf("events of the first edition: %+v %v", evs, err)
	}
}

// The listener takes herald's own addresses only: a VERP address whose
// token verifies, the bare bounce address, a subscription's unsubscribe
// address; a forged token, an expired one, another address: refused.
// A mail to an unsubscribe address ends that subscription.
func TestAcceptAndUnsubscribeByMail(t *testing.T) {
	e := newEnv(t)
	e.cfg.SMTP.UnsubscribeTo = "unsubscribe@news.example.com"
	v, _ := lifecycle.NewVERP(e.cfg, e.clock.Now)
	svc, _ := lifecycle.New(lifecycle.Options{Config: e.cfg, Reports: e.store, VERP: v, Now: e.clock.Now})
	_, su := e.reader("ann@example.org")
	good := string(v.Delivery(7))
	forged := good[:strings.IndexByte(good, '@')-3] + "aaa@news.example.com"
	for rcpt, ok := range map[string]bool{
		good: true, string(v.Mail(3)): true, bare: true, v.UnsubscribeMailto(su.ID): true,
		forged: false, "unsubscribe@news.example.com": false, "postmaster@news.example.com": false, "ann@example.org": false,
	} {
		if err := svc.Accept(rcpt); (err == nil) != ok {
			t.Errorf("Accept(%s) = %v, want accepted %v", rcpt, err, ok)
		}
	}
	out, err := svc.HandleRaw(context.Background(), "smtp", []string{v.UnsubscribeMailto(su.ID)},
		[]byte("From: ann@example.org\r\nTo: unsubscribe@news.example.com\r\nSubject: unsubscribe\r\n\r\n"))
	if err != nil || out.Recorded != 1 {
		t.Fatalf("unsubscribe by mail: %+v %v", out, err)
	}
	if st, active := e.status("ann@example.org"); st != model.SubscriberActive || active {
		t.Errorf("after unsubscribe by mail: %s, subscription active %v", st, active)
	}
}
