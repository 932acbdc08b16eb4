package mailer_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
)

// relaysConfig is an smtp config with one relay per server, each with
// conns connections and the given weights (1 when missing).
func relaysConfig(conns int, weights []int, srvs ...*smtptest.Server) config.SMTP {
	cfg := config.SMTP{Transport: "smtp", From: "Example News <digest@news.example.com>",
		MaxAttempts: 5, Timeout: config.Duration(5 * time.Second)}
	for i, s := range srvs {
		w := 1
		if i < len(weights) {
			w = weights[i]
		}
		cfg.Relays = append(cfg.Relays, config.Relay{Host: s.Host(), Port: s.Port(), TLS: "none", MaxConnections: conns, Weight: w})
	}
	return cfg
}

// relayName is how the mailer names srv.
func relayName(srv *smtptest.Server) string { return srv.Addr() }

// upLog records the RelayUp hook's calls.
type upLog struct {
	mu   sync.Mutex
	seen map[string][]bool
}

func (u *upLog) hook(relay string, up bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[string][]bool{}
	}
	u.seen[relay] = append(u.seen[relay], up)
}

func (u *upLog) went(relay string, up bool) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.seen[relay]
	return len(s) > 0 && s[len(s)-1] == up
}

// Messages spread by weight among relays with a free connection: sent one
// at a time, every relay is free, so the split is exactly 3:1.
func TestRelayWeights(t *testing.T) {
	a := smtptest.Start(t, smtptest.Options{DiscardData: true})
	b := smtptest.Start(t, smtptest.Options{DiscardData: true})
	m := newMailer(t, relaysConfig(1, []int{3, 1}, a, b))
	for i := range 40 {
		if res := send(t, m, testMessage(i)); res.Outcome != model.Accepted {
			t.Fatalf("%d: %+v", i, res)
		}
	}
	if na, nb := len(a.Messages()), len(b.Messages()); na != 30 || nb != 10 {
		t.Fatalf("split %d:%d, want 30:10", na, nb)
	}
}

// A relay that refuses connections is benched and its work goes to the
// other: nothing fails, the RelayUp hook says so, and each result names
// the relay that carried it.
func TestRelayUnreachableFailsOver(t *testing.T) {
	a := smtptest.Start(t, smtptest.Options{})
	b := smtptest.Start(t, smtptest.Options{})
	var ups upLog
	m := newMailer(t, relaysConfig(2, nil, a, b), mailer.WithMetrics(mailer.Metrics{RelayUp: ups.hook}))
	for i := range 10 {
		if res := send(t, m, testMessage(i)); res.Outcome != model.Accepted {
			t.Fatalf("%+v", res)
		}
	}
	a.Close() // connection refused from now on (open connections dropped)
	for i := 10; i < 60; i++ {
		res := send(t, m, testMessage(i))
		if res.Outcome != model.Accepted || res.Relay != relayName(b) {
			t.Fatalf("message %d after A stopped: %+v", i, res)
		}
	}
	if !ups.went(relayName(a), false) || ups.went(relayName(b), false) {
		t.Errorf("RelayUp calls %v: want A down, B up", ups.seen)
	}
}

