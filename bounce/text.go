package bounce

import (
	"regexp"
	"strings"

	"github.com/emersion/go-message"
)

// Signs that a message without a delivery-status part is a bounce. Each
// phrase is one that an MTA or provider writes into its bounces (lower
// case); they are matched in the human-readable text.
var bouncePhrases = []string{
	"this is the qmail-send program",                                                 // qmail
	"i'm afraid i wasn't able to deliver your message",                               // qmail
	"this message was created automatically by mail delivery software",               // Exim
	"the following address(es) failed",                                               // Exim
	"this is the mail system at host",                                                // Postfix
	"the following addresses had permanent fatal errors",                             // Sendmail
	"----- transcript of session follows -----",                                      // Sendmail
	"the original message was received at",                                           // Sendmail
	"this is the mailer-daemon, please do not reply",                                 // OpenSMTPD
	"an error has occurred while attempting to deliver a message",                    // OpenSMTPD
	"delivery has failed to these recipients or groups",                              // Exchange / Office 365
	"your message did not reach some or all of the intended recipients",              // Exchange
	"couldn't be delivered",                                                          // Office 365
	"delivery to the following recipient failed permanently",                         // Gmail (older)
	"delivery to the following recipients failed",                                    // Outlook.com, Exchange
	"** address not found **",                                                        // Gmail
	"** message not delivered **",                                                    // Gmail
	"your message wasn't delivered to",                                               // Gmail
	"sorry, we were unable to deliver your message",                                  // Yahoo
	"unable to deliver message to the following address",                             // Yahoo, AOL
	"could not be delivered to one or more recipients",                               // several
	"an error occurred while trying to deliver the mail to the following recipients", // Amazon SES
	"delivery to the following recipient has been delayed",                           // Gmail delay
	"has not yet been delivered to one or more of its recipients",                    // Exim delay
	"this is a warning message only",                                                 // Sendmail delay
	"message delivery has been delayed",                                              // several
}

// delayPhrases mark a notice that delivery is only late (lower case).
var delayPhrases = []string{
	"has been delayed", "has not yet been delivered", "this is a warning message only",
	"will continue trying", "still being retried", "will retry", "delivery attempts will continue",
	"you do not need to resend your message",
}

var (
	bounceSubjectRE = re(`undeliver|undelivered mail|delivery status notification|delivery (failure|failed|has failed|notification)|` +
		`failure notice|returned mail|mail delivery failed|mail delivery failure|non[- ]?delivery|could not be delivered|` +
		`mail system error|delivery problem|rejected:|returned to sender`)
	daemonLocalRE = re(`^(mailer[-_]?daemon|mail[-_]?daemon|postmaster|mail[-_]?delivery[-_]?(system|subsystem)?|bounce[sd]?|nobody|microsoftexchange[0-9a-f]*|mdaemon)$`)
	failedSubjRE  = re(`delay|warning|still being retried`)
)

// isDaemon reports whether an address is a mail system's own: MAILER-DAEMON,
// postmaster and their kin.
func isDaemon(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return daemonLocalRE.MatchString(addr)
	}
	return daemonLocalRE.MatchString(addr[:at])
}

