package bounce

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-message"
	// Registers the charsets beyond UTF-8 and ASCII (ISO-8859-*,
	// Windows-125x, Shift_JIS...) that bounce texts arrive in.
	_ "github.com/emersion/go-message/charset"
)

// Kind is what a report means for the address it names.
type Kind string

// Kinds, from the policy in the package documentation.
const (
	// None: not a failure (an auto-reply, a reader's reply, a delayed or
	// delivered notice). Nothing changes.
	None Kind = "none"
	// Hard: the mailbox or domain does not exist or has moved.
	Hard Kind = "hard"
	// Soft: any other failure of this one message (mailbox full, too
	// large, expired, blocked, spam or policy, system errors), even with a
	// 5xx code. Counted against the address.
	Soft Kind = "soft"
	// Complaint: the reader reported the message as spam or fraud.
	Complaint Kind = "complaint"
	// Sender: the report blames the sender or the relay (authentication,
	// relaying, the sender's address or domain, routing, protocol); it
	// never counts against the address.
	Sender Kind = "sender"
)

// rank orders kinds for Message.Kind: the strongest verdict wins.
func (k Kind) rank() int {
	switch k {
	case Complaint:
		return 4
	case Hard:
		return 3
	case Soft:
		return 2
	case Sender:
		return 1
	}
	return 0
}

// Report is what a message says about one recipient.
type Report struct {
	Kind Kind
	// Recipient is the address that failed or complained: the DSN's
	// Final-Recipient, the address a bounce text names, the ARF's
	// Original-Rcpt-To, or the To of the returned message when nothing
	// else names one. Empty when the message names no address (the VERP
	// token in Message.Recipients may still identify the delivery).
	Recipient string
	// OriginalRecipient is the DSN's Original-Recipient, when it differs
	// from Recipient (an alias or forward was expanded).
	OriginalRecipient string
	// Action is the DSN's Action lower-cased (failed, delayed, delivered,
	// relayed, expanded), "failed" for a bounce text, "" for a complaint.
	Action string
	// Status is the RFC 3463 enhanced status code, such as "5.1.1", from
	// the DSN's Status field or the text; "" when none was given.
	Status string
	// Diagnostic is the remote server's reply or the reason in the text,
	// one line of at most 500 bytes.
	Diagnostic string
	// RemoteMTA is the server that refused the message, when reported.
	RemoteMTA string
	// MessageID is the returned message's Message-ID in angle brackets,
	// or "" when the report did not return it.
	MessageID string
	// Reporter names who reported: the DSN's Reporting-MTA, the ARF's
	// Reporting-MTA or User-Agent, else the bounce's From address.
	Reporter string
	// FeedbackType is the ARF Feedback-Type lower-cased (abuse, fraud,
	// not-spam...), "" for a bounce.
	FeedbackType string
	// At is when the failure or complaint happened, when the report says
	// (Last-Attempt-Date, Arrival-Date); zero otherwise.
	At time.Time
}

// Message is what one inbound message reports, with the headers that say
// where it was delivered, so the caller can find a VERP token.
type Message struct {
	// Reports lists one entry per recipient the message reports on. It is
	// empty for a message that is not a bounce or complaint at all.
	Reports []Report
	// Reason says why a message changes nothing, when Kind is None:
	// "auto-reply", "challenge-response", "reply", "delayed",
	// "delivered", "not-spam", "unrecognised".
	Reason string
	// The message's own envelope hints, in header order, addresses only.
	DeliveredTo []string // Delivered-To
	OriginalTo  []string // X-Original-To
	EnvelopeTo  []string // Envelope-To, X-Envelope-To
	To          []string // To
	ReturnPath  string   // Return-Path, without angle brackets ("" for <>)
	From        string   // From address
	Subject     string
	// Original holds the returned message's headers that matter for
	// matching: Message-ID, From, To, Subject, Date, Return-Path and every
	// X-* and List-* header. Nil when the report returned no headers.
	Original textproto.MIMEHeader
}

// Kind is the strongest kind among the reports (complaint, hard, soft,
// sender, none), None when there are none.
func (m Message) Kind() Kind {
	k := None
	for _, r := range m.Reports {
		if r.Kind.rank() > k.rank() {
			k = r.Kind
		}
	}
	return k
}

