package mailer_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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

func TestSendReusesConnectionsAndParsesBack(t *testing.T) {
	t.Run("pipelining", func(t *testing.T) { testSendReusesConnections(t, false) })
	t.Run("one command at a time", func(t *testing.T) { testSendReusesConnections(t, true) })
}

func testSendReusesConnections(t *testing.T, noPipelining bool) {
	srv := smtptest.Start(t, smtptest.Options{NoPipelining: noPipelining})
	const workers, perWorker = 3, 5
	m := newMailer(t, smtpConfig(srv, workers))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				res := send(t, m, testMessage(w*perWorker+i))
				if res.Outcome != model.Accepted || res.Code != 250 || !strings.HasPrefix(res.Reply, "250 ") {
					t.Errorf("worker %d: %+v", w, res)
				}
			}
		})
	}
	wg.Wait()
	if v := srv.Violations(); len(v) != 0 {
		t.Errorf("commands a strict server refuses: %q", v)
	}
	if got := srv.Connections(); got != workers {
		t.Errorf("connections = %d, want %d (one per worker, reused)", got, workers)
	}
	msgs := srv.Messages()
	if len(msgs) != workers*perWorker {
		t.Fatalf("server got %d messages", len(msgs))
	}
	for _, sm := range msgs {
		if len(sm.To) != 1 || sm.From != "digest@news.example.com" {
			t.Fatalf("envelope %s -> %v", sm.From, sm.To)
		}
		p := parseMessage(t, sm.Data)
		var i int
		if _, err := fmt.Sscanf(sm.To[0], "reader%d@example.org", &i); err != nil {
			t.Fatal(err)
		}
		want := testMessage(i)
		to, err := p.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Name != "Zoë Reader" || to[0].Address != string(want.ToAddr) {
			t.Errorf("To = %v, %v", to, err)
		}
		from, err := p.Header.AddressList("From")
		if err != nil || from[0].Name != "Example News" || from[0].Address != "digest@news.example.com" {
			t.Errorf("From = %v, %v", from, err)
		}
		if got := p.Header.Get("Message-ID"); got != want.MessageID {
			t.Errorf("Message-ID = %q, want %q", got, want.MessageID)
		}
		if d, err := p.Header.Date(); err != nil || !d.Equal(fixedDate) {
			t.Errorf("Date = %v, %v", d, err)
		}
		if got := decode(t, p.Header.Get("Subject")); got != want.Subject {
			t.Errorf("Subject = %q", got)
		}
		for name, v := range map[string]string{
			"MIME-Version": "1.0", "Precedence": "bulk", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"List-Unsubscribe": want.Headers[1].Value, "List-Id": `"Example News daily" <daily.news.example.com>`,
		} {
			if got := p.Header.Get(name); got != v {
				t.Errorf("%s = %q, want %q", name, got, v)
			}
		}
		if p.ContentType != "multipart/alternative" || p.Text != strings.ReplaceAll(want.Text, "\n", "\r\n") || p.HTML != want.HTML {
			t.Errorf("body: %s\ntext %q\nhtml %q", p.ContentType, p.Text, p.HTML)
		}
	}
}

// TestClassification scripts the server's reply and checks the result and
// that the worker's next message goes through cleanly (connection reset or
// redialled), with the envelope pipelined (the server offers PIPELINING)
// and one command at a time.
func TestClassification(t *testing.T) {
	t.Run("pipelining", func(t *testing.T) { testClassification(t, false) })
	t.Run("one command at a time", func(t *testing.T) { testClassification(t, true) })
}

