package digest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
)

// newRelaysEnv is an env whose mailer spreads messages over srvs, conns
// connections each.
func newRelaysEnv(tb testing.TB, conns int, srvs ...*smtptest.Server) (*env, *relayUps) {
	tb.Helper()
	cfg := testConfig(tb)
	cfg.SMTP.Transport = "smtp"
	cfg.SMTP.Timeout = config.Duration(5 * time.Second)
	for _, s := range srvs {
		cfg.SMTP.Relays = append(cfg.SMTP.Relays, config.Relay{Host: s.Host(), Port: s.Port(), TLS: "none", MaxConnections: conns, Weight: 1})
	}
	ups := &relayUps{down: map[string]bool{}}
	m, err := mailer.New(cfg.SMTP, mailer.WithMetrics(mailer.Metrics{RelayUp: ups.hook}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	e := newEnv(tb, m, func(o *digest.Options) { o.Config.SMTP = cfg.SMTP; o.PageSize = 100 })
	return e, ups
}

type relayUps struct {
	mu   sync.Mutex
	down map[string]bool // relays ever benched
}

func (r *relayUps) hook(relay string, up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !up {
		r.down[relay] = true
	}
}

func (r *relayUps) benched(relay string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down[relay]
}

// failoverEdition plans an edition for n subscribers, sends it (retrying
// temporary failures), and returns the result and, per subscriber, how
// many messages the servers got.
func failoverEdition(t *testing.T, e *env, n int, srvs ...*smtptest.Server) (digest.SendNowResult, map[string]int) {
	t.Helper()
	e.article("w1", "Summit ends without a deal", "world", time.Hour, "ann")
	for i := range n {
		e.subscriber(fmt.Sprintf("r%04d@example.com", i), "", model.SubscriberActive, nil, nil)
	}
	e.clock.Add(time.Second)
	res := e.sendNow(digest.SendNowRequest{Wait: time.Hour})
	counts := map[string]int{}
	for i := range n {
		a := fmt.Sprintf("r%04d@example.com", i)
		for _, s := range srvs {
			counts[a] += s.CountFor(a)
		}
	}
	return res, counts
}

// relaysOf counts the deliveries of the last edition by the relay recorded.
func relaysOf(t *testing.T, e *env) map[string]int {
	t.Helper()
	out := map[string]int{}
	rows, err := e.store.R.QueryContext(context.Background(),
		`SELECT relay, count(*) FROM deliveries WHERE status = 'sent' GROUP BY relay`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		var c int
		if err := rows.Scan(&r, &c); err != nil {
			t.Fatal(err)
		}
		out[r] = c
	}
	return out
}

// TestRelayStoppedMidEdition: one of two relays stops during an edition
// (its connections drop, then connection refused). Every subscriber gets
// the digest; the only repeats allowed are the messages in flight on the
// stopped relay's connections when it stopped (accepted, then the reply
// lost: retried as ambiguous).
func TestRelayStoppedMidEdition(t *testing.T) {
	const n, conns = 400, 2
	var data atomic.Int32
	var a *smtptest.Server
	a = smtptest.Start(t, smtptest.Options{DiscardData: true, Hook: func(at *smtptest.Attempt) smtptest.Action {
		if at.Stage == smtptest.StageData && data.Add(1) == 60 {
			go a.Close()
		}
		return smtptest.Accept()
	}})
	b := smtptest.Start(t, smtptest.Options{DiscardData: true})
	e, ups := newRelaysEnv(t, conns, a, b)
	res, counts := failoverEdition(t, e, n, a, b)
	dups := 0
	for addr, c := range counts {
		if c == 0 {
			t.Errorf("%s got no digest", addr)
		}
		dups += max(c-1, 0)
	}
	if dups > conns {
		t.Errorf("%d repeats, more than the %d connections in flight on the stopped relay", dups, conns)
	}
	if res.Failed != 0 || res.Left != 0 || res.Sent != n {
		t.Errorf("result %+v", res)
	}
	by := relaysOf(t, e)
	if by[a.Addr()] == 0 || by[b.Addr()] < n/2 || by[a.Addr()]+by[b.Addr()] != n {
		t.Errorf("deliveries by relay %v", by)
	}
	if !ups.benched(a.Addr()) || ups.benched(b.Addr()) {
		t.Errorf("benched: A %v, B %v", ups.benched(a.Addr()), ups.benched(b.Addr()))
	}
	t.Logf("A carried %d, B %d, repeats %d", by[a.Addr()], by[b.Addr()], dups)
}

// TestRelay421Everything: one relay starts answering 421 to everything
// midway; its work moves to the other and nobody gets two (a 421 comes
// before the message is sent).
func TestRelay421Everything(t *testing.T) {
	const n = 400
	var mails atomic.Int32
	a := smtptest.Start(t, smtptest.Options{DiscardData: true, Hook: func(at *smtptest.Attempt) smtptest.Action {
		if at.Stage == smtptest.StageMail && mails.Add(1) > 60 {
			return smtptest.Reply(421, "4.3.2", "service not available, closing transmission channel")
		}
		return smtptest.Accept()
	}})
	b := smtptest.Start(t, smtptest.Options{DiscardData: true})
	e, ups := newRelaysEnv(t, 2, a, b)
	res, counts := failoverEdition(t, e, n, a, b)
	for addr, c := range counts {
		if c != 1 {
			t.Errorf("%s got %d digests", addr, c)
		}
	}
	if res.Failed != 0 || res.Sent != n {
		t.Errorf("result %+v", res)
	}
	if !ups.benched(a.Addr()) {
		t.Error("the relay answering 421 to everything was not benched")
	}
}

// TestRelayRecipient550NotRetried: a 550 for a recipient is that
// delivery's permanent failure (and a bounce): it is never offered to the
// other relay. A relay-blaming 5.7.0 or "relay access denied" moves the
// message and counts against nobody.
func TestRelayRecipient550NotRetried(t *testing.T) {
	var goneTries atomic.Int32
	hook := func(blame bool) func(*smtptest.Attempt) smtptest.Action {
		return func(at *smtptest.Attempt) smtptest.Action {
			switch {
			case at.Stage != smtptest.StageRcpt:
			case strings.HasPrefix(at.Rcpt, "r0007@"):
				goneTries.Add(1)
				return smtptest.Reply(550, "5.1.1", "no such user")
			case blame:
				return smtptest.Reply(554, "5.7.1", at.Rcpt+": Relay access denied")
			}
			return smtptest.Accept()
		}
	}
	a := smtptest.Start(t, smtptest.Options{DiscardData: true, Hook: hook(true)})
	b := smtptest.Start(t, smtptest.Options{DiscardData: true, Hook: hook(false)})
	e, ups := newRelaysEnv(t, 2, a, b)
	res, counts := failoverEdition(t, e, 100, a, b)
	if goneTries.Load() != 1 {
		t.Errorf("the address with the 550 was offered %d times, want once", goneTries.Load())
	}
	if res.Failed != 1 || res.Sent != 99 || res.Left != 0 {
		t.Errorf("result %+v", res)
	}
	for addr, c := range counts {
		if want := 1 - boolInt(addr == "r0007@example.com"); c != want {
			t.Errorf("%s got %d digests, want %d", addr, c, want)
		}
	}
	var bounced int
	if err := e.store.R.QueryRow(`SELECT count(*) FROM subscribers WHERE status = 'bounced'`).Scan(&bounced); err != nil {
		t.Fatal(err)
	}
	if bounced != 1 {
		t.Errorf("%d subscribers bounced, want the one 550", bounced)
	}
	if !ups.benched(a.Addr()) || len(a.Messages()) != 0 {
		t.Errorf("the relay denying relaying: benched %v, carried %d", ups.benched(a.Addr()), len(a.Messages()))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
