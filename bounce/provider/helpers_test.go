package provider

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// snsFake is a local HTTPS server that stands in for SNS's hosts: it
// serves the signing certificate and records subscription confirmations.
// Its TLS certificate names sns.us-east-1.amazonaws.com and chains to a
// test CA that only the fake's client trusts; the client dials the local
// server whatever host a URL names.
type snsFake struct {
	srv     *httptest.Server
	client  *http.Client
	signKey *rsa.PrivateKey
	certPEM []byte

	mu   sync.Mutex
	hits map[string]int
}

const (
	testTopic   = "arn:aws:sns:us-east-1:123456789012:herald-bounces"
	testCertURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
)

func newSNSFake(t *testing.T) *snsFake {
	t.Helper()
	f := &snsFake{hits: map[string]int{}}
	now := time.Now()
	// The test CA and the TLS leaf for the SNS host.
	caKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "herald test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "sns.us-east-1.amazonaws.com"},
		DNSNames: []string{"sns.us-east-1.amazonaws.com", "sns.eu-west-1.amazonaws.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	// The SNS signing certificate, served as PEM.
	f.signKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	signTmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	signDER, err := x509.CreateCertificate(rand.Reader, signTmpl, ca, &f.signKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	f.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signDER})

	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[r.Host+r.URL.Path]++
		f.mu.Unlock()
		switch {
		case r.URL.Path == "/SimpleNotificationService-0000000000000000000000.pem":
			w.Write(f.certPEM)
		case r.URL.Query().Get("Action") == "ConfirmSubscription":
			w.Write([]byte("<ConfirmSubscriptionResponse/>"))
		default:
			http.NotFound(w, r)
		}
	}))
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	addr := f.srv.Listener.Addr().String()
	f.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	return f
}

// fetched lists the host and path of every request the fake answered.
func (f *snsFake) fetched() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.hits {
		out = append(out, k)
	}
	return out
}

func (f *snsFake) hitCount(hostPath string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[hostPath]
}

// sign fills Signature and SigningCertURL of an SNS message.
func (f *snsFake) sign(t testing.TB, m map[string]any, version string) []byte {
	t.Helper()
	m["SignatureVersion"] = version
	if _, ok := m["SigningCertURL"]; !ok {
		m["SigningCertURL"] = testCertURL
	}
	sm := snsMessage{Type: str(m["Type"]), MessageID: str(m["MessageId"]), Token: str(m["Token"]),
		TopicArn: str(m["TopicArn"]), Message: str(m["Message"]), Timestamp: str(m["Timestamp"]),
		SubscribeURL: str(m["SubscribeURL"])}
	if s, ok := m["Subject"].(string); ok {
		sm.Subject = &s
	}
	canon, err := sm.canonical()
	if err != nil {
		t.Fatal(err)
	}
	var sig []byte
	if version == "1" {
		d := sha1.Sum([]byte(canon))
		sig, err = rsa.SignPKCS1v15(rand.Reader, f.signKey, crypto.SHA1, d[:])
	} else {
		d := sha256.Sum256([]byte(canon))
		sig, err = rsa.SignPKCS1v15(rand.Reader, f.signKey, crypto.SHA256, d[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func str(v any) string { s, _ := v.(string); return s }

// post builds a webhook request.
func post(body []byte) *http.Request {
	return httptest.NewRequest(http.MethodPost, "/webhooks/x", bytes.NewReader(body))
}

// refuseTransport fails every request: a fuzz target must not reach the
// network.
type refuseTransport struct{}

func (refuseTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in tests")
}
