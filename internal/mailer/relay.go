package mailer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldnews/herald/internal/model"
)

// Relays, and how a message finds a connection.
//
// Send picks among the relays that have a free connection by smooth
// weighted round robin (nginx's upstream weights with max_conns): when
// several relays could take the next message they share messages by
// weight; when every connection is busy the next one freed takes it, so a
// relay carries at most what its connections can.
//
// With several relays, one that cannot be reached (refused connection,
// TLS or AUTH failure, an error greeting) is benched at once, and one that
// refuses the sender or blames itself (see classify.go) relayBench times
// in a row is benched too: no message goes to it for benchMin, doubling
// with each consecutive failure up to benchMax, and the message that met
// the failure goes to another relay. A single relay is never benched
// (there is nowhere else to go): such a message comes back Temporary, as
// before there were relays; RelayUp still reports the relay down until it
// next carries a message. A relay comes back when its bench is over: the
// next message tries it. When no relay can take a message, it waits for
// one whose bench ends within maxBenchWait, else it comes back Temporary
// with the last failure (the outbox retries it later): relays that are all
// down fail an edition's pass fast instead of holding it.
//
// A 421 or "too many connections" closes that connection and lowers the
// relay's connections by one; each message the relay then accepts gives
// back 1/connections of one (Postfix's destination concurrency feedback),
// so a relay that throttles now and then keeps nearly all its connections
// and one that throttles every other message is held near one. The
// message goes to another relay (with a single relay it comes back
// Temporary: the relay asked to try later, and the outbox does, after its
// backoff); throttleBench throttles in a row bench a relay that has others.
const (
	benchMin      = time.Second
	benchMax      = 5 * time.Minute
	maxBenchWait  = 2 * time.Second
	throttleBench = 3
	relayBench    = 3
	tempBench     = 10
)

// fileRelayName names the file transport's one pseudo-relay.
const fileRelayName = "file"

// relay is one SMTP relay (or the file transport) and its connections.
type relay struct {
	index   int // in Mailer.relays
	name    string
	weight  int
	limiter *rate.Limiter // nil: no limit
	conns   []*conn

	// Guarded by Mailer.mu.
	idle      []*conn // free connections, the longest idle first
	busy      int
	open      int       // busy connections that may take a next job (conn.open)
	limit     int       // connections it may use now
	credit    float64   // toward the next connection back after a throttle
	benched   time.Time // no messages before this
	backoff   time.Duration
	throttles int  // 421s in a row
	failures  int  // replies blaming the relay in a row
	temps     int  // a recipient's 4xx replies in a row, nothing accepted between
	utf8      int8 // SMTPUTF8: 0 unknown, 1 offered, -1 not offered
	current   int  // smooth weighted round robin
	down      bool // benched and not yet back (for RelayUp)
	lastErr   string
}

// follower is what a transport sees of its connection's next message
// (conn.go): offer to take one, take it if it has come.
type follower interface {
	offer()
	take() (envelope, bool)
}

// connTransport is one connection's way of delivering: SMTP or a file.
type connTransport interface {
	// send delivers raw. It calls f.offer once the connection is up and
	// on the message (with PIPELINING, as the message starts; without,
	// once the relay has taken the envelope); at the final dot it may
	// call f.take for the envelope of the message it will send next and
	// write that envelope behind the dot; its next send then begins by
	// reading the replies. f may be nil.
	send(env envelope, raw []byte, f follower) (model.SendResult, verdict)
	// utf8 reports, once connected, whether the relay offers SMTPUTF8.
	utf8() (known, ok bool)
	close()
}

func newRelay(name string, weight int, lim *rate.Limiter, conns int) *relay {
	return &relay{name: name, weight: weight, limiter: lim, limit: conns}
}

func (m *Mailer) add(r *relay, tr connTransport) {
	c := &conn{m: m, relay: r, tr: tr, jobs: make(chan *job, 1)}
	r.conns = append(r.conns, c)
	r.idle = append(r.idle, c)
}

