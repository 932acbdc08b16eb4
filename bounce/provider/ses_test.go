package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/bounce"
)

// sesBounce is an SES bounce notification in the shape the SES developer
// guide documents.
const sesBounce = `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",
"bouncedRecipients":[{"emailAddress":"alice@example.org","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],
"timestamp":"2026-03-03T07:00:05.123Z","feedbackId":"0100018e-feedback-000001","reportingMTA":"dns; a8-30.smtp-out.amazonses.com"},
"mail":{"timestamp":"2026-03-03T07:00:01.000Z","source":"news@news.example.com","sourceArn":"arn:aws:ses:us-east-1:123456789012:identity/news.example.com",
"messageId":"0100018e0a1b2c3d-ses-own-id-000000","destination":["alice@example.org"],"headersTruncated":false,
"commonHeaders":{"from":["The Daily Example <news@news.example.com>"],"to":["alice@example.org"],"messageId":"<42.1f2e3d4c5b6a7988@news.example.com>","subject":"The Daily Example"}}}`

func notification(message string) map[string]any {
	return map[string]any{"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		"TopicArn": testTopic, "Message": message, "Timestamp": "2026-03-03T07:00:06.000Z"}
}

func TestSNSNotification(t *testing.T) {
	f := newSNSFake(t)
	s := NewSNS([]string{testTopic}, f.client)
	for _, v := range []string{"1", "2"} {
		m := notification(sesBounce)
		if v == "1" {
			m["Subject"] = "Amazon SES Email Event Notification"
		}
		res, err := s.Parse(context.Background(), post(f.sign(t, m, v)))
		if err != nil {
			t.Fatalf("SignatureVersion %s: %v", v, err)
		}
		if res.Type != "Notification" || len(res.Events) != 1 {
			t.Fatalf("result %+v", res)
		}
		e := res.Events[0]
		if e.Kind != bounce.Hard || e.Recipient != "alice@example.org" || e.Status != "5.1.1" ||
			e.MessageID != "<42.1f2e3d4c5b6a7988@news.example.com>" || e.ProviderMessageID != "0100018e0a1b2c3d-ses-own-id-000000" ||
			e.EventID != "0100018e-feedback-000001" || !e.At.Equal(time.Date(2026, 3, 3, 7, 0, 5, 123e6, time.UTC)) {
			t.Errorf("event %+v", e)
		}
	}
	if n := f.hitCount("sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"); n != 1 {
		t.Errorf("certificate fetched %d times, want 1 (cached)", n)
	}
}

func TestSESKinds(t *testing.T) {
	f := newSNSFake(t)
	s := NewSNS([]string{testTopic}, f.client)
	for _, c := range []struct {
		name, from, to string
		want           bounce.Kind
	}{
		{"transient mailbox full", `"bounceType":"Permanent","bounceSubType":"General"`, `"bounceType":"Transient","bounceSubType":"MailboxFull"`, bounce.Soft},
		{"transient never hard", `"bounceType":"Permanent"`, `"bounceType":"Transient"`, bounce.Soft},
		{"undetermined", `"bounceType":"Permanent"`, `"bounceType":"Undetermined"`, bounce.Soft},
		{"permanent spam block", `"status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"`, `"status":"5.7.1","diagnosticCode":"smtp; 550 5.7.1 blocked as spam"`, bounce.Soft},
		{"permanent no detail", `"status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"`, `"status":"","diagnosticCode":""`, bounce.Hard},
		{"suppressed", `"bounceSubType":"General"`, `"bounceSubType":"Suppressed"`, bounce.Hard},
	} {
		msg := strings.Replace(sesBounce, c.from, c.to, 1)
		if msg == sesBounce {
			t.Fatalf("%s: replacement did not apply", c.name)
		}
		res, err := s.Parse(context.Background(), post(f.sign(t, notification(msg), "2")))
		if err != nil || len(res.Events) != 1 || res.Events[0].Kind != c.want {
			t.Errorf("%s: %+v %v, want %s", c.name, res, err, c.want)
		}
	}
	complaint := `{"notificationType":"Complaint","complaint":{"userAgent":"ExampleCorp Feedback Loop (V0.01)",
"complainedRecipients":[{"emailAddress":"bob@example.org"}],"complaintFeedbackType":"abuse","arrivalDate":"2026-03-04T18:00:00.000Z",
"timestamp":"2026-03-04T18:01:00.000Z","feedbackId":"0100018e-feedback-000002"},
"mail":{"messageId":"0100018e-ses-2","commonHeaders":{"messageId":"<43.aa@news.example.com>"}}}`
	res, err := s.Parse(context.Background(), post(f.sign(t, notification(complaint), "2")))
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("complaint: %+v %v", res, err)
	}
	if e := res.Events[0]; e.Kind != bounce.Complaint || e.Recipient != "bob@example.org" || e.MessageID != "<43.aa@news.example.com>" || e.FeedbackType != "abuse" {
		t.Errorf("complaint event %+v", e)
	}
	delivery := `{"notificationType":"Delivery","mail":{"messageId":"x"},"delivery":{"recipients":["c@example.org"]}}`
	if res, err := s.Parse(context.Background(), post(f.sign(t, notification(delivery), "2"))); err != nil || len(res.Events) != 0 {
		t.Errorf("delivery: %+v %v", res, err)
	}
}