func testClassification(t *testing.T, noPipelining bool) {
	type want struct {
		outcome   model.SendOutcome
		code      int
		enhanced  string
		bounce    bool
		ambiguous bool
		redial    bool // the next message needs a new connection
		delivered int  // messages the server recorded for the first attempt
	}
	cases := []struct {
		name  string
		stage smtptest.Stage
		act   smtptest.Action
		want  want
	}{
		{"451 after data", smtptest.StageData, smtptest.Reply(451, "4.3.0", "try again later"),
			want{outcome: model.Temporary, code: 451, enhanced: "4.3.0"}},
		{"550 after data", smtptest.StageData, smtptest.Reply(550, "5.7.1", "message refused as spam"),
			want{outcome: model.Permanent, code: 550, enhanced: "5.7.1"}},
		{"550 5.1.1 at rcpt", smtptest.StageRcpt, smtptest.Reply(550, "5.1.1", "no such user"),
			want{outcome: model.Permanent, code: 550, enhanced: "5.1.1", bounce: true}},
		{"550 5.1.1 after data", smtptest.StageData, smtptest.Reply(550, "5.1.1", "mailbox unavailable"),
			want{outcome: model.Permanent, code: 550, enhanced: "5.1.1", bounce: true}},
		{"553 5.1.8 at mail is a sender problem: temporary, not a bounce", smtptest.StageMail, smtptest.Reply(553, "5.1.8", "bad sender domain"),
			want{outcome: model.Temporary, code: 553, enhanced: "5.1.8"}},
		{"550 without enhanced code", smtptest.StageRcpt, smtptest.Reply(550, "", "nope"),
			want{outcome: model.Permanent, code: 550}},
		{"421 at mail", smtptest.StageMail, smtptest.Reply(421, "4.4.2", "closing"),
			want{outcome: model.Temporary, code: 421, enhanced: "4.4.2", redial: true}},
		{"452 at rcpt", smtptest.StageRcpt, smtptest.Reply(452, "4.2.2", "mailbox full"),
			want{outcome: model.Temporary, code: 452, enhanced: "4.2.2"}},
		{"454 at mail", smtptest.StageMail, smtptest.Reply(454, "4.7.0", "temporary authentication failure"),
			want{outcome: model.Temporary, code: 454, enhanced: "4.7.0"}},
		{"drop before data", smtptest.StageRcpt, smtptest.Drop(),
			want{outcome: model.Temporary, redial: true}},
		{"drop after data", smtptest.StageData, smtptest.Drop(),
			want{outcome: model.Temporary, ambiguous: true, redial: true}},
		{"drop after data, server kept it", smtptest.StageData, smtptest.Action{Drop: true, Deliver: true},
			want{outcome: model.Temporary, ambiguous: true, redial: true, delivered: 1}},
		{"stall at mail past timeout", smtptest.StageMail, smtptest.Stall(3 * time.Second),
			want{outcome: model.Temporary, redial: true}},
		// The server accepts only after the test is over: the client
		// timed out after the dot, so the result is ambiguous.
		{"stall after data past timeout", smtptest.StageData, smtptest.Stall(time.Minute),
			want{outcome: model.Temporary, ambiguous: true, redial: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.Options{NoPipelining: noPipelining})
			var armed atomic.Bool // fire the scripted action once, after the warm-up
			srv.SetHook(func(a *smtptest.Attempt) smtptest.Action {
				if a.Stage == tc.stage && armed.CompareAndSwap(true, false) {
					return tc.act
				}
				return smtptest.Accept()
			})
			cfg := smtpConfig(srv, 1)
			cfg.Timeout = config.Duration(time.Second)
			m := newMailer(t, cfg)

			// Warm the connection so "redial" is measurable.
			warm := testMessage(0)
			warm.ToAddr = "second@example.org"
			if res := send(t, m, warm); res.Outcome != model.Accepted {
				t.Fatalf("warm-up: %+v", res)
			}

			msg := testMessage(1)
			armed.Store(true)
			res := send(t, m, msg)
			w := tc.want
			if res.Outcome != w.outcome || res.Code != w.code || res.Enhanced != w.enhanced ||
				res.Bounce != w.bounce || res.Ambiguous != w.ambiguous || res.Reply == "" || strings.ContainsAny(res.Reply, "\r\n") {
				t.Fatalf("got %+v, want %+v", res, w)
			}
			if w.code != 0 && !strings.HasPrefix(res.Reply, fmt.Sprint(w.code)) {
				t.Errorf("reply %q does not record the server's reply", res.Reply)
			}
			if got := srv.CountFor(string(msg.ToAddr)); got != w.delivered {
				t.Errorf("server recorded %d deliveries after the failure, want %d", got, w.delivered)
			}

			// The same message again (the outbox's retry): the hook
			// accepts now, and the connection must be in a clean state.
			before := srv.Connections()
			if res := send(t, m, msg); res.Outcome != model.Accepted {
				t.Fatalf("retry: %+v", res)
			}
			if got := srv.CountFor(string(msg.ToAddr)); got != w.delivered+1 {
				t.Errorf("after retry the server has %d, want %d", got, w.delivered+1)
			}
			if redialled := srv.Connections() > before; redialled != w.redial {
				t.Errorf("redialled = %v, want %v", redialled, w.redial)
			}
		})
	}
}

