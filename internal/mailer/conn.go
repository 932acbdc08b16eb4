package mailer

import (
	netmail "net/mail"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// conn is one connection of a relay, served by one goroutine.
//
// The crash bound lives here. A connection calls each message's record
// func itself, on its own goroutine, as soon as the server has answered
// the final dot, and starts its next message only once record has
// returned. The caller's record makes the result durable before returning
// (the outbox appends it to the edition's journal: one write), so at any
// instant a connection has at most one message the server accepted that
// is not yet recorded. Recording on the connection's goroutine costs a
// write; handing each result to another goroutine and back, so the next
// message could be sent up to its last line meanwhile, cost more CPU than
// it saved once recording was a write, and split half the messages into
// two writes (docs/benchmarks.md).
//
// A connection also takes its next message while it sends one (a
// lookahead, when its relay has no rate limit): once it is on a message
// (offer), and only while no relay has a free connection, pick may hand
// it one more job, and at the final dot the
// connection takes that job, if it has come, and writes its MAIL FROM,
// RCPT TO and DATA behind the dot in the same write (RFC 2920 allows the
// message data to begin a group). One round trip a message instead of
// two. The next message's data goes only after this one's record has
// returned: an envelope delivers nothing.
type conn struct {
	m        *Mailer
	relay    *relay
	tr       connTransport
	jobs     chan *job // capacity 1: a job is put here only after pick reserved the connection
	reserved bool      // guarded by Mailer.mu: picked and not yet released
	open     bool      // guarded by Mailer.mu: on a message, with no next job promised yet
	ahead    bool      // guarded by Mailer.mu: pick promised it a next job while it was on one
	held     *job      // the next job, taken at the final dot (its envelope may be on the wire)
}

// maxTries bounds the tries of one message across relays before it comes
// back Temporary: every relay once, and a few more for throttling.
func (m *Mailer) maxTries() int { return 2*len(m.relays) + 2 }

// serve is one connection's loop: take a message, send it, report it.
// After Close it finishes a message already handed to it.
func (m *Mailer) serve(c *conn) {
	for {
		select {
		case j := <-c.jobs:
			m.handleAll(c, j)
		case <-m.quit:
			for {
				m.mu.Lock()
				reserved, wake := c.reserved, m.wake
				m.mu.Unlock()
				if !reserved {
					return
				}
				select {
				case j := <-c.jobs:
					m.handleAll(c, j)
				case <-wake:
				}
			}
		}
	}
}

// handleAll handles j, then each next job taken at a final dot: a job
// whose envelope went out behind the dot must be the next on c.
func (m *Mailer) handleAll(c *conn, j *job) {
	for j != nil {
		m.handle(c, j)
		j, c.held = c.held, nil
	}
}

// offer makes c able to take the next message (pick's lookahead). A
// pipelining transport calls it as it starts a message on a connection
// that is up (so a connection still dialling a dead relay promises
// nothing), one without PIPELINING once the relay has answered the
// envelope, and finish when c holds its next message; never for a relay
// that paces messages (rate_per_second: the limiter's wait belongs before
// a connection is promised). A job promised before its relay answered the
// envelope stays with the connection even if that answer benches the
// relay: it costs that job one failed try before it is rerouted.
func (c *conn) offer() {
	m := c.m
	if c.relay.limiter != nil {
		return
	}
	m.mu.Lock()
	if !c.open && !c.ahead {
		c.open = true
		c.relay.open++
		m.broadcast()
	}
	m.mu.Unlock()
}

// take returns the envelope of c's next job, if pick has handed it over
// by now, and keeps the job as c.held (handleAll sends it next). A job
// that cannot be composed is held too, for handle to report, but has no
// envelope to send.
func (c *conn) take() (envelope, bool) {
	if c.held != nil {
		return envelope{}, false
	}
	select {
	case j := <-c.jobs:
		c.held = j
		if j.start.IsZero() {
			j.start = time.Now()
		}
		if j.raw == nil && c.m.assembleJob(j) != nil {
			return envelope{}, false
		}
		return j.env, true
	default:
		return envelope{}, false
	}
}

// handle tries j on c: a result for the caller is reported; a relay's
// failure sends j on to another try.
func (m *Mailer) handle(c *conn, j *job) {
	if j.start.IsZero() {
		j.start = time.Now()
	}
	if j.raw == nil {
		if err := m.assembleJob(j); err != nil {
			m.finish(c, j, model.SendResult{Outcome: model.Permanent, Reply: oneLine(err.Error())})
			return
		}
	}
	r := c.relay
	res, v := c.tr.send(j.env, j.raw.Bytes(), c)
	res.Relay = r.name
	m.noteUTF8(r, c.tr)
	m.judge(r, res, v)
	if v == verdictThrottled && len(m.relays) == 1 {
		// The only relay asked to try later: the outbox does, after its
		// backoff, on a connection the relay now has fewer of.
		v = verdictDone
	}
	if m.metrics.RelayAttempt != nil {
		outcome := res.Outcome.String()
		switch v {
		case verdictDone:
		case verdictThrottled:
			outcome = "throttled"
		case verdictRetry:
			outcome = "retried"
		default:
			outcome = "rerouted"
		}
		m.metrics.RelayAttempt(r.name, outcome)
	}
	if v == verdictDone {
		m.finish(c, j, res)
		return
	}
	j.last, j.tries = res, j.tries+1
	if v != verdictRetry {
		j.excluded[r.index] = true
	}
	m.release(c)
	if j.tries >= m.maxTries() {
		m.finishNoConn(j, res)
		return
	}
	m.pending.Add(1)
	go func() {
		defer m.pending.Done()
		_ = m.dispatch(m.ctx, j, false)
	}()
}

// finish frees c and reports j's result, on c's goroutine: c's next
// message waits for the record. A connection that holds its next message
// (whose envelope went out behind this dot) promises the one after before
// the record (offer), so a sender waiting meanwhile can hand it over in
// time for its envelope to go behind that next message's dot.
func (m *Mailer) finish(c *conn, j *job, res model.SendResult) {
	m.release(c) // free before the result is reported: the caller's next Send finds it
	if c.held != nil {
		c.offer()
	}
	m.report(j, res)
	m.putBuf(j.raw)
}

// finishNoConn reports the result of a message no connection will carry.
func (m *Mailer) finishNoConn(j *job, res model.SendResult) {
	if res.Outcome != model.Permanent {
		res.Outcome, res.Bounce = model.Temporary, false
	}
	m.report(j, res)
	m.putBuf(j.raw)
}

// giveUp ends j when the mailer closes before a try on another relay.
func (m *Mailer) giveUp(j *job, reason string) {
	res := j.last
	if res.Outcome == 0 {
		res = model.SendResult{Outcome: model.Temporary, Reply: reason}
	}
	m.finishNoConn(j, res)
}

func (m *Mailer) report(j *job, res model.SendResult) {
	if m.metrics.Result != nil {
		took := time.Duration(0)
		if !j.start.IsZero() {
			took = time.Since(j.start)
		}
		m.metrics.Result(res, took)
	}
	if res.Ambiguous {
		m.log.Warn("mail may have been delivered: connection lost after the message was sent",
			"message_id", msgID(j.msg), "relay", res.Relay, "reply", res.Reply)
	}
	j.record(res)
}

// assembleJob composes j's message once, into a pooled buffer, and
// derives its envelope. msg.From and msg.ReplyTo default to smtp.from and
// smtp.reply_to. A message that cannot be composed (a header value with
// CR or LF, a bad address or Message-ID) is an error: a Permanent result
// with Code 0.
func (m *Mailer) assembleJob(j *job) error {
	if j.msg == nil {
		return errNilMessage
	}
	cp := *j.msg
	if cp.From == "" {
		cp.From = m.cfg.From
	}
	if cp.ReplyTo == "" {
		cp.ReplyTo = m.cfg.ReplyTo
	}
	buf := m.getBuf()
	c, err := assemble(&buf.Buffer, buf.cuts, &cp, composeOptions{now: m.now, signer: m.dkim, addrs: &m.addrs}, m.lines)
	if err != nil {
		m.putBuf(buf)
		return err
	}
	buf.cuts = c.cuts // the grown slice, for the next message
	j.raw, j.env = buf, envelopeOf(c, cp.ReturnPath)
	j.utf8 = j.env.utf8
	return nil
}

// envelopeOf is the one place the SMTP envelope comes from: MAIL FROM is
// the message's return path (a VERP address naming it, when bounces are
// heard) or else the From address, RCPT TO the To address.
func envelopeOf(c *checked, returnPath model.Address) envelope {
	from := c.from.Address
	if returnPath != "" {
		from = string(returnPath) // VERP: bounces name the message
	}
	return envelope{from: from, to: c.to.Address, messageID: "<" + c.id + ">",
		utf8: !isASCII(from) || !isASCII(c.to.Address), crlf: c.crlf, cuts: c.cuts}
}

// needsUTF8 reports, before composing, whether msg's addresses need
// SMTPUTF8 (envelopeOf decides for good).
func (m *Mailer) needsUTF8(msg *model.Message) bool {
	if msg == nil {
		return false
	}
	if !isASCII(string(msg.ToAddr)) {
		return true
	}
	if msg.From == "" {
		return m.from != nil && !isASCII(m.from.Address)
	}
	if isASCII(msg.From) {
		return false
	}
	a, err := netmail.ParseAddress(msg.From) // the name may be what is not ASCII
	return err != nil || !isASCII(a.Address)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func msgID(msg *model.Message) string {
	if msg == nil {
		return ""
	}
	return msg.MessageID
}
