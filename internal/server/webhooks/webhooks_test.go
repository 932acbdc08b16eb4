package webhooks_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/webhooks"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/lifecycle"
)

const (
	topic    = "arn:aws:sns:eu-west-1:123456789012:herald-bounces"
	certURL  = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
	mgKey    = "mailgun-signing-key-0123456789"
	pmUser   = "herald"
	pmPass   = "postmark-hook-password-0123456789"
	siteHost = "news.example.com"
)

// snsFake stands in for SNS's HTTPS hosts: a local TLS server with a
// certificate for sns.eu-west-1.amazonaws.com from a test CA that only its
// client trusts, dialled whatever host a URL names; it serves the signing
// certificate and counts subscription confirmations.
type snsFake struct {
	client   *http.Client
	key      *rsa.PrivateKey
	confirms atomic.Int32
	down     atomic.Bool // the certificate host answers 503
}

func newSNSFake(t *testing.T) *snsFake {
	t.Helper()
	f := &snsFake{}
	now := time.Now()
	caKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	leafDER, _ := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2),
		DNSNames: []string{"sns.eu-west-1.amazonaws.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, &leafKey.PublicKey, caKey)
	f.key, _ = rsa.GenerateKey(rand.Reader, 2048)
	signDER, _ := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}, ca, &f.key.PublicKey, caKey)
	signPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signDER})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, ".pem") && f.down.Load():
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		case strings.HasSuffix(r.URL.Path, ".pem"):
			w.Write(signPEM)
		case r.URL.Query().Get("Action") == "ConfirmSubscription":
			f.confirms.Add(1)
			w.Write([]byte("<ConfirmSubscriptionResponse/>"))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	addr := srv.Listener.Addr().String()
	f.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
	return f
}