func Test451Then250DeliversOnce(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData && a.N == 1 {
			return smtptest.Reply(451, "4.7.1", "greylisted, try again")
		}
		return smtptest.Accept()
	}})
	m := newMailer(t, smtpConfig(srv, 1))
	msg := testMessage(7)
	if res := send(t, m, msg); res.Outcome != model.Temporary || res.Code != 451 {
		t.Fatalf("first: %+v", res)
	}
	if res := send(t, m, msg); res.Outcome != model.Accepted {
		t.Fatalf("second: %+v", res)
	}
	if n := srv.CountFor(string(msg.ToAddr)); n != 1 {
		t.Fatalf("delivered %d times, want exactly once", n)
	}
}

// TestLongBatchOneConnection sends a batch that lasts longer than
// smtp.timeout on one connection with no NOOP or RSET: the per-message
// deadline keeps it alive, so no redial per batch is needed.
func TestLongBatchOneConnection(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := smtpConfig(srv, 1)
	cfg.Timeout = config.Duration(500 * time.Millisecond)
	m := newMailer(t, cfg)
	start := time.Now()
	for i := range 10 {
		if res := send(t, m, testMessage(i)); res.Outcome != model.Accepted {
			t.Fatalf("message %d: %+v", i, res)
		}
		time.Sleep(120 * time.Millisecond)
	}
	if el := time.Since(start); el < 2*cfg.Timeout.D() {
		t.Fatalf("batch took %s, not longer than the timeout", el)
	}
	if srv.Connections() != 1 {
		t.Fatalf("connections = %d, want 1", srv.Connections())
	}
}

// A server that stops answering cannot hold a connection for longer than
// smtp.timeout: the message comes back Temporary (not ambiguous: the data
// was never sent).
func TestStalledServerBoundedByTimeout(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageRcpt {
			return smtptest.Stall(10 * time.Second)
		}
		return smtptest.Accept()
	}})
	cfg := smtpConfig(srv, 1)
	cfg.Timeout = config.Duration(300 * time.Millisecond)
	m := newMailer(t, cfg)
	start := time.Now()
	res := send(t, m, testMessage(1))
	if res.Outcome != model.Temporary || res.Ambiguous || time.Since(start) > 3*time.Second {
		t.Fatalf("got %+v after %s", res, time.Since(start))
	}
}

// ctx bounds only the wait for a free connection: when it ends first, Send
// says so and the message is never handed over or recorded. (The one
// connection is still in message 1's record func, which has not
// returned, and has taken message 2 as its next.)
func TestContextEndsTheWaitForAConnection(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m := newMailer(t, smtpConfig(srv, 1))
	hold := make(chan struct{})
	first := make(chan model.SendResult, 1)
	if err := m.Send(context.Background(), testMessage(1), func(r model.SendResult) { first <- r; <-hold }); err != nil {
		t.Fatal(err)
	}
	<-first // message 1's record func now waits
	second := make(chan model.SendResult, 1)
	if err := m.Send(context.Background(), testMessage(2), func(r model.SendResult) { second <- r }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	recorded := make(chan struct{}, 1)
	err := m.Send(ctx, testMessage(3), func(model.SendResult) { recorded <- struct{}{} })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want the context's deadline", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("server got %d messages while message 1 was being recorded, want 1", n)
	}
	close(hold)
	if r := <-second; r.Outcome != model.Accepted {
		t.Fatalf("message 2: %+v", r)
	}
	if res := send(t, m, testMessage(4)); res.Outcome != model.Accepted {
		t.Fatalf("%+v", res)
	}
	select {
	case <-recorded:
		t.Fatal("a message Send refused was recorded")
	default:
	}
	if n := len(srv.Messages()); n != 3 {
		t.Fatalf("server got %d messages, want 3", n)
	}
}

