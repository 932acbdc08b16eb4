package provider

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldnews/herald/bounce"
	"github.com/heraldnews/herald/internal/testkit"
)

// checkEvents holds every fuzz target's output to the same rules.
func checkEvents(t *testing.T, evs []Event) {
	t.Helper()
	for _, e := range evs {
		switch e.Kind {
		case bounce.None, bounce.Hard, bounce.Soft, bounce.Sender, bounce.Complaint:
		default:
			t.Fatalf("kind %q", e.Kind)
		}
		if len(e.Diagnostic) > 500 {
			t.Fatalf("diagnostic of %d bytes", len(e.Diagnostic))
		}
	}
}

// FuzzSESMessage reads arbitrary SES notifications (the part SNS signs).
func FuzzSESMessage(f *testing.F) {
	f.Add([]byte(sesBounce))
	f.Add([]byte(`{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"a@b.example"}]}}`))
	f.Add([]byte(`{"eventType":"Bounce","bounce":{"bounceType":"Transient","bouncedRecipients":[{}]}}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		evs, err := sesEvents(msg)
		if err == nil {
			checkEvents(t, evs)
		}
	})
}

// FuzzSNSEnvelope feeds arbitrary bodies to SNS.Parse: nothing unsigned
// may pass, and nothing may be fetched from outside SNS.
func FuzzSNSEnvelope(f *testing.F) {
	f.Add([]byte(`{"Type":"Notification","TopicArn":"` + testTopic + `","SignatureVersion":"2","Signature":"AAAA","SigningCertURL":"https://sns.us-east-1.amazonaws.com/x.pem"}`))
	f.Add([]byte(`{"Type":"SubscriptionConfirmation"}`))
	s := NewSNS([]string{testTopic}, nil)
	s.client.Transport = refuseTransport{}
	f.Fuzz(func(t *testing.T, body []byte) {
		if res, err := s.Parse(context.Background(), post(body)); err == nil {
			t.Fatalf("unsigned body accepted: %+v", res)
		}
	})
}

// FuzzPostmarkBody reads arbitrary Postmark bodies with good credentials.
func FuzzPostmarkBody(f *testing.F) {
	f.Add([]byte(postmarkBounce))
	f.Add([]byte(`{"RecordType":"SpamComplaint","Type":"SpamComplaint","Email":"a@b.example"}`))
	p := NewPostmark("u", "p")
	f.Fuzz(func(t *testing.T, body []byte) {
		r := post(body)
		r.SetBasicAuth("u", "p")
		if evs, err := p.Parse(r); err == nil {
			checkEvents(t, evs)
		}
	})
}

// FuzzMailgunEvent reads arbitrary event data under a valid signature.
func FuzzMailgunEvent(f *testing.F) {
	f.Add([]byte(mailgunEventData))
	f.Add([]byte(`{"event":"complained","recipient":"a@b.example"}`))
	clock := testkit.NewClock(time.Date(2026, 3, 3, 7, 0, 10, 0, time.UTC))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		m := NewMailgun(mailgunKey, MailgunOptions{Now: clock.Now})
		if evs, err := m.Parse(post(mailgunBody(mailgunKey, clock.Now(), "tok", string(data)))); err == nil {
			checkEvents(t, evs)
		}
	})
}

// FuzzSendGridBody reads arbitrary SendGrid batches under a valid
// signature.
func FuzzSendGridBody(f *testing.F) {
	f.Add([]byte(sendgridBatch))
	f.Add([]byte(`[{"event":"bounce","email":"a@b.example","status":"5.1.1"}]`))
	k := newSendGridKey(f)
	s, err := NewSendGrid(k.pub)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if evs, err := s.Parse(k.request(t, "1772521212", string(body))); err == nil {
			checkEvents(t, evs)
		}
	})
}