// sign builds an SNS delivery signed with SignatureVersion 2.
func (f *snsFake) sign(t *testing.T, fields map[string]string) []byte {
	t.Helper()
	names := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if fields["Type"] == "SubscriptionConfirmation" {
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var canon strings.Builder
	for _, n := range names {
		if v, ok := fields[n]; ok {
			canon.WriteString(n + "\n" + v + "\n")
		}
	}
	d := sha256.Sum256([]byte(canon.String()))
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{"SignatureVersion": "2", "Signature": base64.StdEncoding.EncodeToString(sig), "SigningCertURL": certURL}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// env is the webhooks over a real store and lifecycle service, with
// readers who were each sent one delivery.
type env struct {
	t     *testing.T
	st    *store.Store
	srv   *httptest.Server
	sns   *snsFake
	sgKey *ecdsa.PrivateKey
	msgID map[string]string // Message-ID of the delivery to each reader
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, sns: newSNSFake(t), msgID: map[string]string{}}
	e.sgKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&e.sgKey.PublicKey)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`secret: "webhooks-test-secret-0123456789abcdef"
bounces:
  webhooks:
    ses: {topic_arns: [%q]}
    postmark: {username: %q, password: %q}
    mailgun: {signing_key: %q}
    sendgrid: {public_key: %q}
`, topic, pmUser, pmPass, mgKey, base64.StdEncoding.EncodeToString(der))))
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if e.st, err = store.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), store.Options{Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	life, err := lifecycle.New(lifecycle.Options{Config: cfg, Reports: e.st, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h, err := webhooks.New(webhooks.Options{Config: cfg, Reports: life, Client: e.sns.client, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)

	ctx := context.Background()
	ed, _, _ := e.st.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: time.Now(), Since: time.Now().Add(-time.Hour)})
	var ds []model.Delivery
	for _, a := range []string{"ses@example.org", "pm@example.org", "mg@example.org", "sg@example.org", "sg2@example.org"} {
		sub, _, _ := e.st.UpsertSubscriber(ctx, model.Address(a), "", model.SubscriberActive)
		su, _ := e.st.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, "")
		ds = append(ds, model.Delivery{SubscriberID: sub.ID, SubscriptionID: su.ID, Status: model.DeliveryPending})
	}
	e.st.InsertDeliveries(ctx, ed.ID, ds, 1<<40)
	got, _ := e.st.Deliveries(ctx, ed.ID, 0, 100)
	for i := range got {
		got[i].Status, got[i].Attempts, got[i].SentAt = model.DeliverySent, 1, time.Now().Add(-time.Minute)
		got[i].MessageID = fmt.Sprintf("<%d.%d@%s>", ed.ID, got[i].SubscriberID, siteHost)
		e.msgID[string(got[i].Email)] = got[i].MessageID
	}
	if err := e.st.RecordDeliveries(ctx, got, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) post(path string, body []byte, hdr ...string) int {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *env) status(addr string) string {
	e.t.Helper()
	sub, _, _ := e.st.FindSubscriber(context.Background(), model.Address(addr))
	return sub.Status
}

// events counts the bounce events recorded.
func (e *env) events() int {
	var n int
	e.st.W.QueryRow(`SELECT count(*) FROM bounce_events`).Scan(&n)
	return n
}

// Each provider's real signature scheme, with test keys: a verified report
// is recorded and applied; a wrong, missing or replayed signature, a topic
// not in the allow-list or a certificate outside SNS's hosts is 401 and
// changes nothing (issue 14).
func TestWebhooks(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC()

	// Amazon SES through SNS: the subscription is confirmed, then a
	// bounce notification matched by the original Message-ID.
	if code := e.post("/webhooks/ses", e.sns.sign(t, map[string]string{"Type": "SubscriptionConfirmation", "MessageId": "m0",
		"Token": "tok", "TopicArn": topic, "Message": "confirm", "Timestamp": now.Format(time.RFC3339),
		"SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=tok"})); code != 200 || e.sns.confirms.Load() != 1 {
		t.Fatalf("SNS subscription: %d, %d confirmations", code, e.sns.confirms.Load())
	}
	sesMsg := `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",
"bouncedRecipients":[{"emailAddress":"ses@example.org","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],
"timestamp":"` + now.Format(time.RFC3339) + `","feedbackId":"fb-1"},
"mail":{"timestamp":"` + now.Format(time.RFC3339) + `","messageId":"ses-own-id","destination":["ses@example.org"],
"commonHeaders":{"messageId":"` + e.msgID["ses@example.org"] + `"}}}`
	notification := map[string]string{"Type": "Notification", "MessageId": "m1", "TopicArn": topic, "Message": sesMsg,
		"Timestamp": now.Format(time.RFC3339), "Subject": "Amazon SES Email Event Notification"}
	otherTopic := map[string]string{}
	for k, v := range notification {
		otherTopic[k] = v
	}
	otherTopic["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:someone-else"
	forged := bytes.Replace(e.sns.sign(t, notification), []byte(`5.1.1`), []byte(`5.1.2`), 1)
	refused := map[string][]byte{"another account's topic": e.sns.sign(t, otherTopic), "forged": forged, "unsigned": []byte(`{"Type":"Notification","TopicArn":"` + topic + `","Message":"{}"}`)}
	for name, body := range refused {
		if code := e.post("/webhooks/ses", body); code != 401 {
			t.Errorf("SES %s: %d, want 401", name, code)
		}
	}
	if e.events() != 0 {
		t.Fatal("a refused webhook recorded something")
	}
	if code := e.post("/webhooks/ses", e.sns.sign(t, notification)); code != 200 {
		t.Fatalf("SES notification: %d", code)
	}
	if st := e.status("ses@example.org"); st != model.SubscriberBounced {
		t.Errorf("SES hard bounce left %s", st)
	}

	// Postmark: basic auth; its Bounce carries no original Message-ID, so
	// the recipient and time match.
	pm := []byte(`{"RecordType":"Bounce","ID":42,"Type":"HardBounce","TypeCode":1,"MessageID":"pm-own-id","Email":"pm@example.org",
"Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist.","BouncedAt":"` + now.Format(time.RFC3339) + `"}`)
	auth := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	for _, a := range []string{"", auth(pmUser, "wrong"), auth("someone", pmPass)} {
		if code := e.post("/webhooks/postmark", pm, "Authorization", a); code != 401 {
			t.Errorf("Postmark with %q: %d, want 401", a, code)
		}
	}
	if code := e.post("/webhooks/postmark", pm, "Authorization", auth(pmUser, pmPass)); code != 200 || e.status("pm@example.org") != model.SubscriberBounced {
		t.Errorf("Postmark: %d, %s", code, e.status("pm@example.org"))
	}

	// Mailgun: HMAC of timestamp and token; a replayed token is refused.
	mgData := `{"id":"ev1","timestamp":` + strconv.FormatInt(now.Unix(), 10) + `,"event":"failed","severity":"permanent","reason":"bounce",
"recipient":"mg@example.org","delivery-status":{"code":550,"enhanced-code":"5.1.1","message":"user unknown"},
"message":{"headers":{"message-id":"` + strings.Trim(e.msgID["mg@example.org"], "<>") + `"}}}`
	mgBody := func(key, token string) []byte {
		ts := strconv.FormatInt(now.Unix(), 10)
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(ts + token))
		return fmt.Appendf(nil, `{"signature":{"timestamp":%q,"token":%q,"signature":%q},"event-data":%s}`, ts, token, hex.EncodeToString(m.Sum(nil)), mgData)
	}
	if code := e.post("/webhooks/mailgun", mgBody("wrong-key", "t1")); code != 401 {
		t.Errorf("Mailgun with another key: %d", code)
	}
	if code := e.post("/webhooks/mailgun", mgBody(mgKey, "t2")); code != 200 || e.status("mg@example.org") != model.SubscriberBounced {
		t.Errorf("Mailgun: %d, %s", code, e.status("mg@example.org"))
	}
	if code := e.post("/webhooks/mailgun", mgBody(mgKey, "t2")); code != 401 {
		t.Errorf("Mailgun replay: %d, want 401", code)
	}

	// SendGrid: ECDSA over timestamp and body; a spam report is a
	// complaint.
	sgBody := []byte(`[{"email":"sg@example.org","timestamp":` + strconv.FormatInt(now.Unix(), 10) + `,"event":"spamreport","sg_event_id":"s1"}]`)
	sign := func(body []byte) (string, string) {
		ts := strconv.FormatInt(now.Unix(), 10)
		d := sha256.Sum256(append([]byte(ts), body...))
		sig, _ := ecdsa.SignASN1(rand.Reader, e.sgKey, d[:])
		return base64.StdEncoding.EncodeToString(sig), ts
	}
	sig, ts := sign(sgBody)
	tampered := bytes.Replace(sgBody, []byte("sg@"), []byte("sg2@"), 1)
	if code := e.post("/webhooks/sendgrid", tampered, "X-Twilio-Email-Event-Webhook-Signature", sig, "X-Twilio-Email-Event-Webhook-Timestamp", ts); code != 401 {
		t.Errorf("SendGrid tampered body: %d", code)
	}
	if code := e.post("/webhooks/sendgrid", sgBody); code != 401 {
		t.Errorf("SendGrid unsigned: %d", code)
	}
	if e.status("sg2@example.org") != model.SubscriberActive {
		t.Error("a tampered SendGrid body changed something")
	}
	if code := e.post("/webhooks/sendgrid", sgBody, "X-Twilio-Email-Event-Webhook-Signature", sig, "X-Twilio-Email-Event-Webhook-Timestamp", ts); code != 200 ||
		e.status("sg@example.org") != model.SubscriberComplained {
		t.Errorf("SendGrid: %d, %s", code, e.status("sg@example.org"))
	}
	if n := e.events(); n != 4 {
		t.Errorf("%d events recorded, want 4", n)
	}
}

// When SNS's certificate host cannot be reached, a notification cannot be
// verified now: 503, so SNS delivers it again, and nothing is recorded.
func TestSESCertificateUnavailable(t *testing.T) {
	e := newEnv(t)
	e.sns.down.Store(true)
	now := time.Now().UTC()
	body := e.sns.sign(t, map[string]string{"Type": "Notification", "MessageId": "m9", "TopicArn": topic,
		"Message": `{"notificationType":"Complaint"}`, "Timestamp": now.Format(time.RFC3339)})
	if code := e.post("/webhooks/ses", body); code != http.StatusServiceUnavailable {
		t.Fatalf("certificate host down: %d, want 503", code)
	}
	if e.events() != 0 {
		t.Fatal("an unverified notification recorded something")
	}
	e.sns.down.Store(false)
	if code := e.post("/webhooks/ses", body); code != 200 {
		t.Fatalf("once the host is back: %d", code)
	}
}