// The crash bound (design.md): a connection ends its next message (the
// final dot, the server's acceptance) only after the previous message's
// record func has returned, and calls record funcs one at a time in
// order. So when record makes a result durable, at most one accepted
// message per connection is ever unrecorded. (The connection calls record
// itself, before it sends the next message's data.)
//
// Every third record returns at once; the others take 2 ms. Every message
// must arrive whole.
func TestConnectionWaitsForRecord(t *testing.T) {
	t.Run("pipelining", func(t *testing.T) { testConnectionWaitsForRecord(t, false) })
	t.Run("one command at a time", func(t *testing.T) { testConnectionWaitsForRecord(t, true) })
}

func testConnectionWaitsForRecord(t *testing.T, noPipelining bool) {
	var recording, overlap, order atomic.Int32
	srv := smtptest.Start(t, smtptest.Options{NoPipelining: noPipelining, Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData && recording.Load() != 0 {
			overlap.Add(1) // a message ended while the previous record still ran
		}
		return smtptest.Accept()
	}})
	m := newMailer(t, smtpConfig(srv, 1))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		if err := m.Send(context.Background(), testMessage(i), func(model.SendResult) {
			defer wg.Done()
			if order.Add(1) != int32(i+1) {
				t.Errorf("record of message %d out of order", i)
			}
			if i%3 == 0 {
				return
			}
			recording.Add(1)
			time.Sleep(2 * time.Millisecond)
			recording.Add(-1)
		}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if overlap.Load() != 0 {
		t.Fatalf("%d messages accepted while the previous result was being recorded", overlap.Load())
	}
	msgs := srv.Messages()
	if len(msgs) != 20 {
		t.Fatalf("server got %d messages, want 20", len(msgs))
	}
	for _, sm := range msgs {
		var i int
		if _, err := fmt.Sscanf(sm.To[0], "reader%d@example.org", &i); err != nil {
			t.Fatal(err)
		}
		want := testMessage(i)
		p := parseMessage(t, sm.Data)
		if p.Header.Get("Message-ID") != want.MessageID || p.Text != strings.ReplaceAll(want.Text, "\n", "\r\n") || p.HTML != want.HTML {
			t.Errorf("message %d came apart: %s\ntext %q\nhtml %q", i, p.Header.Get("Message-ID"), p.Text, p.HTML)
		}
	}
	if v := srv.Violations(); len(v) != 0 {
		t.Errorf("commands a strict server refuses: %q", v)
	}
}

// Many goroutines sending at once (a send loop, confirmation mail, samples)
// never share a connection: a strict server sees clean transactions, and
// one connection carries them all.
func TestConcurrentSendersShareNoConnection(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m := newMailer(t, smtpConfig(srv, 1))
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if res := send(t, m, testMessage(i)); res.Outcome != model.Accepted {
				t.Errorf("%+v", res)
			}
		})
	}
	wg.Wait()
	if v := srv.Violations(); len(v) != 0 {
		t.Errorf("commands a strict server refuses: %q", v)
	}
	if srv.Connections() != 1 || len(srv.Messages()) != 40 {
		t.Fatalf("connections %d, messages %d", srv.Connections(), len(srv.Messages()))
	}
}

// Close finishes the message in flight, records it, and refuses new ones.
func TestCloseFinishesInFlight(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData {
			return smtptest.Stall(200 * time.Millisecond)
		}
		return smtptest.Accept()
	}})
	m := newMailer(t, smtpConfig(srv, 1))
	got := make(chan model.SendResult, 1)
	if err := m.Send(context.Background(), testMessage(1), func(r model.SendResult) { got <- r }); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.Outcome != model.Accepted {
			t.Fatalf("in-flight message: %+v", r)
		}
	default:
		t.Fatal("Close returned before the in-flight message was recorded")
	}
	if err := m.Send(context.Background(), testMessage(2), func(model.SendResult) { t.Error("recorded after Close") }); !errors.Is(err, mailer.ErrClosed) {
		t.Fatalf("Send after Close = %v", err)
	}
}