// Replies that blame the relay or the sender send the message through the
// other relay (three in a row bench the relay), never failing or bouncing
// the address; a 550 about the recipient is that address's permanent
// failure and is never tried on another relay.
func TestRelayBlamingRepliesReroute(t *testing.T) {
	cases := []struct {
		name  string
		stage smtptest.Stage
		act   smtptest.Action
	}{
		{"5.7.0 at rcpt", smtptest.StageRcpt, smtptest.Reply(550, "5.7.0", "policy")},
		{"5.1.7 at rcpt", smtptest.StageRcpt, smtptest.Reply(553, "5.1.7", "bad sender mailbox syntax")},
		{"5.1.8 at rcpt", smtptest.StageRcpt, smtptest.Reply(553, "5.1.8", "sender domain does not exist")},
		{"relay access denied", smtptest.StageRcpt, smtptest.Reply(554, "5.7.1", "<x@example.org>: Relay access denied")},
		{"authentication required", smtptest.StageMail, smtptest.Reply(530, "5.7.0", "Authentication required")},
		{"sender rejected at mail", smtptest.StageMail, smtptest.Reply(550, "5.7.1", "Sender address rejected: not owned by user")},
		{"4.3.x after data", smtptest.StageData, smtptest.Reply(452, "4.3.1", "insufficient system storage")},
		{"5.3.x after data", smtptest.StageData, smtptest.Reply(552, "5.3.4", "message too big for system")},
		{"4.4.x at rcpt", smtptest.StageRcpt, smtptest.Reply(451, "4.4.0", "DNS temporary failure")},
		{"5.5.x after data", smtptest.StageData, smtptest.Reply(554, "5.5.0", "transaction failed")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var tries atomic.Int32
			a := smtptest.Start(t, smtptest.Options{Hook: func(at *smtptest.Attempt) smtptest.Action {
				if at.Stage == tc.stage {
					tries.Add(1)
					return tc.act
				}
				return smtptest.Accept()
			}})
			b := smtptest.Start(t, smtptest.Options{})
			// A gets the first messages (weight) and blames itself; B
			// carries each of them and the rest. Three such replies in a
			// row bench A.
			var ups upLog
			m := newMailer(t, relaysConfig(1, []int{5, 1}, a, b), mailer.WithMetrics(mailer.Metrics{RelayUp: ups.hook}))
			for i := range 6 {
				res := send(t, m, testMessage(i))
				if res.Outcome != model.Accepted || res.Bounce || res.Relay != relayName(b) {
					t.Fatalf("message %d: %+v", i, res)
				}
			}
			if tries.Load() != 3 || !ups.went(relayName(a), false) {
				t.Errorf("relay A tried %d times, benched %v: want 3 tries, then benched", tries.Load(), ups.went(relayName(a), false))
			}
			if len(a.Messages()) != 0 || len(b.Messages()) != 6 {
				t.Errorf("A has %d, B %d", len(a.Messages()), len(b.Messages()))
			}
		})
	}
}

func Test550NotRetriedOnAnotherRelay(t *testing.T) {
	var rcpts atomic.Int32
	hook := func(at *smtptest.Attempt) smtptest.Action {
		if at.Stage == smtptest.StageRcpt && strings.HasPrefix(at.Rcpt, "reader1@") {
			rcpts.Add(1)
			return smtptest.Reply(550, "5.1.1", "no such user")
		}
		return smtptest.Accept()
	}
	a := smtptest.Start(t, smtptest.Options{Hook: hook})
	b := smtptest.Start(t, smtptest.Options{Hook: hook})
	m := newMailer(t, relaysConfig(1, nil, a, b))
	res := send(t, m, testMessage(1))
	if res.Outcome != model.Permanent || !res.Bounce || res.Code != 550 {
		t.Fatalf("%+v", res)
	}
	if rcpts.Load() != 1 {
		t.Fatalf("the address was offered %d times across the relays, want once", rcpts.Load())
	}
	// Both relays stay up: a recipient's failure is not the relay's.
	for i := 2; i < 6; i++ {
		if res := send(t, m, testMessage(i)); res.Outcome != model.Accepted {
			t.Fatalf("%+v", res)
		}
	}
	if len(a.Messages()) == 0 || len(b.Messages()) == 0 {
		t.Errorf("A has %d, B %d: a relay was benched for a recipient's 550", len(a.Messages()), len(b.Messages()))
	}
}

// A relay answering 421 to everything loses connections, then is benched;
// no message fails meanwhile.
func Test421EverywhereMovesWorkElsewhere(t *testing.T) {
	var refused atomic.Int32
	a := smtptest.Start(t, smtptest.Options{Hook: func(at *smtptest.Attempt) smtptest.Action {
		if at.Stage == smtptest.StageMail {
			refused.Add(1)
			return smtptest.Reply(421, "4.7.0", "too many connections, try later")
		}
		return smtptest.Accept()
	}})
	b := smtptest.Start(t, smtptest.Options{})
	var ups upLog
	m := newMailer(t, relaysConfig(4, nil, a, b), mailer.WithMetrics(mailer.Metrics{RelayUp: ups.hook}))
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if res := send(t, m, testMessage(i)); res.Outcome != model.Accepted {
				t.Errorf("message %d: %+v", i, res)
			}
		})
	}
	wg.Wait()
	if len(b.Messages()) != 200 || refused.Load() == 0 {
		t.Fatalf("B has %d of 200; A refused %d", len(b.Messages()), refused.Load())
	}
	if !ups.went(relayName(a), false) {
		t.Errorf("A not benched: %v", ups.seen)
	}
}

