package provider

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldnews/herald/bounce"
)

// Event is one bounce or complaint a provider reported.
type Event struct {
	bounce.Report
	// Provider is "ses", "postmark", "mailgun" or "sendgrid".
	Provider string
	// EventID is the provider's id for this event (SES feedbackId,
	// Postmark ID, Mailgun event id, SendGrid sg_event_id): the same event
	// delivered twice has the same EventID.
	EventID string
	// ProviderMessageID is the provider's own id of the sent message (SES
	// mail.messageId, Postmark MessageID, SendGrid sg_message_id). It is
	// not the Message-ID header, which is Report.MessageID.
	ProviderMessageID string
	// Metadata holds the values the sender attached to the message and the
	// provider echoes back (Postmark Metadata, Mailgun user-variables,
	// SendGrid custom arguments), when they are strings.
	Metadata map[string]string
}

// Errors the HTTP layer maps to statuses.
var (
	// ErrSignature: the signature or credentials are wrong, missing,
	// stale or replayed (401).
	ErrSignature = errors.New("bad or missing webhook signature")
	// ErrPayload: the request is signed but cannot be read (400).
	ErrPayload = errors.New("unreadable webhook payload")
)

// MaxBody is the largest request body read.
const MaxBody = 4 << 20

// readBody reads a request body of at most MaxBody bytes.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, fmt.Errorf("%w: no body", ErrPayload)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > MaxBody {
		return nil, fmt.Errorf("%w: body over %d bytes", ErrPayload, MaxBody)
	}
	return b, nil
}

// capSoft keeps a temporary failure from counting as a hard bounce: the
// provider will retry, or gave up without the address being bad.
func capSoft(k bounce.Kind) bounce.Kind {
	if k == bounce.Hard {
		return bounce.Soft
	}
	return k
}

// permanent classifies a failure the provider calls permanent: by its
// status code and text when it gives them (so a spam block is soft), hard
// when it gives neither.
func permanent(status, text string) bounce.Kind {
	if status == "" && strings.TrimSpace(text) == "" {
		return bounce.Hard
	}
	k := bounce.Classify(status, text)
	if k == bounce.None {
		return bounce.Soft
	}
	return k
}

// stringMap keeps the string values of a decoded JSON object.
func stringMap(m map[string]any) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	return out
}

// parseTime reads an RFC 3339 time, zero when absent or malformed.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// statusOf returns a status code at the start of s ("5.1.1" of
// "5.1.1 (user unknown)"), or "".
func statusOf(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	p := strings.Split(f[0], ".")
	if len(p) != 3 || (p[0] != "2" && p[0] != "4" && p[0] != "5") {
		return ""
	}
	for _, n := range p[1:] {
		if _, err := strconv.Atoi(n); err != nil || len(n) > 3 || n[0] == '+' || n[0] == '-' {
			return ""
		}
	}
	return f[0]
}

// findStatusIn returns the first enhanced status code in a reply text
// ("550 5.1.1 <a@b>: user unknown"), or "".
func findStatusIn(text string) string {
	for _, f := range strings.Fields(text) {
		if s := statusOf(strings.Trim(f, "(),;:#")); s != "" {
			return s
		}
	}
	return ""
}