func TestTLS(t *testing.T) {
	cases := []struct {
		name    string
		server  smtptest.TLSMode
		tls     string
		trusted bool
		want    model.SendOutcome
	}{
		{"starttls", smtptest.TLSStartTLS, "starttls", true, model.Accepted},
		{"implicit tls", smtptest.TLSImplicit, "tls", true, model.Accepted},
		{"starttls not offered", smtptest.TLSNone, "starttls", true, model.Temporary},
		{"starttls untrusted certificate", smtptest.TLSStartTLS, "starttls", false, model.Temporary},
		{"implicit tls untrusted certificate", smtptest.TLSImplicit, "tls", false, model.Temporary},
		{"implicit tls against plain server", smtptest.TLSNone, "tls", true, model.Temporary},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.Options{TLS: tc.server, Username: "herald", Password: "s3cret"})
			cfg := smtpConfig(srv, 1)
			cfg.TLS, cfg.Username, cfg.Password = tc.tls, "herald", "s3cret"
			cfg.Timeout = config.Duration(2 * time.Second)
			tlsConf := srv.ClientTLSConfig()
			if !tc.trusted || tlsConf.RootCAs == nil {
				tlsConf = &tls.Config{ServerName: srv.Host(), MinVersion: tls.VersionTLS12}
			}
			m := newMailer(t, cfg, mailer.WithTLSConfig(tlsConf))
			res := send(t, m, testMessage(1))
			if res.Outcome != tc.want || (tc.want == model.Temporary && !strings.HasPrefix(res.Reply, "connect: ")) {
				t.Fatalf("got %+v, want %v", res, tc.want)
			}
			if tc.want == model.Accepted && srv.CountFor("reader1@example.org") != 1 {
				t.Fatal("not delivered")
			}
		})
	}
}

func TestAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "herald", Password: "s3cret"})
	cfg := smtpConfig(srv, 1)
	cfg.Username, cfg.Password = "herald", "wrong"
	var dials, failed int
	var mu sync.Mutex
	m := newMailer(t, cfg, mailer.WithMetrics(mailer.Metrics{Dial: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		dials++
		if err != nil {
			failed++
		}
	}}))
	res := send(t, m, testMessage(1))
	if res.Outcome != model.Temporary || res.Code != 535 || strings.Contains(res.Reply, "wrong") {
		t.Fatalf("wrong password: %+v", res)
	}
	cfg.Password = "s3cret"
	m = newMailer(t, cfg)
	if res := send(t, m, testMessage(1)); res.Outcome != model.Accepted {
		t.Fatalf("right password: %+v", res)
	}
	cfg.Username = ""
	m = newMailer(t, cfg)
	// A relay that wants authentication refuses MAIL FROM: a configuration
	// problem, retried rather than failing every delivery of an edition.
	if res := send(t, m, testMessage(1)); res.Outcome != model.Temporary || res.Code/100 != 5 {
		t.Fatalf("no auth: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if dials != 1 || failed != 1 {
		t.Fatalf("dial metric: %d dials, %d failed", dials, failed)
	}
}

func TestRateLimit(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := smtpConfig(srv, 4)
	cfg.RatePerSecond = 40
	m := newMailer(t, cfg)
	const n = 21
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if res := send(t, m, testMessage(i)); res.Outcome != model.Accepted {
				t.Errorf("%d: %+v", i, res)
			}
		})
	}
	wg.Wait()
	// 21 messages at 40/s with burst 1: at least 20 intervals of 25 ms.
	if el := time.Since(start); el < 480*time.Millisecond {
		t.Fatalf("%d messages at %v/s took only %s", n, cfg.RatePerSecond, el)
	}
}

func TestMetricsAndAmbiguousCount(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData && a.N == 1 {
			return smtptest.Drop()
		}
		return smtptest.Accept()
	}})
	var mu sync.Mutex
	counts := map[string]int{}
	m := newMailer(t, smtpConfig(srv, 1), mailer.WithMetrics(mailer.Metrics{Result: func(res model.SendResult, _ time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		counts[res.Outcome.String()]++
		if res.Ambiguous {
			counts["ambiguous"]++
		}
	}}))
	send(t, m, testMessage(1))
	send(t, m, testMessage(1))
	mu.Lock()
	defer mu.Unlock()
	if counts["temporary"] != 1 || counts["ambiguous"] != 1 || counts["accepted"] != 1 {
		t.Fatalf("counts %v", counts)
	}
}

