package bounce

import (
	"strings"

	"github.com/emersion/go-message"
)

var (
	autoSubjectRE = re(`^\s*(auto(matic)?[ -]?(reply|response|antwort)|auto:|out of (the )?office|vacation|away from (my|the) (office|desk)|` +
		`abwesenheit|r[ée]ponse automatique|absence|fuera de la oficina|respuesta autom[aá]tica|on leave|on holiday)`)
	challengeRE = re(`(please )?(confirm|verify) (that )?(you are a human|you're a human|your (e-?mail|message|identity|address))|` +
		`challenge[- ]response|sender verification|approve (yourself|your email)|boxbe|spamarrest|mailblocks|i am using .* to (protect|block)`)
	replySubjectRE = re(`^\s*(re|aw|sv|antw|r|rif|ref|vs)\s*(\[\d+\])?\s*:`)
)

// notBounceReason says what a message that is not a bounce or complaint is:
// a challenge-response request, an auto-reply, a reader's reply, or
// unrecognised.
func notBounceReason(h message.Header, text string) string {
	subject := headerText(h, "Subject")
	lower := strings.ToLower(cutReturned(text))
	if challengeRE.MatchString(subject) || challengeRE.MatchString(lower) ||
		h.Get("X-Challenge") != "" || h.Get("X-Boxbe-Challenge") != "" {
		return "challenge-response"
	}
	if autoReply(h, subject) {
		return "auto-reply"
	}
	if h.Get("In-Reply-To") != "" || h.Get("References") != "" || replySubjectRE.MatchString(subject) {
		return "reply"
	}
	return "unrecognised"
}

// autoReply reports the headers an auto-responder sets (RFC 3834's
// Auto-Submitted, the de facto X-Autoreply, X-Autorespond, Precedence,
// Microsoft's X-Auto-Response-Suppress) or an auto-reply's subject.
func autoReply(h message.Header, subject string) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Autoresponder") != "" ||
		h.Get("X-Auto-Response-Suppress") != "" || h.Get("X-Vacation") != "" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "auto_reply", "auto-reply", "bulk", "junk", "list":
		return true
	}
	return autoSubjectRE.MatchString(subject)
}
