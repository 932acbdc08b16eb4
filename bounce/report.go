package bounce

import (
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// dsnReports turns the fields of RFC 3464 delivery-status parts into
// reports: one per block that names a recipient or an action. The
// per-message block (Reporting-MTA, Arrival-Date) applies to the blocks
// after it.
func dsnReports(blocks []textproto.MIMEHeader, m Message) []Report {
	var out []Report
	reporter := m.From
	var arrival time.Time
	for _, b := range blocks {
		if len(out) == maxReports {
			break
		}
		if v := b.Get("Reporting-Mta"); v != "" {
			reporter = typedValue(v)
		}
		if t, ok := parseDate(b.Get("Arrival-Date")); ok {
			arrival = t
		}
		final, orig := typedAddress(b.Get("Final-Recipient")), typedAddress(b.Get("Original-Recipient"))
		if final == "" {
			final = typedAddress(b.Get("X-Actual-Recipient"))
		}
		action := strings.ToLower(strings.TrimSpace(b.Get("Action")))
		if final == "" && orig == "" && action == "" {
			continue // the per-message block
		}
		if final == "" {
			final = orig
		}
		if strings.EqualFold(orig, final) {
			orig = ""
		}
		if i := strings.IndexAny(action, " (;"); i >= 0 {
			action = action[:i]
		}
		r := Report{Recipient: final, OriginalRecipient: orig, Action: action,
			Diagnostic: oneLine(typedValue(b.Get("Diagnostic-Code"))),
			RemoteMTA:  typedValue(b.Get("Remote-Mta")), MessageID: messageID(m.Original),
			Reporter: reporter, At: arrival}
		if t, ok := parseDate(b.Get("Last-Attempt-Date")); ok {
			r.At = t
		}
		r.Status = enhancedStatus(b.Get("Status"))
		if r.Status == "" || strings.HasSuffix(r.Status, ".0.0") {
			// A vague Status: the reply in Diagnostic-Code may say more.
			if s := findStatus(r.Diagnostic); s != "" {
				r.Status = s
			}
		}
		switch action {
		case "failed", "":
			if action == "" && strings.HasPrefix(r.Status, "2.") {
				r.Kind = None
				break
			}
			r.Action = "failed"
			r.Kind = Classify(r.Status, r.Diagnostic)
			if r.Kind == None {
				r.Kind = Soft // a failure whose code claims success
			}
		default: // delayed, delivered, relayed, expanded: not a bounce
			r.Kind = None
		}
		if r.Recipient == "" && len(m.Original["To"]) > 0 {
			r.Recipient = firstAddress(m.Original.Get("To"))
		}
		out = append(out, r)
	}
	return out
}

// arfReports turns an RFC 5965 feedback report into reports: one per
// Original-Rcpt-To, or one naming the returned message's To.
func arfReports(f textproto.MIMEHeader, m Message) []Report {
	ft := strings.ToLower(strings.TrimSpace(f.Get("Feedback-Type")))
	kind, ok := FeedbackKinds[ft]
	if !ok {
		kind = None
	}
	reporter := typedValue(f.Get("Reporting-Mta"))
	if reporter == "" {
		reporter = strings.TrimSpace(f.Get("User-Agent"))
	}
	if reporter == "" {
		reporter = m.From
	}
	at, _ := parseDate(f.Get("Arrival-Date"))
	if at.IsZero() {
		at, _ = parseDate(f.Get("Received-Date"))
	}
	var rcpts []string
	for _, v := range f.Values("Original-Rcpt-To") {
		rcpts = append(rcpts, addresses(v)...)
	}
	if len(rcpts) == 0 && m.Original != nil {
		if a := addresses(m.Original.Get("X-Hmxmroriginalrecipient")); len(a) > 0 {
			rcpts = a[:1]
		} else if a := firstAddress(m.Original.Get("To")); a != "" {
			rcpts = []string{a}
		}
	}
	if len(rcpts) == 0 {
		rcpts = []string{""}
	}
	if len(rcpts) > maxReports {
		rcpts = rcpts[:maxReports]
	}
	out := make([]Report, 0, len(rcpts))
	for _, rc := range rcpts {
		out = append(out, Report{Kind: kind, Recipient: rc, FeedbackType: ft,
			MessageID: messageID(m.Original), Reporter: reporter, At: at})
	}
	return out
}

// typedValue strips the type of a DSN field ("dns; mx.example.com",
// "smtp; 550 ...") and returns the rest, trimmed.
func typedValue(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 && i < 16 && !strings.ContainsAny(v[:i], " <@") {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// typedAddress returns the address of a Final-Recipient or
// Original-Recipient field ("rfc822; user@example.com").
func typedAddress(v string) string {
	v = typedValue(v)
	if v == "" {
		return ""
	}
	if a := addresses(v); len(a) > 0 {
		return a[0]
	}
	return ""
}

// firstAddress returns the first address in a header value.
func firstAddress(v string) string {
	if a := addresses(v); len(a) > 0 {
		return a[0]
	}
	return ""
}

// parseDate reads an RFC 5322 date, tolerating a trailing comment.
func parseDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	t, err := mail.ParseDate(v)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