// isBounceText reports whether a message without a report part is a
// bounce: an X-Failed-Recipients header, or a message from a mail system
// (a MAILER-DAEMON-like From, the null Return-Path or a bounce's Subject)
// with a known bounce phrase or with both such a From and Subject.
func isBounceText(h message.Header, text string) bool {
	if h.Get("X-Failed-Recipients") != "" {
		return true
	}
	from, subject := firstAddress(h.Get("From")), headerText(h, "Subject")
	nullSender := strings.TrimSpace(h.Get("Return-Path")) == "<>"
	if !isDaemon(from) && !nullSender && !bounceSubjectRE.MatchString(subject) {
		return false // a person's mail, whatever words it quotes
	}
	lower := strings.ToLower(text)
	for _, p := range bouncePhrases {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return isDaemon(from) && bounceSubjectRE.MatchString(subject)
}

// Lines that name a failed recipient in the bounce texts:
//
//	<user@example.com>:                 qmail, Yahoo
//	  user@example.com                  Exim, Outlook, Office 365
//	<user@example.com>: host mx said: … Postfix text
//	user@example.com: 550 5.1.1 …       OpenSMTPD
//	<user@example.com>... User unknown  Sendmail
//
// and phrases such as "wasn't delivered to user@example.com" (Gmail).
var (
	rcptLineRE   = regexp.MustCompile(`^\s*(<[^\s<>]+@[^\s<>]+>|[^\s<>:()]+@[^\s<>:()]+)\s*(?:(?::|\.\.\.)\s*(.*))?$`)
	rcptPhraseRE = re(`(?:wasn't delivered to|was not delivered to|couldn't be delivered to|could not be delivered to|` +
		`your message to|delivery to|failed to deliver to|unable to deliver to|rcpt to:|recipient:)\s*<?([^\s<>()'"]+@[^\s<>()'":,]+)`)
	smtpReplyRE = regexp.MustCompile(`\b[45]\d\d[ -]\S[^\n]*`)
)

// textReports reads a bounce written for people: the failed recipients
// and their reasons, from the human-readable text.
func textReports(h message.Header, p *parts, m Message) []Report {
	text := cutReturned(p.text)
	lower := strings.ToLower(text)
	delayed := failedSubjRE.MatchString(m.Subject) && !strings.Contains(lower, "permanent")
	for _, d := range delayPhrases {
		if strings.Contains(lower, d) {
			delayed = true
		}
	}
	skip := ownAddresses(m)
	found := findRecipients(text, skip)
	if xf := addrValues(h, "X-Failed-Recipients"); len(xf) > 0 {
		// Exim names them exactly; the text gives each its reason.
		named := make([]rcptDiag, 0, len(xf))
		for _, a := range xf {
			d := rcptDiag{addr: a}
			for _, f := range found {
				if strings.EqualFold(f.addr, a) || len(found) == 1 {
					d.diag = f.diag
				}
			}
			named = append(named, d)
		}
		found = named
	}
	if len(found) == 0 {
		r := rcptDiag{}
		if m.Original != nil {
			r.addr = firstAddress(m.Original.Get("To"))
		}
		found = []rcptDiag{r}
	}
	out := make([]Report, 0, len(found))
	for _, f := range found {
		diag := f.diag
		if findStatus(diag) == "" && !smtpReplyRE.MatchString(diag) {
			if d := smtpReplyRE.FindString(text); d != "" {
				diag = strings.TrimSpace(diag + " " + d)
			}
		}
		r := Report{Recipient: f.addr, Action: "failed", Diagnostic: oneLine(diag),
			MessageID: messageID(m.Original), Reporter: m.From}
		r.Status = findStatus(diag)
		if r.Status == "" {
			r.Status = findStatus(text)
		}
		switch {
		case delayed:
			r.Action, r.Kind = "delayed", None
		case r.Diagnostic != "":
			r.Kind = Classify(r.Status, r.Diagnostic)
		default:
			r.Kind = Classify(r.Status, text)
		}
		if r.Kind == None && !delayed {
			r.Kind = Soft
		}
		out = append(out, r)
	}
	return out
}

type rcptDiag struct{ addr, diag string }

// findRecipients finds the failed recipients a bounce text names, each
// with the rest of its line and the lines after it as its reason, up to a
// blank line or the next recipient.
func findRecipients(text string, skip map[string]bool) []rcptDiag {
	var out []rcptDiag
	lines := strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
	for i, l := range lines {
		if len(l) > 512 {
			continue
		}
		addr, rest := "", ""
		if mm := rcptLineRE.FindStringSubmatch(l); mm != nil {
			addr, rest = firstAddress(mm[1]), mm[2]
		} else if mm := rcptPhraseRE.FindStringSubmatch(l); mm != nil {
			addr, rest = firstAddress(mm[1]), l
		}
		if len(out) == maxReports {
			break
		}
		if addr == "" || skip[strings.ToLower(addr)] || isDaemon(addr) || hasAddr(out, addr) {
			continue
		}
		diag := strings.TrimSpace(rest)
		for j := i + 1; j < len(lines) && j < i+8; j++ {
			next := strings.TrimSpace(lines[j])
			if next == "" {
				if diag == "" {
					continue
				}
				break
			}
			if rcptLineRE.MatchString(lines[j]) {
				break // the next recipient
			}
			diag += " " + next
		}
		out = append(out, rcptDiag{addr: addr, diag: strings.TrimSpace(diag)})
	}
	return out
}

func hasAddr(list []rcptDiag, a string) bool {
	for _, x := range list {
		if strings.EqualFold(x.addr, a) {
			return true
		}
	}
	return false
}

// ownAddresses are the addresses a bounce text names that are not failed
// recipients: the bounce's own envelope and the returned message's
// sender.
func ownAddresses(m Message) map[string]bool {
	skip := map[string]bool{}
	for _, a := range append(append(m.Recipients(), m.ReturnPath), m.From) {
		skip[strings.ToLower(a)] = true
	}
	if m.Original != nil {
		for _, k := range []string{"From", "Return-Path", "Sender", "Reply-To"} {
			for _, a := range addresses(m.Original.Get(k)) {
				skip[strings.ToLower(a)] = true
			}
		}
	}
	return skip
}

// returnedMarkers start the copy of the returned message in a bounce text;
// only the text before them is read.
var returnedMarkers = []string{
	"--- below this line is a copy of the message", "------ this is a copy of the message",
	"----- original message -----", "below is a copy of the original message",
	"original message headers:", "------ original message", "----- unsent message below -----",
	"-----original message-----", "--- original message ---", "content-type: message/rfc822",
	"----- the header of the original message is following. -----",
	"----- original message follows -----", "----- unsent message follows -----",
	"----- message header follows -----",
}

func cutReturned(text string) string {
	lower := strings.ToLower(text)
	cut := len(text)
	for _, mk := range returnedMarkers {
		if i := strings.Index(lower, mk); i >= 0 && i < cut {
			cut = i
		}
	}
	return text[:cut]
}