// dispatch finds j a connection and hands it over. For Send (first) an
// error means j was not handed over; for a retry on another relay the
// mailer's own context is used and a failure is recorded as j's result.
func (m *Mailer) dispatch(ctx context.Context, j *job, first bool) error {
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			if first {
				return ErrClosed
			}
			m.giveUp(j, "mailer closed before the message could be sent")
			return nil
		}
		c, wait, fail := m.pick(j, m.now())
		wake := m.wake
		m.mu.Unlock()
		switch {
		case c != nil:
			if lim := c.relay.limiter; lim != nil {
				if err := lim.Wait(ctx); err != nil {
					m.release(c)
					if first {
						return fmt.Errorf("mailer: rate limit: %w", err)
					}
					m.giveUp(j, "mailer closed before the message could be sent")
					return nil
				}
			}
			c.jobs <- j
			return nil
		case fail != nil:
			m.finishNoConn(j, *fail)
			return nil
		}
		var t *time.Timer
		var timer <-chan time.Time
		if wait > 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-wake:
		case <-timer:
		case <-ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			if first {
				return ctx.Err()
			}
			m.giveUp(j, "mailer closed before the message could be sent")
			return nil
		}
	}
}

// pick returns a free connection for j, or how long to wait for one (0:
// until a connection is freed), or the result j gets when no relay can
// take it. Called with m.mu held.
func (m *Mailer) pick(j *job, now time.Time) (c *conn, wait time.Duration, fail *model.SendResult) {
	var best *relay
	total, noUTF8 := 0, 0
	var aheadOK uint64 // relays (by index, the first 64) with a busy connection promising a next job
	var soonest time.Time
	busy := false
	for i, r := range m.relays {
		if r.utf8 < 0 {
			noUTF8++
		}
		if j.excluded[i] || j.utf8 && r.utf8 < 0 {
			continue
		}
		if now.Before(r.benched) {
			if soonest.IsZero() || r.benched.Before(soonest) {
				soonest = r.benched
			}
			continue
		}
		if r.busy >= r.limit || len(r.idle) == 0 {
			busy = true
			if r.open > 0 && r.busy <= r.limit && i < 64 {
				aheadOK |= 1 << i
			}
			continue
		}
		r.current += r.weight
		total += r.weight
		if best == nil || r.current > best.current {
			best = r
		}
	}
	switch {
	case best != nil:
		best.current -= total
		c = best.idle[0] // the longest idle: every connection takes its turn
		best.idle = append(best.idle[:0], best.idle[1:]...)
		best.busy++
		c.reserved = true
		return c, 0, nil
	case aheadOK != 0:
		// No relay has a free connection: a busy one that promised to
		// take a next job gets j (its lookahead), by the same weights;
		// never one held to fewer connections than it has busy (a
		// throttle). It stays counted busy once; release keeps it
		// reserved.
		for i, r := range m.relays {
			if i < 64 && aheadOK&(1<<i) != 0 {
				r.current += r.weight
				total += r.weight
				if best == nil || r.current > best.current {
					best = r
				}
			}
		}
		best.current -= total
		for _, bc := range best.conns {
			if bc.open {
				c = bc
				break
			}
		}
		c.open, c.ahead = false, true
		best.open--
		return c, 0, nil
	case busy:
		return nil, 0, nil
	case !soonest.IsZero() && soonest.Sub(now) <= maxBenchWait:
		return nil, soonest.Sub(now), nil
	case j.utf8 && noUTF8 == len(m.relays):
		return nil, 0, &model.SendResult{Outcome: model.Permanent,
			Reply: "not sent: the address needs SMTPUTF8 (RFC 6531), which no configured relay offers"}
	}
	res := j.last
	if res.Outcome == 0 {
		res = model.SendResult{Outcome: model.Temporary, Reply: "no relay available"}
		for _, r := range m.relays {
			if r.lastErr != "" {
				res.Reply = oneLine(fmt.Sprintf("no relay available: %s: %s", r.name, r.lastErr))
				break
			}
		}
	}
	res.Outcome, res.Bounce = model.Temporary, false
	return nil, 0, &res
}

