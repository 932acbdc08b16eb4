package mailer

import (
	"fmt"
	"strings"

	"github.com/heraldnews/herald/internal/model"
)

// Classification of an SMTP reply (go-mail's SendError.IsTemp only looks
// at a leading 4, and its enhanced code is only filled in when the server
// advertises ENHANCEDSTATUSCODES, so herald reads the reply itself). Each
// reply gets a result for the caller and a verdict on the relay:
//
//	2xx                        Accepted
//	421, or "too many          throttled: the relay takes fewer connections
//	connections"               for a while and the message goes to another
//	                           relay (with one relay: Temporary, retried by
//	                           the outbox after its backoff)
//	any 4xx/5xx to MAIL FROM   relay: the relay refuses the sender (530
//	                           authentication required, 5.7.1 relaying
//	                           denied, 5.1.8 bad sender domain...), the same
//	                           for every message: benched, the message goes
//	                           to another relay
//	a reply to RCPT or the     relay, as above: never a failure of the
//	message that blames the    address, so a misconfigured relay cannot
//	relay or the sender        mark a list bounced
//	(X.7.0, X.1.7, X.1.8,
//	X.3.x, X.4.x, X.5.x,
//	"relay access denied",
//	"authentication required",
//	"sender address rejected")
//	other 4xx                  Temporary (the outbox retries with backoff)
//	other 5xx                  Permanent; a 5.1.x sets Bounce
//	anything else              Temporary (the reply makes no sense here)
//	no reply (network error,   Temporary; Ambiguous when it came after the
//	timeout, cancelled)        final dot had been sent
//	the connection closed      retry: the server dropped an idle connection;
//	(EOF, reset) at MAIL FROM  the message is tried again on a new one
//	no connection (refused,    unreachable: benched, the message goes to
//	TLS, greeting, EHLO, AUTH) another relay
//
// When no relay is left to try, the message comes back with the last
// relay's result as Temporary: it is retried later, never failed.

// verdict is what a result says about the relay that gave it.
type verdict int

const (
	verdictDone        verdict = iota // a result for the caller
	verdictUnreachable                // no usable connection: bench, try another relay
	verdictThrottled                  // too many connections: fewer for a while, try again
	verdictRelay                      // the relay refuses the sender or itself: bench, try another
	verdictNoUTF8                     // the message needs SMTPUTF8, which the relay lacks
	verdictRetry                      // the connection was found closed before the message: try again
)

// enhancedCode returns the RFC 3463 code at the start of a reply text, such
// as "5.1.1", when its class matches the reply code: what
// `^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)` matches in the trimmed text
// (TestEnhancedCodeMatchesRegexp), read by hand and returned as a slice of
// it: every accepted message's reply passes here, and the expression was
// a hundredth of send-now's CPU.
func enhancedCode(code int, text string) string {
	t := strings.TrimSpace(text)
	if len(t) < 5 || t[0] != byte('0'+code/100) || t[0] != '2' && t[0] != '4' && t[0] != '5' || t[1] != '.' {
		return ""
	}
	i := digits(t, 2)
	if i == 2 || i > 5 || i >= len(t) || t[i] != '.' {
		return ""
	}
	j := digits(t, i+1)
	if j == i+1 || j > i+4 {
		return ""
	}
	if j < len(t) && !strings.ContainsRune("\t\n\f\r ", rune(t[j])) {
		return ""
	}
	return t[:j]
}

// digits returns the end of the run of ASCII digits in s from i on.
func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// relayPhrases in a reply blame the relay or the sender, whatever the code.
var relayPhrases = []string{"relay access denied", "relaying denied", "relay not permitted", "relaying not allowed",
	"authentication required", "must authenticate", "not authenticated", "sender address rejected"}

// throttlePhrases in a 4xx reply ask for fewer connections.
var throttlePhrases = []string{"too many connections", "too many concurrent", "too many sessions"}

// classifyReply classifies an error reply to the command at stage st.
func classifyReply(st stage, code int, text string) (model.SendResult, verdict) {
	res := model.SendResult{Code: code, Enhanced: enhancedCode(code, text),
		Reply: oneLine(fmt.Sprintf("%d %s", code, text))}
	lower := strings.ToLower(text)
	switch {
	case code/100 == 2:
		res.Outcome = model.Accepted
		return res, verdictDone
	case code/100 != 4 && code/100 != 5:
		res.Outcome = model.Temporary
		return res, verdictDone
	}
	res.Outcome = model.Temporary
	switch {
	case code == 421 || code/100 == 4 && containsAny(lower, throttlePhrases):
		return res, verdictThrottled
	case st == stageMail || blamesRelay(code, res.Enhanced, lower):
		return res, verdictRelay
	case code/100 == 4:
		return res, verdictDone
	}
	res.Outcome = model.Permanent
	res.Bounce = st >= stageRcpt && strings.HasPrefix(res.Enhanced, "5.1.")
	return res, verdictDone
}

// blamesRelay reports a reply about the relay or the sender rather than
// the recipient.
func blamesRelay(code int, enhanced, lower string) bool {
	if code == 530 || containsAny(lower, relayPhrases) {
		return true
	}
	if enhanced == "" {
		return false
	}
	sub := enhanced[2:] // "7.0", "1.7", "3.4"...
	switch {
	case sub == "7.0", sub == "1.7", sub == "1.8":
		return true
	case strings.HasPrefix(sub, "3."), strings.HasPrefix(sub, "4."), strings.HasPrefix(sub, "5."):
		return true
	}
	return false
}

func containsAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// oneLine makes a reply or error text one line of at most 500 bytes.
func oneLine(s string) string {
	if isOneLine(s) {
		return s // a relay's usual reply: nothing to do, nothing allocated
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "")
	}
	return s
}

// isOneLine reports whether oneLine would return s as it is: printable
// ASCII up to 500 bytes, single spaces between words, none at either end.
func isOneLine(s string) bool {
	if len(s) > 500 || s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return len(s) == 0
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == ' ' && s[i+1] == ' ' {
			return false
		}
	}
	return true
}
