package mailer

import (
	"github.com/heraldnews/herald/internal/model"
)

// A transaction with PIPELINING (RFC 2920), when the relay offers it (Postfix,
// Exim, go-smtp and most relays do): MAIL FROM, RCPT TO and DATA go out in
// one write and their three replies are read together, then the message
// and its final dot. Two round trips per message instead of four, and half
// the system calls. go-mail's smtp.Client has no pipelining, so this writes
// the commands and reads the replies on the client's own textproto
// connection (as transaction writes the message data on it); go-mail still
// dials, greets, does STARTTLS, AUTH, RSET, NOOP and QUIT. The bytes of the
// message are the same as through go-mail's DotWriter (dotCuts and
// appendDotStuffed, dataEnd), and each reply is classified as in transaction.

// pipelined sends one message with the envelope pipelined. Its envelope
// went out already behind the previous message's final dot when
// s.envSent; f is promised the next message as this one starts
// (f.offer), whose envelope then goes out behind this one's dot if it has
// come (f.take). The message, its final dot and that envelope go in one
// write.
func (s *smtpConn) pipelined(env envelope, raw []byte, f follower) (model.SendResult, verdict) {
	text := s.c.Text
	if f != nil {
		// Promise the next message now, while this one's envelope is
		// answered and its data written: a sender waiting for a
		// connection has that long to hand it over, so its envelope can
		// go behind this message's dot (promised later, after the
		// replies, it mostly came too late).
		f.offer()
	}
	if s.envSent {
		s.envSent = false
	} else {
		s.cmd = s.appendEnvelope(s.cmd[:0], env)
		if _, err := text.W.Write(s.cmd); err != nil {
			return s.fail(stageMail, err)
		}
		if err := text.W.Flush(); err != nil {
			return s.fail(stageMail, err)
		}
	}
	// Read all three replies, whatever they are, so the connection stays
	// in step; the first failure is the result.
	_, _, errMail := text.ReadResponse(250)
	if errMail != nil && !isReply(errMail) {
		return s.fail(stageMail, errMail)
	}
	_, _, errRcpt := text.ReadResponse(25)
	if errRcpt != nil && !isReply(errRcpt) {
		return s.fail(stageRcpt, errRcpt)
	}
	_, _, errData := text.ReadResponse(354)
	if errData != nil && !isReply(errData) {
		return s.fail(stageData, errData)
	}
	if errMail != nil || errRcpt != nil {
		if errData == nil {
			// The server took DATA without a recipient (RFC 2920 says it
			// should not): end the empty message before the RSET.
			if _, err := text.W.WriteString(".\r\n"); err != nil || text.W.Flush() != nil {
				s.drop()
			} else {
				_, _, _ = text.ReadResponse(250)
			}
		}
		if errMail != nil {
			return s.fail(stageMail, errMail)
		}
		return s.fail(stageRcpt, errRcpt)
	}
	if errData != nil {
		return s.fail(stageData, errData)
	}
	// A message whose line ends are all CR-LF (an assembled one) goes
	// out from its own buffer on a plain connection: cut where the lines
	// that start with "." begin (env.cuts, noted by the encoder), a "."
	// put in each cut, and the end of data and the next envelope behind
	// it, in one writev(2). Copying each message into a stuffed buffer,
	// with a search for every line's end, was a twentieth of send-now's
	// CPU (docs/benchmarks.md). Otherwise, and under TLS, the stuffed
	// copy goes in one write.
	direct := s.plain && text.W.Buffered() == 0 && env.crlf
	body := 0 // bytes of the stuffed message that go from raw
	if direct {
		s.stuffed = s.stuffed[:0]
		body = len(raw) + len(env.cuts)
	} else {
		s.stuffed = stuff(s.stuffed[:0], raw, env)
	}
	s.stuffed = dataEnd(s.stuffed, raw[lastLine(raw):])
	// The next message's envelope, when it has come, goes in the same
	// write: RFC 2920 lets message data begin a group. Not one that needs
	// SMTPUTF8 from a relay without it: send refuses that one unsent.
	ahead, dotEnd := false, body+len(s.stuffed)
	if f != nil {
		if nenv, ok := f.take(); ok {
			if !nenv.utf8 || s.offersUTF8() {
				s.stuffed = s.appendEnvelope(s.stuffed, nenv)
				ahead = true
			}
		}
	}
	var n int
	var err error
	if direct {
		n, err = s.tc.writeStuffed(raw, env.cuts, s.stuffed)
	} else {
		n, err = text.W.Write(s.stuffed)
	}
	if err != nil {
		if n < dotEnd {
			return s.fail(stageBody, err) // the dot cannot have left whole
		}
		// The dot left and the next envelope did not: the server may
		// have the message (ambiguous, as a lost reply).
		s.tc.werr = nil
		return s.fail(stageDot, err)
	}
	if cap(s.stuffed) > 1<<20 {
		s.stuffed = nil
	}
	s.tc.werr = nil // from here on, a write error means the dot never left
	if err := text.W.Flush(); err != nil {
		return s.fail(stageDot, err)
	}
	// Set before the reply is read: the replies to the next envelope
	// follow whatever this one is, and a failure that drops the
	// connection clears it.
	s.envSent = ahead
	_, msg, err := text.ReadResponse(250)
	if err != nil {
		return s.fail(stageDot, err)
	}
	reply := oneLine("250 " + msg)
	return model.SendResult{Outcome: model.Accepted, Code: 250, Enhanced: enhancedCode(250, msg), Reply: reply}, verdictDone
}

// offersUTF8 reports whether the relay offers SMTPUTF8 (asked only for
// an envelope that needs it: go-mail's Extension upper-cases its name).
func (s *smtpConn) offersUTF8() bool {
	ok, _ := s.c.Extension("SMTPUTF8")
	return ok
}

// appendEnvelope appends env's MAIL FROM, RCPT TO and DATA commands.
func (s *smtpConn) appendEnvelope(cmd []byte, env envelope) []byte {
	cmd = append(cmd, "MAIL FROM:<"...)
	cmd = append(append(cmd, env.from...), '>')
	if s.eightBit {
		cmd = append(cmd, " BODY=8BITMIME"...)
	}
	if env.utf8 {
		cmd = append(cmd, " SMTPUTF8"...)
	}
	return append(append(append(cmd, "\r\nRCPT TO:<"...), env.to...), ">\r\nDATA\r\n"...)
}

// dataEnd appends the end of data as textproto's DotWriter.Close writes
// it after last, the message's last line (stuffed already): ".\r\n" after
// a line end, else the end of the line first, by the DotWriter's states.
func dataEnd(dst, last []byte) []byte {
	const (
		begin = iota // also the start of a line
		data
		cr
	)
	st := begin
	if len(last) == 0 {
		return append(dst, "\r\n.\r\n"...) // Close of a DotWriter never written to
	}
	for _, c := range last {
		switch st {
		case begin, data:
			switch c {
			case '\r':
				st = cr
			case '\n':
				st = begin
			default:
				st = data
			}
		case cr:
			st = data
			if c == '\n' {
				st = begin
			}
		}
	}
	switch st {
	case begin:
		return append(dst, ".\r\n"...)
	case cr:
		return append(dst, "\n.\r\n"...)
	}
	return append(dst, "\r\n.\r\n"...)
}
