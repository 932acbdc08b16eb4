package provider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"

	"github.com/heraldnews/herald/bounce"
)

// sendgridBatch is a batch of events in the shape of SendGrid's Event
// Webhook reference, with a custom argument (delivery).
const sendgridBatch = `[
{"email":"alice@example.org","timestamp":1772521205,"smtp-id":"<42.1f2e3d4c5b6a7988@news.example.com>","event":"bounce","type":"bounce",
 "category":["daily"],"sg_event_id":"ZHJvcC0xMjM0NTY3","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
 "reason":"550 5.1.1 The email account that you tried to reach does not exist.","status":"5.1.1","bounce_classification":"Invalid Address","delivery":"42"},
{"email":"bob@example.org","timestamp":1772521206,"event":"bounce","type":"blocked","sg_event_id":"b2","reason":"550 5.7.1 blocked by policy","status":"5.7.1"},
{"email":"carol@example.org","timestamp":1772521207,"event":"dropped","sg_event_id":"b3","reason":"Bounced Address","status":"5.0.0"},
{"email":"dave@example.org","timestamp":1772521208,"event":"dropped","sg_event_id":"b4","reason":"Spam Reporting Address"},
{"email":"erin@example.org","timestamp":1772521209,"event":"deferred","sg_event_id":"b5","response":"400 try again later","attempt":"5"},
{"email":"frank@example.org","timestamp":1772521210,"event":"spamreport","sg_event_id":"b6","sg_message_id":"x.filter"},
{"email":"grace@example.org","timestamp":1772521211,"event":"delivered","sg_event_id":"b7","response":"250 OK"}
]`

type sendgridKey struct {
	priv *ecdsa.PrivateKey
	pub  string
}

func newSendGridKey(t testing.TB) sendgridKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return sendgridKey{k, base64.StdEncoding.EncodeToString(der)}
}

// request signs body as SendGrid does.
func (k sendgridKey) request(t testing.TB, ts, body string) *http.Request {
	t.Helper()
	d := sha256.Sum256([]byte(ts + body))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, d[:])
	if err != nil {
		t.Fatal(err)
	}
	r := post([]byte(body))
	r.Header.Set(SendGridSignatureHeader, base64.StdEncoding.EncodeToString(sig))
	r.Header.Set(SendGridTimestampHeader, ts)
	return r
}

func TestSendGrid(t *testing.T) {
	k := newSendGridKey(t)
	s, err := NewSendGrid(k.pub)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.Parse(k.request(t, "1772521212", sendgridBatch))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		rcpt string
		kind bounce.Kind
	}{
		{"alice@example.org", bounce.Hard}, {"bob@example.org", bounce.Soft}, {"carol@example.org", bounce.Hard},
		{"dave@example.org", bounce.Complaint}, {"erin@example.org", bounce.None}, {"frank@example.org", bounce.Complaint},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(evs), len(want), evs)
	}
	for i, w := range want {
		if evs[i].Recipient != w.rcpt || evs[i].Kind != w.kind {
			t.Errorf("event %d: %s %s, want %s %s", i, evs[i].Recipient, evs[i].Kind, w.rcpt, w.kind)
		}
	}
	if e := evs[0]; e.MessageID != "<42.1f2e3d4c5b6a7988@news.example.com>" || e.Status != "5.1.1" || e.EventID != "ZHJvcC0xMjM0NTY3" ||
		e.Metadata["delivery"] != "42" || e.At.Unix() != 1772521205 {
		t.Errorf("first event %+v", e)
	}
}

func TestSendGridRefuses(t *testing.T) {
	k, other := newSendGridKey(t), newSendGridKey(t)
	s, err := NewSendGrid("-----BEGIN PUBLIC KEY-----\n" + k.pub + "\n-----END PUBLIC KEY-----\n")
	if err != nil {
		t.Fatal(err)
	}
	tampered := k.request(t, "1772521212", sendgridBatch)
	tampered.Body = post([]byte(sendgridBatch[:len(sendgridBatch)-2] + "]")).Body
	otherTS := k.request(t, "1772521212", sendgridBatch)
	otherTS.Header.Set(SendGridTimestampHeader, "1772521213")
	noSig := post([]byte(sendgridBatch))
	for name, r := range map[string]*http.Request{
		"other key":         other.request(t, "1772521212", sendgridBatch),
		"tampered body":     tampered,
		"other timestamp":   otherTS,
		"missing signature": noSig,
	} {
		if _, err := s.Parse(r); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
	if _, err := s.Parse(k.request(t, "1", "{not json")); !errors.Is(err, ErrPayload) {
		t.Errorf("bad json: %v", err)
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if _, err := NewSendGrid(base64.StdEncoding.EncodeToString(der)); err == nil {
		t.Error("RSA key accepted")
	}
	if _, err := NewSendGrid("not base64!"); err == nil {
		t.Error("garbage key accepted")
	}
}