// release returns c to its relay's free connections, once its message is
// done, unless pick promised it a next job: then it stays reserved for
// that job.
func (m *Mailer) release(c *conn) {
	m.mu.Lock()
	r := c.relay
	if c.open {
		c.open = false
		r.open--
	}
	if c.ahead {
		c.ahead = false
		m.mu.Unlock()
		return
	}
	r.busy--
	r.idle = append(r.idle, c)
	c.reserved = false
	m.broadcast()
	m.mu.Unlock()
}

// broadcast wakes everyone waiting for a connection. Called with m.mu held.
func (m *Mailer) broadcast() {
	close(m.wake)
	m.wake = make(chan struct{})
}

// judge updates r's state from a try's verdict.
func (m *Mailer) judge(r *relay, res model.SendResult, v verdict) {
	if r.name == fileRelayName {
		return
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if v == verdictDone && res.Outcome == model.Temporary {
		// One 4xx for a recipient is about that recipient (it is retried
		// later); tempBench of them in a row with nothing accepted between
		// is a relay answering 4xx to everything: benched like one that
		// blames itself, so its work goes to the others.
		r.temps++
		if r.temps < tempBench || len(m.relays) == 1 {
			return // a single relay is not benched: it would only fail sooner
		}
		v = verdictRelay
		r.failures = relayBench
		// Not the last reply itself: it names one recipient, and the
		// bench's reason shows on other readers' deliveries.
		res.Reply = strings.TrimSpace(fmt.Sprintf("%d recipients in a row answered 4xx (last: %d %s", r.temps, res.Code, res.Enhanced)) + ")"
	}
	switch v {
	case verdictDone:
		r.backoff, r.throttles, r.failures, r.temps, r.lastErr = 0, 0, 0, 0, ""
		if r.limit < len(r.conns) && res.Outcome == model.Accepted {
			if r.credit += 1 / float64(r.limit); r.credit >= 1 {
				r.limit, r.credit = r.limit+1, 0
				m.broadcast()
			}
		}
		if r.down {
			r.down = false
			m.log.Info("smtp relay back", "relay", r.name)
			if m.metrics.RelayUp != nil {
				m.metrics.RelayUp(r.name, true)
			}
		}
		return
	case verdictNoUTF8, verdictRetry:
		return
	case verdictThrottled:
		r.throttles++
		r.lastErr = res.Reply
		if r.limit > 1 {
			r.limit--
		}
		r.credit = 0
		m.log.Warn("smtp relay throttled: fewer connections for a while", "relay", r.name, "connections", r.limit, "reply", res.Reply)
		if r.throttles < throttleBench {
			return
		}
	case verdictRelay:
		// One such reply can be about one message (a 4.4.x for one
		// recipient's domain): it goes elsewhere, and the relay is
		// benched only when they come in a row.
		r.failures++
		r.lastErr = res.Reply
		if r.failures < relayBench {
			return
		}
	}
	r.lastErr = res.Reply
	if len(m.relays) > 1 {
		// Benching moves work to the others; a single relay is not
		// benched (its messages would only come back Temporary sooner, or
		// wait for it): each tries it, as before there were relays.
		r.backoff = min(max(2*r.backoff, benchMin), benchMax)
		r.benched = now.Add(r.backoff)
		m.log.Warn("smtp relay benched", "relay", r.name, "for", r.backoff, "reply", res.Reply)
	}
	if !r.down {
		r.down = true
		if m.metrics.RelayUp != nil {
			m.metrics.RelayUp(r.name, false)
		}
	}
	m.broadcast()
}

// noteUTF8 records whether r offers SMTPUTF8, once a connection knows.
func (m *Mailer) noteUTF8(r *relay, tr connTransport) {
	known, ok := tr.utf8()
	if !known {
		return
	}
	m.mu.Lock()
	if ok {
		r.utf8 = 1
	} else {
		r.utf8 = -1
	}
	m.mu.Unlock()
}
