package provider

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldnews/herald/bounce"
)

// Postmark checks the basic-auth credentials Postmark sends (put in the
// webhook URL as https://user:password@host/...) and reads its Bounce and
// SpamComplaint webhooks.
type Postmark struct {
	user, password [sha256.Size]byte
	set            bool
}

// NewPostmark returns a Postmark verifier for these credentials. With an
// empty user or password every request is refused.
func NewPostmark(user, password string) *Postmark {
	return &Postmark{user: sha256.Sum256([]byte(user)), password: sha256.Sum256([]byte(password)),
		set: user != "" && password != ""}
}

// postmarkKinds maps Postmark's bounce Type to a kind. Types not listed
// (Unsubscribe, Subscribe, AutoResponder, AddressChange, OpenRelayTest,
// ChallengeVerification, ManuallyDeactivated, InboundError) are None.
var postmarkKinds = map[string]bounce.Kind{
	"HardBounce":              bounce.Hard,
	"BadEmailAddress":         bounce.Hard,
	"Transient":               bounce.Soft,
	"SoftBounce":              bounce.Soft,
	"DnsError":                bounce.Soft,
	"SpamNotification":        bounce.Soft,
	"Blocked":                 bounce.Soft,
	"Unknown":                 bounce.Soft,
	"VirusNotification":       bounce.Sender,
	"SMTPApiError":            bounce.Sender,
	"DMARCPolicy":             bounce.Sender,
	"TemplateRenderingFailed": bounce.Sender,
	"SpamComplaint":           bounce.Complaint,
}

type postmarkPayload struct {
	RecordType  string         `json:"RecordType"` // Bounce, SpamComplaint
	ID          json.Number    `json:"ID"`
	Type        string         `json:"Type"`
	TypeCode    int            `json:"TypeCode"`
	MessageID   string         `json:"MessageID"`
	Description string         `json:"Description"`
	Details     string         `json:"Details"`
	Email       string         `json:"Email"`
	BouncedAt   string         `json:"BouncedAt"`
	Metadata    map[string]any `json:"Metadata"`
}

// Parse checks the request's credentials in constant time and reads one
// Bounce or SpamComplaint record. Other record types (Delivery, Open,
// Click, SubscriptionChange) give no events.
func (p *Postmark) Parse(r *http.Request) ([]Event, error) {
	user, pass, ok := r.BasicAuth()
	u, pw := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	good := subtle.ConstantTimeCompare(u[:], p.user[:]) & subtle.ConstantTimeCompare(pw[:], p.password[:])
	if !ok || !p.set || good != 1 {
		return nil, fmt.Errorf("postmark: %w", ErrSignature)
	}
	body, err := readBody(r)
	if err != nil {
		return nil, fmt.Errorf("postmark: %w", err)
	}
	var pl postmarkPayload
	if err := json.Unmarshal(body, &pl); err != nil {
		return nil, fmt.Errorf("postmark: %w: %w", ErrPayload, err)
	}
	if pl.RecordType != "Bounce" && pl.RecordType != "SpamComplaint" {
		return nil, nil
	}
	kind, ok := postmarkKinds[pl.Type]
	if !ok {
		kind = bounce.None
	}
	diag := oneLine(pl.Details)
	if diag == "" {
		diag = oneLine(pl.Description)
	}
	e := Event{Provider: "postmark", EventID: pl.ID.String(), ProviderMessageID: pl.MessageID,
		Metadata: stringMap(pl.Metadata),
		Report: bounce.Report{Kind: kind, Recipient: strings.TrimSpace(pl.Email), Diagnostic: diag,
			Reporter: "postmark", At: parseTime(pl.BouncedAt)}}
	e.Status = findStatusIn(pl.Details)
	if kind == bounce.Hard && e.Status != "" {
		// Postmark's HardBounce covers spam blocks too; the code decides.
		e.Kind = permanent(e.Status, diag)
	}
	if kind == bounce.Complaint {
		e.FeedbackType = "abuse"
	} else if kind != bounce.None {
		e.Action = "failed"
	}
	if e.EventID == "" {
		e.EventID = strconv.Itoa(pl.TypeCode) + "/" + pl.MessageID
	}
	return []Event{e}, nil
}
