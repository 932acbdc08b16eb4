package lifecycle_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
	"github.com/heraldnews/herald/lifecycle"
)

var start = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// env is the lifecycle service over a real store.
type env struct {
	t     *testing.T
	clock *testkit.Clock
	cfg   *config.Config
	store *store.Store
	verp  *lifecycle.VERP
	svc   *lifecycle.Service
	seen  map[string]int // reports counted by kind (the metrics hook)
}

func newEnv(t *testing.T) *env { return newEnvWith(t, "") }

// newEnvWith is newEnv with more keys in the bounces mapping.
func newEnvWith(t *testing.T, bounces string) *env {
	t.Helper()
	e := &env{t: t, clock: testkit.NewClock(start), seen: map[string]int{}}
	e.cfg = verpConfig(t, bounces, "")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var err error
	if e.store, err = store.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), store.Options{Logger: quiet, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	if e.verp, err = lifecycle.NewVERP(e.cfg, e.clock.Now); err != nil {
		t.Fatal(err)
	}
	e.svc, err = lifecycle.New(lifecycle.Options{Config: e.cfg, Reports: e.store, Suppressions: e.store, Housekeeping: e.store,
		VERP: e.verp, OnReport: func(k string) { e.seen[k]++ }, Log: quiet, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// reader adds an active subscriber to digest daily.
func (e *env) reader(addr string) (model.Subscriber, model.Subscription) {
	e.t.Helper()
	ctx := context.Background()
	sub, _, err := e.store.UpsertSubscriber(ctx, model.Address(addr), "", model.SubscriberActive)
	if err != nil {
		e.t.Fatal(err)
	}
	su, err := e.store.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return sub, su
}

// edition records an edition sent to every active subscriber of daily,
// each delivery with its Message-ID, and returns the deliveries by address.
func (e *env) edition() map[model.Address]model.Delivery {
	e.t.Helper()
	ctx := context.Background()
	ed, _, err := e.store.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: e.clock.Now(), Since: e.clock.Now().Add(-time.Hour)})
	if err != nil {
		e.t.Fatal(err)
	}
	subs, err := e.store.ActiveSubscriptions(ctx, "daily", 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var ds []model.Delivery
	for _, su := range subs {
		ds = append(ds, model.Delivery{SubscriberID: su.SubscriberID, SubscriptionID: su.ID, Status: model.DeliveryPending})
	}
	if err := e.store.InsertDeliveries(ctx, ed.ID, ds, 1<<40); err != nil {
		e.t.Fatal(err)
	}
	got, _ := e.store.Deliveries(ctx, ed.ID, 0, 1000)
	out := map[model.Address]model.Delivery{}
	for i := range got {
		got[i].Status, got[i].Attempts, got[i].SentAt = model.DeliverySent, 1, e.clock.Now()
		got[i].MessageID = fmt.Sprintf("<%d.%d@news.example.com>", ed.ID, got[i].SubscriberID)
		out[got[i].Email] = got[i]
	}
	if err := e.store.RecordDeliveries(ctx, got, nil); err != nil {
		e.t.Fatal(err)
	}
	e.store.SetEditionStatus(ctx, ed.ID, model.EditionDone)
	return out
}

// status is a subscriber's status and whether its daily subscription is
// active.
func (e *env) status(addr string) (string, bool) {
	e.t.Helper()
	sub, found, err := e.store.FindSubscriber(context.Background(), model.Address(addr))
	if err != nil || !found {
		e.t.Fatalf("%s: %v %v", addr, found, err)
	}
	subs, _ := e.store.SubscriptionsOf(context.Background(), sub.ID)
	return sub.Status, len(subs) > 0 && subs[0].Status == model.SubscriptionActive
}

// dsn is an RFC 3464 delivery status notification for one recipient,
// returning the headers of the message with msgID; to is where the MTA
// sent it (a VERP address, or anything).
func dsn(to, rcpt, status, diag, msgID string) []byte {
	return []byte(strings.ReplaceAll(`From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: <`+to+`>
Subject: Undelivered Mail Returned to Sender
Date: Thu, 26 Nov 2026 09:05:00 +0000
Message-ID: <dsn.1@mx.example.org>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Arrival-Date: Thu, 26 Nov 2026 09:00:00 +0000

Final-Recipient: rfc822; `+rcpt+`
Original-Recipient: rfc822;`+rcpt+`
Action: failed
Status: `+status+`
Remote-MTA: dns; mail.example.org
Diagnostic-Code: smtp; `+diag+`

--BOUNDARY
Content-Type: text/rfc822-headers

Message-ID: `+msgID+`
From: The Herald <digest@news.example.com>
To: `+rcpt+`
Subject: The Herald: Daily

--BOUNDARY--
`, "\n", "\r\n"))
}

// arf is an RFC 5965 abuse report about msgID for rcpt.
func arf(to, rcpt, msgID string) []byte {
	return []byte(strings.ReplaceAll(`From: Feedback Loop <fbl@isp.example.net>
To: <`+to+`>
Subject: Abuse report
Date: Thu, 26 Nov 2026 10:00:00 +0000
Message-ID: <arf.1@isp.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain; charset=us-ascii

This is an email abuse report for an email message received from IP 192.0.2.1.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: <`+rcpt+`>
Source-IP: 192.0.2.1

--ARF
Content-Type: text/rfc822-headers

Message-ID: `+msgID+`
From: The Herald <digest@news.example.com>
To: `+rcpt+`
Subject: The Herald: Daily

--ARF--
`, "\n", "\r\n"))
}