func TestSNSRefuses(t *testing.T) {
	f := newSNSFake(t)
	s := NewSNS([]string{testTopic}, f.client)
	good := f.sign(t, notification(sesBounce), "2")
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"tampered message", []byte(strings.Replace(string(good), "alice@example.org", "mallory@example.org", 1))},
		{"other topic", f.sign(t, map[string]any{"Type": "Notification", "MessageId": "1", "TopicArn": "arn:aws:sns:us-east-1:999999999999:evil",
			"Message": sesBounce, "Timestamp": "2026-03-03T07:00:06.000Z"}, "2")},
		{"cert on another host", f.sign(t, withCert(notification(sesBounce), "https://evil.example.com/SimpleNotificationService-0.pem"), "2")},
		{"cert over http", f.sign(t, withCert(notification(sesBounce), "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"), "2")},
		{"cert host suffix trick", f.sign(t, withCert(notification(sesBounce), "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-0.pem"), "2")},
		{"cert not .pem", f.sign(t, withCert(notification(sesBounce), "https://sns.us-east-1.amazonaws.com/other"), "2")},
		{"unknown signature version", []byte(strings.Replace(string(good), `"SignatureVersion":"2"`, `"SignatureVersion":"3"`, 1))},
		{"no signature", []byte(strings.Replace(string(good), `"Signature":"`, `"Nothing":"`, 1))},
		{"not json", []byte("Type=Notification")},
	} {
		if _, err := s.Parse(context.Background(), post(c.body)); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: error %v, want ErrSignature", c.name, err)
		}
	}
	for _, host := range []string{"evil.example.com", "sns.us-east-1.amazonaws.com.evil.example"} {
		for _, k := range f.fetched() {
			if strings.HasPrefix(k, host) {
				t.Errorf("fetched %s", k)
			}
		}
	}
}

func withCert(m map[string]any, u string) map[string]any { m["SigningCertURL"] = u; return m }

func TestSNSSubscription(t *testing.T) {
	f := newSNSFake(t)
	s := NewSNS([]string{testTopic}, f.client)
	sub := "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + testTopic + "&Token=2336412f37"
	m := map[string]any{"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
		"Token": "2336412f37", "TopicArn": testTopic, "Message": "You have chosen to subscribe to the topic " + testTopic,
		"SubscribeURL": sub, "Timestamp": "2026-03-01T00:00:00.000Z"}
	res, err := s.Parse(context.Background(), post(f.sign(t, m, "2")))
	if err != nil || res.Type != "SubscriptionConfirmation" || res.SubscribeURL != sub {
		t.Fatalf("%+v %v", res, err)
	}
	if err := s.Confirm(context.Background(), res.SubscribeURL); err != nil {
		t.Fatal(err)
	}
	if n := f.hitCount("sns.us-east-1.amazonaws.com/"); n != 1 {
		t.Errorf("confirmation GETs %d, want 1", n)
	}
	if err := s.Confirm(context.Background(), "https://evil.example/?Action=ConfirmSubscription"); err == nil {
		t.Error("Confirm outside SNS succeeded")
	}
	// A confirmation whose SubscribeURL leaves SNS is refused even when signed.
	m["SubscribeURL"] = "https://evil.example/confirm"
	if _, err := s.Parse(context.Background(), post(f.sign(t, m, "2"))); !errors.Is(err, ErrPayload) {
		t.Errorf("foreign SubscribeURL: %v", err)
	}
}
