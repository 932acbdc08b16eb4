package mailer

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/heraldnews/herald/internal/model"
)

// Classification of an SMTP reply (go-mail's SendError.IsTemp only looks
// at a leading 4, and its enhanced code is only filled in when the server
// advertises ENHANCEDSTATUSCODES, so herald reads the reply itself):
//
//	2xx                      Accepted
//	4xx                      Temporary (421 also closes the connection)
//	5xx to MAIL FROM         Temporary: the sender is refused, a
//	                         configuration problem common to every message
//	5xx otherwise            Permanent; a 5.1.x enhanced code (bad
//	                         mailbox, bad domain...) to RCPT TO or to the
//	                         message sets Bounce, except 5.1.7 and 5.1.8,
//	                         which are about the sender
//	anything else            Temporary (the reply makes no sense here)
//	no reply (network error, timeout, TLS handshake, cancelled context,
//	a failure while connecting, EHLO, STARTTLS or AUTH)
//	                         Temporary; Ambiguous when it came after the
//	                         final dot had been sent
//
// A failure to connect is Temporary whatever its code (a 535 for a wrong
// password is the operator's to fix; the message itself was never offered).

var enhancedRE = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)`)

// enhancedCode returns the RFC 3463 code at the start of a reply text, such
// as "5.1.1", when its class matches the reply code.
func enhancedCode(code int, text string) string {
	m := enhancedRE.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil || int(m[1][0]-'0') != code/100 {
		return ""
	}
	return m[1] + "." + m[2] + "." + m[3]
}

// classifyReply classifies an error reply to the command at stage st.
func classifyReply(st stage, code int, text string) model.SendResult {
	res := model.SendResult{Code: code, Enhanced: enhancedCode(code, text),
		Reply: oneLine(fmt.Sprintf("%d %s", code, text))}
	switch code / 100 {
	case 2:
		res.Outcome = model.Accepted
	case 5:
		if st == stageMail {
			// A 5xx to MAIL FROM refuses the sender (530 authentication
			// required, 550 5.7.1 relaying denied, 5.1.7/5.1.8 bad sender):
			// a configuration problem that would fail every delivery of
			// the edition alike. It is retried with backoff, giving the
			// operator until smtp.max_attempts runs out to fix the relay.
			res.Outcome = model.Temporary
			return res
		}
		res.Outcome = model.Permanent
		res.Bounce = st >= stageRcpt && strings.HasPrefix(res.Enhanced, "5.1.") &&
			res.Enhanced != "5.1.7" && res.Enhanced != "5.1.8"
	default:
		res.Outcome = model.Temporary
	}
	return res
}

// oneLine makes a reply or error text one line of at most 500 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "")
	}
	return s
}