// Recipients returns the envelope hints without duplicates, most reliable
// first: Delivered-To, X-Original-To, Envelope-To, then To. A VERP address
// is among them when the MTA recorded the envelope recipient.
func (m Message) Recipients() []string {
	var out []string
	seen := map[string]bool{}
	for _, list := range [][]string{m.DeliveredTo, m.OriginalTo, m.EnvelopeTo, m.To} {
		for _, a := range list {
			if k := strings.ToLower(a); !seen[k] {
				seen[k] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// MaxRead is how much of a message Parse reads; the rest is discarded
// unread. Every part a report needs comes before the returned message's
// body, so a cut there loses nothing.
const MaxRead = 4 << 20

// ErrNotMessage reports input that is not an RFC 5322 message: no header
// could be read.
var ErrNotMessage = errors.New("not a mail message")

// Parse reads one message (raw RFC 5322 bytes) and returns what it
// reports. It reads at most MaxRead bytes and drains the rest. Its error
// wraps ErrNotMessage when the input has no readable header, or the
// reader's error; a message it cannot make sense of is no error but a
// Message with no reports and Reason "unrecognised".
func Parse(r io.Reader) (Message, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxRead))
	if err != nil {
		return Message{}, fmt.Errorf("bounce: read message: %w", err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return Message{}, fmt.Errorf("bounce: read message: %w", err)
	}
	return parse(raw)
}

func parse(raw []byte) (Message, error) {
	if bytes.HasPrefix(raw, []byte("From ")) {
		// An mbox separator line, as some pipe transports and mail
		// stores leave it.
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return Message{}, fmt.Errorf("bounce: %w: %w", ErrNotMessage, err)
	}
	if e.Header.Len() == 0 {
		return Message{}, fmt.Errorf("bounce: %w: empty header", ErrNotMessage)
	}
	m := envelope(e.Header)
	var p parts
	p.walk(e, 0)
	if p.original == nil {
		p.original = inlineOriginal(p.text)
	}
	m.Original = p.original
	if strings.TrimSpace(p.text) == "" && p.html != "" {
		p.text = htmlText(p.html)
	}
	switch {
	case len(p.dsn) > 0:
		m.Reports = dsnReports(p.dsn, m)
		if len(m.Reports) == 0 {
			m.Reports = textReports(e.Header, &p, m)
		}
	case p.feedback != nil:
		m.Reports = arfReports(p.feedback, m)
	case p.jmrp != "":
		m.Reports = []Report{{Kind: Complaint, Recipient: p.jmrp, FeedbackType: "abuse",
			MessageID: messageID(m.Original), Reporter: m.From}}
	default:
		if isBounceText(e.Header, p.text) {
			m.Reports = textReports(e.Header, &p, m)
			break
		}
		m.Reason = notBounceReason(e.Header, p.text)
		return m, nil
	}
	if m.Kind() == None {
		m.Reason = noneReason(m.Reports)
	}
	return m, nil
}

// noneReason names why reports that are all None change nothing.
func noneReason(rs []Report) string {
	for _, r := range rs {
		switch {
		case r.FeedbackType == "not-spam":
			return "not-spam"
		case r.Action == "delayed":
			return "delayed"
		}
	}
	if len(rs) == 0 {
		return "unrecognised"
	}
	return "delivered"
}

// envelope reads the message's own headers.
func envelope(h message.Header) Message {
	var m Message
	m.DeliveredTo = addrValues(h, "Delivered-To")
	m.OriginalTo = addrValues(h, "X-Original-To")
	m.EnvelopeTo = append(addrValues(h, "Envelope-To"), addrValues(h, "X-Envelope-To")...)
	m.To = addrValues(h, "To")
	if rp := addrValues(h, "Return-Path"); len(rp) > 0 {
		m.ReturnPath = rp[0]
	}
	if f := addrValues(h, "From"); len(f) > 0 {
		m.From = f[0]
	}
	m.Subject = headerText(h, "Subject")
	return m
}

// headerText decodes an RFC 2047 header value, falling back to the raw
// value, as one line.
func headerText(h message.Header, key string) string {
	s, err := h.Text(key)
	if err != nil {
		s = h.Get(key)
	}
	return oneLine(s)
}

// addrValues returns every address in every value of a header.
func addrValues(h message.Header, key string) []string {
	var out []string
	for _, v := range h.Values(key) {
		out = append(out, addresses(v)...)
	}
	return out
}

// messageID returns the Message-ID of the returned headers, normalised.
func messageID(h textproto.MIMEHeader) string {
	if h == nil {
		return ""
	}
	return NormalizeMessageID(h.Get("Message-Id"))
}

// NormalizeMessageID returns a Message-ID as "<local@domain>": trimmed,
// with exactly one pair of angle brackets, or "" when s holds none.
// herald stores its Message-IDs in this form.
func NormalizeMessageID(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	} else if f := strings.Fields(s); len(f) > 0 {
		s = f[0]
	}
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, " \t\r\n<>") {
		return ""
	}
	return "<" + s + ">"
}

// oneLine collapses white space and cuts at 500 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "")
	}
	return s
}
