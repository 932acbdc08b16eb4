package smtptest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.conns++
	n := s.conns
	s.mu.Unlock()
	return &session{srv: s, conn: c, id: n}, nil
}

// decide runs the hook for a and carries out its stall and drop. It
// returns the action and the error to reply with (nil: success). before,
// when set, runs after the hook and before the stall or drop.
func (s *Server) decide(c *smtp.Conn, a *Attempt, before func(Action)) (Action, error) {
	s.mu.Lock()
	h := s.hook
	s.mu.Unlock()
	var act Action
	if h != nil {
		act = h(a)
	}
	if before != nil {
		before(act)
	}
	if act.Stall > 0 {
		t := time.NewTimer(act.Stall)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
		}
	}
	if act.Drop {
		_ = c.Conn().Close()
		return act, errors.New("smtptest: connection dropped")
	}
	if act.Reply != nil {
		return act, act.Reply
	}
	return act, nil
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	for _, r := range m.To {
		s.count[strings.ToLower(r)]++
	}
}

type session struct {
	srv    *Server
	conn   *smtp.Conn
	id     int
	authed bool
	from   string
	utf8   bool
	rcpts  []string
}

var _ smtp.AuthSession = (*session)(nil)

func (se *session) AuthMechanisms() []string {
	if se.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	if se.srv.opts.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != se.srv.opts.Username || pass != se.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, opts *smtp.MailOptions) error {
	if se.srv.opts.Username != "" && !se.authed {
		return smtp.ErrAuthRequired
	}
	se.from = from
	se.utf8 = opts != nil && opts.UTF8
	_, err := se.srv.decide(se.conn, &Attempt{Stage: StageMail, Conn: se.id, From: from}, nil)
	return err
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.srv.mu.Lock()
	key := strings.ToLower(to)
	se.srv.tries[key]++
	n := se.srv.tries[key]
	se.srv.mu.Unlock()
	a := &Attempt{Stage: StageRcpt, Conn: se.id, From: se.from, Rcpt: to, N: n,
		Rcpts: append(append([]string(nil), se.rcpts...), to)}
	if _, err := se.srv.decide(se.conn, a, nil); err != nil {
		return err
	}
	se.rcpts = append(se.rcpts, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	a := &Attempt{Stage: StageData, Conn: se.id, From: se.from, Rcpts: append([]string(nil), se.rcpts...), Data: buf.Bytes()}
	if len(se.rcpts) > 0 {
		a.Rcpt = se.rcpts[0]
		se.srv.mu.Lock()
		a.N = se.srv.tries[strings.ToLower(a.Rcpt)]
		se.srv.mu.Unlock()
	}
	record := func() {
		m := Message{From: se.from, To: a.Rcpts, Data: a.Data, At: time.Now(), Conn: se.id, UTF8: se.utf8}
		if se.srv.opts.DiscardData {
			m.Data = nil
		}
		se.srv.record(m)
	}
	// Deliver records before the stall or drop, so a client that sees the
	// connection close also sees the delivery; a plain accept records when
	// it replies.
	act, err := se.srv.decide(se.conn, a, func(act Action) {
		if act.Deliver {
			record()
		}
	})
	if err == nil && !act.Deliver {
		record()
	}
	return err
}

func (se *session) Reset() {
	se.from, se.utf8 = "", false
	se.rcpts = nil
}

func (se *session) Logout() error { return nil }