// A UTF-8 local part (model.ParseAddress accepts it: net/mail does) goes
// only through a relay that offers SMTPUTF8, with SMTPUTF8 on MAIL FROM;
// with no such relay it fails permanently, saying why, and is never
// offered to the server.
func TestSMTPUTF8Routing(t *testing.T) {
	addr, err := model.ParseAddress("üser@example.de")
	if err != nil {
		t.Fatalf("ParseAddress refuses a UTF-8 local part: %v", err)
	}
	plain := smtptest.Start(t, smtptest.Options{})
	utf8 := smtptest.Start(t, smtptest.Options{SMTPUTF8: true})
	m := newMailer(t, relaysConfig(1, []int{10, 1}, plain, utf8))
	for i := range 5 {
		msg := testMessage(i)
		msg.ToAddr = addr
		res := send(t, m, msg)
		if res.Outcome != model.Accepted || res.Relay != relayName(utf8) {
			t.Fatalf("UTF-8 address: %+v", res)
		}
	}
	if res := send(t, m, testMessage(9)); res.Outcome != model.Accepted {
		t.Fatalf("ASCII address: %+v", res)
	}
	for _, sm := range utf8.Messages() {
		if ascii := sm.To[0] == "reader9@example.org"; sm.UTF8 == ascii {
			t.Errorf("message to %s: SMTPUTF8 %v", sm.To[0], sm.UTF8)
		}
	}
	if plain.CountFor(string(addr)) != 0 {
		t.Error("the relay without SMTPUTF8 got the UTF-8 address")
	}

	// Only relays without SMTPUTF8: a permanent failure with the reason.
	only := smtptest.Start(t, smtptest.Options{})
	m = newMailer(t, relaysConfig(1, nil, only))
	if res := send(t, m, testMessage(1)); res.Outcome != model.Accepted {
		t.Fatal(res)
	}
	msg := testMessage(2)
	msg.ToAddr = addr
	res := send(t, m, msg)
	if res.Outcome != model.Permanent || res.Bounce || !strings.Contains(res.Reply, "SMTPUTF8") {
		t.Fatalf("%+v", res)
	}
	if only.CountFor(string(addr)) != 0 || len(only.Messages()) != 1 {
		t.Fatal("the message went out as raw 8-bit headers")
	}
}

// Send's context ends the wait while every relay is busy.
func TestRelaysBusyContext(t *testing.T) {
	a := smtptest.Start(t, smtptest.Options{Hook: func(at *smtptest.Attempt) smtptest.Action {
		if at.Stage == smtptest.StageData {
			return smtptest.Stall(300 * time.Millisecond)
		}
		return smtptest.Accept()
	}})
	m := newMailer(t, relaysConfig(1, nil, a))
	done := make(chan model.SendResult, 1)
	if err := m.Send(context.Background(), testMessage(1), func(r model.SendResult) { done <- r }); err != nil {
		t.Fatal(err)
	}
	// The connection takes one message beyond the one it is on (its
	// lookahead); the next waits.
	next := make(chan model.SendResult, 1)
	if err := m.Send(context.Background(), testMessage(2), func(r model.SendResult) { next <- r }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := m.Send(ctx, testMessage(3), func(model.SendResult) { t.Error("recorded") }); err == nil {
		t.Fatal("Send returned nil while the only connection was busy")
	}
	<-done
	<-next
}

// A relay that answers a plain 4xx (no enhanced code blaming itself) to
// every recipient is benched after a run of them, and the rest of the work
// goes to the other relay; each message it refused comes back Temporary
// (the outbox retries it), never failed.
func TestRelay4xxToEveryoneBenched(t *testing.T) {
	var refused atomic.Int32
	a := smtptest.Start(t, smtptest.Options{Hook: func(at *smtptest.Attempt) smtptest.Action {
		if at.Stage == smtptest.StageRcpt {
			refused.Add(1)
			return smtptest.Reply(451, "", "try again later")
		}
		return smtptest.Accept()
	}})
	b := smtptest.Start(t, smtptest.Options{})
	var ups upLog
	m := newMailer(t, relaysConfig(1, nil, a, b), mailer.WithMetrics(mailer.Metrics{RelayUp: ups.hook}))
	var temporary int
	for i := range 200 {
		switch res := send(t, m, testMessage(i)); res.Outcome {
		case model.Temporary:
			temporary++
		case model.Accepted:
		default:
			t.Fatalf("message %d: %+v", i, res)
		}
	}
	if !ups.went(relayName(a), false) {
		t.Fatalf("A not benched after %d refusals: %v", refused.Load(), ups.seen)
	}
	if int(refused.Load()) != temporary || temporary > 20 || len(b.Messages()) != 200-temporary {
		t.Fatalf("A refused %d (temporary %d), B took %d of 200", refused.Load(), temporary, len(b.Messages()))
	}
}