func TestSendRefusesBadMessages(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m := newMailer(t, smtpConfig(srv, 1))
	for name, mut := range map[string]func(*model.Message){
		"no message id":        func(m *model.Message) { m.MessageID = "" },
		"message id with CRLF": func(m *model.Message) { m.MessageID = "<a@b\r\nBcc: x@y>" },
		"to with a name":       func(m *model.Message) { m.ToAddr = "Eve <eve@example.org>" },
		"to with CRLF":         func(m *model.Message) { m.ToAddr = "eve@example.org\r\nRCPT TO:<x@y>" },
		"list header CRLF":     func(m *model.Message) { m.Headers[1].Value += "\r\nBcc: x@example.org" },
	} {
		msg := testMessage(1)
		mut(msg)
		if res := send(t, m, msg); res.Outcome != model.Permanent || res.Code != 0 {
			t.Errorf("%s: %+v", name, res)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("server got %d messages", n)
	}
}

func TestNewValidates(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	base := smtpConfig(srv, 1)
	for name, mut := range map[string]func(*config.SMTP){
		"transport":       func(c *config.SMTP) { c.Transport = "pigeon" },
		"connections":     func(c *config.SMTP) { c.MaxConnections = 0 },
		"timeout":         func(c *config.SMTP) { c.Timeout = 0 },
		"tls":             func(c *config.SMTP) { c.TLS = "maybe" },
		"dkim incomplete": func(c *config.SMTP) { c.DKIM.Domain = "news.example.com" },
		"dkim no key":     func(c *config.SMTP) { c.DKIM = config.DKIM{Domain: "d", Selector: "s", PrivateKeyFile: "/nonexistent"} },
		"file no dir":     func(c *config.SMTP) { c.Transport, c.FileDir = "file", "" },
	} {
		cfg := base
		mut(&cfg)
		if _, err := mailer.New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := mailer.New(base, mailer.WithLogger(nil)); err == nil {
		t.Error("nil logger accepted")
	}
	if _, err := mailer.New(base, mailer.WithClock(nil)); err == nil {
		t.Error("nil clock accepted")
	}
	if _, err := mailer.New(base, mailer.WithTLSConfig(nil)); err == nil {
		t.Error("nil TLS config accepted")
	}
}

// TestDataAsWritten: what the server takes from DATA (unstuffed) is the
// message WriteMessage writes, byte for byte, whether it goes out
// unstuffed in one writev (a plain connection, no line starting with
// "."), stuffed (lines starting with "."), one command at a time, or
// under TLS.
func TestDataAsWritten(t *testing.T) {
	dotted := func(i int) *model.Message {
		m := testMessage(i)
		m.Text = ".hidden\n..two\nmiddle\n.\nlast line .\n."
		m.HTML = "<p>\n.dot</p>\n.\n"
		return m
	}
	cases := []struct {
		name string
		opts smtptest.Options
		tls  string
	}{
		{"pipelining", smtptest.Options{}, "none"},
		{"one command at a time", smtptest.Options{NoPipelining: true}, "none"},
		{"starttls", smtptest.Options{TLS: smtptest.TLSStartTLS}, "starttls"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, tc.opts)
			cfg := smtpConfig(srv, 1)
			cfg.TLS = tc.tls
			m := newMailer(t, cfg, mailer.WithTLSConfig(srv.ClientTLSConfig()))
			want := map[string][]byte{}
			for i := range 6 {
				msg := testMessage(i)
				if i%2 == 1 {
					msg = dotted(i)
				}
				var b bytes.Buffer
				if err := mailer.WriteMessage(&b, msg); err != nil {
					t.Fatal(err)
				}
				want[string(msg.ToAddr)] = b.Bytes()
				if res := send(t, m, msg); res.Outcome != model.Accepted {
					t.Fatalf("message %d: %+v", i, res)
				}
			}
			msgs := srv.Messages()
			if len(msgs) != len(want) {
				t.Fatalf("server got %d messages, want %d", len(msgs), len(want))
			}
			for _, sm := range msgs {
				if w := want[sm.To[0]]; !bytes.Equal(sm.Data, w) {
					t.Errorf("%s: server got\n%q\nwant\n%q", sm.To[0], sm.Data, w)
				}
			}
		})
	}
}
