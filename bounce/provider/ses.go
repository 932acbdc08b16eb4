package provider

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/heraldnews/herald/bounce"
)

// sesNotification is an SES notification (notificationType) or event
// publishing record (eventType) as SNS carries it in Message.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           *struct {
		BounceType        string `json:"bounceType"` // Permanent, Transient, Undetermined
		BounceSubType     string `json:"bounceSubType"`
		FeedbackID        string `json:"feedbackId"`
		Timestamp         string `json:"timestamp"`
		ReportingMTA      string `json:"reportingMTA"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		FeedbackID            string `json:"feedbackId"`
		Timestamp             string `json:"timestamp"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		ComplaintSubType      string `json:"complaintSubType"`
		UserAgent             string `json:"userAgent"`
		ComplainedRecipients  []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Mail struct {
		MessageID     string `json:"messageId"`
		Timestamp     string `json:"timestamp"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

// sesEvents reads the SES notification in an SNS Message. Types other
// than Bounce and Complaint (Delivery, Send, Open...) give no events.
func sesEvents(msg []byte) ([]Event, error) {
	var n sesNotification
	if err := json.Unmarshal(msg, &n); err != nil {
		return nil, fmt.Errorf("%w: ses message: %w", ErrPayload, err)
	}
	typ := n.NotificationType
	if typ == "" {
		typ = n.EventType
	}
	base := Event{Provider: "ses", ProviderMessageID: n.Mail.MessageID,
		Report: bounce.Report{MessageID: bounce.NormalizeMessageID(n.Mail.CommonHeaders.MessageID), Reporter: "ses"}}
	var out []Event
	switch {
	case typ == "Bounce" && n.Bounce != nil:
		b := n.Bounce
		for _, rc := range b.BouncedRecipients {
			e := base
			e.EventID = b.FeedbackID
			e.Recipient = strings.TrimSpace(rc.EmailAddress)
			e.Action = "failed"
			e.Status = statusOf(rc.Status)
			e.Diagnostic = oneLine(rc.DiagnosticCode)
			e.At = parseTime(b.Timestamp)
			if b.ReportingMTA != "" {
				e.Reporter = strings.TrimSpace(strings.TrimPrefix(b.ReportingMTA, "dns;"))
			}
			switch b.BounceType {
			case "Permanent":
				e.Kind = permanent(e.Status, e.Diagnostic)
				if b.BounceSubType == "Suppressed" || b.BounceSubType == "OnAccountSuppressionList" {
					e.Kind = bounce.Hard // SES refuses the address: it bounced hard before
				}
			default: // Transient, Undetermined
				e.Kind = capSoft(bounce.Classify(e.Status, e.Diagnostic))
				if e.Kind == bounce.None {
					e.Kind = bounce.Soft
				}
			}
			out = append(out, e)
		}
	case typ == "Complaint" && n.Complaint != nil:
		c := n.Complaint
		ft := strings.ToLower(c.ComplaintFeedbackType)
		kind := bounce.Complaint
		if k, ok := bounce.FeedbackKinds[ft]; ok && ft != "" {
			kind = k
		}
		for _, rc := range c.ComplainedRecipients {
			e := base
			e.EventID = c.FeedbackID
			e.Kind = kind
			e.Recipient = strings.TrimSpace(rc.EmailAddress)
			e.FeedbackType = ft
			e.At = parseTime(c.Timestamp)
			out = append(out, e)
		}
	}
	return out, nil
}

// oneLine collapses white space and cuts at 500 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "")
	}
	return s
}
