package provider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/heraldnews/herald/bounce"
)

// SendGrid verifies SendGrid's signed Event Webhook (ECDSA P-256 over the
// timestamp header followed by the raw body) and reads its bounce,
// dropped, deferred and spamreport events.
type SendGrid struct {
	key *ecdsa.PublicKey
}

// Header names of the signed Event Webhook.
const (
	SendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	SendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// NewSendGrid returns a verifier for the verification key SendGrid shows
// for a signed Event Webhook: base64 of a DER (PKIX) P-256 public key, with
// or without PEM armour.
func NewSendGrid(publicKey string) (*SendGrid, error) {
	s := strings.TrimSpace(publicKey)
	s = strings.TrimPrefix(s, "-----BEGIN PUBLIC KEY-----")
	s = strings.TrimSuffix(s, "-----END PUBLIC KEY-----")
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, fmt.Errorf("sendgrid: public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sendgrid: public key: %w", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, errors.New("sendgrid: public key is not ECDSA P-256")
	}
	return &SendGrid{key: ek}, nil
}

// Parse verifies the signature and reads the batch of events. Events other
// than bounce, dropped, deferred and spamreport are left out.
func (s *SendGrid) Parse(r *http.Request) ([]Event, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, fmt.Errorf("sendgrid: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get(SendGridSignatureHeader))
	ts := r.Header.Get(SendGridTimestampHeader)
	if err != nil || len(sig) == 0 || ts == "" {
		return nil, fmt.Errorf("sendgrid: %w: missing signature or timestamp header", ErrSignature)
	}
	h := sha256.New()
	h.Write([]byte(ts))
	h.Write(body)
	if !ecdsa.VerifyASN1(s.key, h.Sum(nil), sig) {
		return nil, fmt.Errorf("sendgrid: %w: signature mismatch", ErrSignature)
	}
	var raw []map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("sendgrid: %w: %w", ErrPayload, err)
	}
	var out []Event
	for _, m := range raw {
		if e, ok := sendgridOne(m); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// sendgridFields are the keys SendGrid sets itself; any other string key
// of an event is a custom argument.
var sendgridFields = map[string]bool{"email": true, "timestamp": true, "smtp-id": true, "event": true,
	"type": true, "reason": true, "response": true, "status": true, "sg_event_id": true,
	"sg_message_id": true, "bounce_classification": true, "category": true, "ip": true, "tls": true,
	"cert_err": true, "attempt": true, "useragent": true, "url": true, "asm_group_id": true,
	"marketing_campaign_id": true, "marketing_campaign_name": true, "pool": true, "sg_machine_open": true}

// sendgridOne reads one event of a batch.
func sendgridOne(m map[string]any) (Event, bool) {
	str := func(k string) string { v, _ := m[k].(string); return strings.TrimSpace(v) }
	e := Event{Provider: "sendgrid", EventID: str("sg_event_id"), ProviderMessageID: str("sg_message_id"),
		Report: bounce.Report{Recipient: str("email"), Reporter: "sendgrid",
			MessageID: bounce.NormalizeMessageID(str("smtp-id"))}}
	if t, ok := m["timestamp"].(float64); ok && t > 0 {
		e.At = time.Unix(int64(t), 0).UTC()
	}
	custom := map[string]any{}
	for k, v := range m {
		if !sendgridFields[k] {
			custom[k] = v
		}
	}
	e.Metadata = stringMap(custom)
	reason := str("reason")
	if reason == "" {
		reason = str("response")
	}
	e.Diagnostic = oneLine(reason)
	e.Status = statusOf(str("status"))
	if e.Status == "" {
		e.Status = findStatusIn(reason)
	}
	switch str("event") {
	case "bounce":
		e.Action = "failed"
		if str("type") == "blocked" {
			e.Kind = capSoft(permanent(e.Status, reason)) // a block is about the message or the sender
		} else {
			e.Kind = permanent(e.Status, reason)
		}
	case "dropped":
		e.Action = "failed"
		switch strings.ToLower(reason) {
		case "bounced address", "invalid", "invalid address":
			e.Kind = bounce.Hard
		case "spam reporting address":
			e.Kind, e.FeedbackType = bounce.Complaint, "abuse"
		case "unsubscribed address":
			e.Kind = bounce.None
		default:
			e.Kind = bounce.Sender // SendGrid refused to send it: the message or the account
		}
	case "deferred":
		e.Action, e.Kind = "delayed", bounce.None
	case "spamreport":
		e.Kind, e.FeedbackType = bounce.Complaint, "abuse"
	default:
		return Event{}, false
	}
	return e, true
}
