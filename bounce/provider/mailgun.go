package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldnews/herald/bounce"
)

// Mailgun verifies Mailgun's webhook signature (HMAC-SHA256 of timestamp
// and token with the webhook signing key), refuses stale timestamps and
// replayed tokens, and reads failed and complained events. Its methods
// are safe for concurrent use.
type Mailgun struct {
	key    []byte
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex
	seen   map[string]time.Time // token -> its timestamp
	order  []string             // tokens oldest first, at most maxTok
	maxTok int
}

// MailgunOptions tunes a Mailgun verifier; the zero value is the default.
type MailgunOptions struct {
	// Window is how far a signature's timestamp may be from now; 5
	// minutes when zero.
	Window time.Duration
	// MaxTokens bounds the replay cache; 100,000 tokens (about 10 MB) when
	// zero. Tokens older than the window leave it first; past the bound
	// the oldest go, and a request can only replay a token the cache has
	// forgotten within the window after MaxTokens newer valid requests.
	MaxTokens int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NewMailgun returns a Mailgun verifier for the webhook signing key.
func NewMailgun(signingKey string, opts MailgunOptions) *Mailgun {
	if opts.Window <= 0 {
		opts.Window = 5 * time.Minute
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = 100_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Mailgun{key: []byte(signingKey), window: opts.Window, now: opts.Now,
		seen: map[string]time.Time{}, maxTok: opts.MaxTokens}
}

type mailgunPayload struct {
	Signature struct {
		Timestamp string `json:"timestamp"`
		Token     string `json:"token"`
		Signature string `json:"signature"`
	} `json:"signature"`
	EventData *struct {
		ID             string  `json:"id"`
		Event          string  `json:"event"`    // failed, complained, delivered...
		Severity       string  `json:"severity"` // permanent, temporary
		Reason         string  `json:"reason"`   // bounce, suppress-bounce, generic, old...
		Recipient      string  `json:"recipient"`
		Timestamp      float64 `json:"timestamp"`
		DeliveryStatus struct {
			Code         json.Number `json:"code"`
			Message      string      `json:"message"`
			Description  string      `json:"description"`
			EnhancedCode string      `json:"enhanced-code"`
		} `json:"delivery-status"`
		Message struct {
			Headers struct {
				MessageID string `json:"message-id"`
			} `json:"headers"`
		} `json:"message"`
		UserVariables map[string]any `json:"user-variables"`
	} `json:"event-data"`
}

// Parse verifies the signature, timestamp and token of a Mailgun webhook
// and reads its event. A failed event with severity permanent is
// classified by its status code and text (suppress-bounce, an address
// Mailgun suppressed after an earlier hard bounce, is hard); temporary
// failures are None (Mailgun retries them and reports the final failure as
// permanent); complained is a complaint; other events give none.
func (m *Mailgun) Parse(r *http.Request) ([]Event, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, fmt.Errorf("mailgun: %w", err)
	}
	var pl mailgunPayload
	if err := json.Unmarshal(body, &pl); err != nil {
		return nil, fmt.Errorf("mailgun: %w: %w", ErrSignature, err) // no signature to check
	}
	if err := m.verify(pl.Signature.Timestamp, pl.Signature.Token, pl.Signature.Signature); err != nil {
		return nil, fmt.Errorf("mailgun: %w", err)
	}
	ed := pl.EventData
	if ed == nil {
		return nil, fmt.Errorf("mailgun: %w: no event-data", ErrPayload)
	}
	e := Event{Provider: "mailgun", EventID: ed.ID, Metadata: stringMap(ed.UserVariables),
		Report: bounce.Report{Recipient: strings.TrimSpace(ed.Recipient), Reporter: "mailgun",
			MessageID: bounce.NormalizeMessageID(ed.Message.Headers.MessageID)}}
	if ed.Timestamp > 0 {
		sec := int64(ed.Timestamp)
		e.At = time.Unix(sec, int64((ed.Timestamp-float64(sec))*1e9)).UTC()
	}
	ds := ed.DeliveryStatus
	e.Status = statusOf(ds.EnhancedCode)
	e.Diagnostic = oneLine(strings.TrimSpace(ds.Code.String() + " " + ds.Message + " " + ds.Description))
	switch ed.Event {
	case "failed":
		e.Action = "failed"
		switch {
		case ed.Severity != "permanent":
			e.Action, e.Kind = "delayed", bounce.None
		case ed.Reason == "suppress-bounce":
			e.Kind = bounce.Hard
		case ed.Reason == "suppress-complaint":
			e.Kind = bounce.Complaint
		case ed.Reason == "suppress-unsubscribe":
			e.Kind = bounce.None
		default:
			e.Kind = permanent(e.Status, e.Diagnostic)
		}
	case "complained":
		e.Kind, e.FeedbackType = bounce.Complaint, "abuse"
	default:
		return nil, nil
	}
	return []Event{e}, nil
}

// verify checks one signature and records its token.
func (m *Mailgun) verify(timestamp, token, signature string) error {
	if timestamp == "" || token == "" || signature == "" {
		return fmt.Errorf("%w: missing signature fields", ErrSignature)
	}
	mac := hmac.New(sha256.New, m.key)
	mac.Write([]byte(timestamp + token))
	want := mac.Sum(nil)
	got, err := hex.DecodeString(signature)
	if err != nil || !hmac.Equal(got, want) {
		return fmt.Errorf("%w: signature mismatch", ErrSignature)
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrSignature, timestamp)
	}
	ts, now := time.Unix(sec, 0), m.now()
	if ts.Before(now.Add(-m.window)) || ts.After(now.Add(m.window)) {
		return fmt.Errorf("%w: timestamp %s outside the %s window", ErrSignature, ts.UTC().Format(time.RFC3339), m.window)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now)
	if _, dup := m.seen[token]; dup {
		return fmt.Errorf("%w: token replayed", ErrSignature)
	}
	if len(m.order) >= m.maxTok {
		delete(m.seen, m.order[0])
		m.order = m.order[1:]
	}
	m.seen[token] = ts
	m.order = append(m.order, token)
	return nil
}

// expire forgets tokens whose timestamps left the window: a replay of one
// fails the timestamp check anyway. Tokens arrive roughly in time order,
// so it trims from the front.
func (m *Mailgun) expire(now time.Time) {
	n := 0
	for n < len(m.order) && m.seen[m.order[n]].Before(now.Add(-m.window)) {
		delete(m.seen, m.order[n])
		n++
	}
	if n > 0 {
		m.order = append(m.order[:0], m.order[n:]...)
	}
}
