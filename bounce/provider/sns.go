package provider

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" // SNS SignatureVersion 1 signs with RSA and SHA-1
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// SNS verifies Amazon SNS HTTP(S) deliveries and reads the SES
// notifications they carry. Its methods are safe for concurrent use.
type SNS struct {
	topics []string
	client *http.Client

	mu    sync.Mutex
	certs map[string]*rsa.PublicKey // by SigningCertURL
}

// maxCerts bounds the certificate cache; SNS rotates its signing
// certificate rarely, so a handful of URLs is normal.
const maxCerts = 16

// NewSNS returns an SNS verifier that accepts messages only from the
// topics in topicARNs. client fetches signing certificates and
// subscription URLs; nil uses a client with a 10-second timeout and the
// system roots.
func NewSNS(topicARNs []string, client *http.Client) *SNS {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &SNS{topics: slices.Clone(topicARNs), client: client, certs: map[string]*rsa.PublicKey{}}
}

// SNSResult is what one SNS delivery holds.
type SNSResult struct {
	// Type is the SNS message type: Notification,
	// SubscriptionConfirmation or UnsubscribeConfirmation.
	Type string
	// TopicARN is the topic that sent it.
	TopicARN string
	// SubscribeURL, for a SubscriptionConfirmation, is the URL to GET to
	// confirm the subscription (see Confirm).
	SubscribeURL string
	// Events are the bounces and complaints of a Notification.
	Events []Event
}

// snsMessage is an SNS HTTP delivery.
type snsMessage struct {
	Type             string
	MessageID        string `json:"MessageId"`
	Token            string
	TopicArn         string
	Subject          *string
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	SubscribeURL     string
}

// snsHost is an SNS endpoint host: sns.<region>.amazonaws.com (and the
// China partition's amazonaws.com.cn).
var snsHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// Parse verifies an SNS delivery (signature, certificate URL, topic) and
// reads it. A Notification's SES events come back as Events; a
// SubscriptionConfirmation's URL as SubscribeURL.
func (s *SNS) Parse(ctx context.Context, r *http.Request) (SNSResult, error) {
	body, err := readBody(r)
	if err != nil {
		return SNSResult{}, fmt.Errorf("sns: %w", err)
	}
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return SNSResult{}, fmt.Errorf("sns: %w: %w", ErrSignature, err) // nothing signed to read
	}
	if err := s.verify(ctx, &m); err != nil {
		return SNSResult{}, fmt.Errorf("sns: %w", err)
	}
	res := SNSResult{Type: m.Type, TopicARN: m.TopicArn}
	switch m.Type {
	case "SubscriptionConfirmation":
		if err := checkSNSURL(m.SubscribeURL, ""); err != nil {
			return SNSResult{}, fmt.Errorf("sns: %w: SubscribeURL: %w", ErrPayload, err)
		}
		res.SubscribeURL = m.SubscribeURL
	case "Notification":
		evs, err := sesEvents([]byte(m.Message))
		if err != nil {
			return SNSResult{}, fmt.Errorf("sns: %w", err)
		}
		res.Events = evs
	}
	return res, nil
}

// verify checks the topic, the certificate URL and the signature.
func (s *SNS) verify(ctx context.Context, m *snsMessage) error {
	if !slices.Contains(s.topics, m.TopicArn) {
		return fmt.Errorf("%w: topic %q not allowed", ErrSignature, m.TopicArn)
	}
	var h crypto.Hash
	switch m.SignatureVersion {
	case "1":
		h = crypto.SHA1
	case "2":
		h = crypto.SHA256
	default:
		return fmt.Errorf("%w: SignatureVersion %q", ErrSignature, m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: signature not base64", ErrSignature)
	}
	canon, err := m.canonical()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	key, err := s.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum([]byte(canon))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(canon))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(key, h, digest, sig); err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return nil
}

// canonical builds the string SNS signs: name and value lines of the
// type's fields, in byte order of the names.
func (m *snsMessage) canonical() (string, error) {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	switch m.Type {
	case "Notification":
		add("Message", m.Message)
		add("MessageId", m.MessageID)
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
		add("Timestamp", m.Timestamp)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		add("Message", m.Message)
		add("MessageId", m.MessageID)
		add("SubscribeURL", m.SubscribeURL)
		add("Timestamp", m.Timestamp)
		add("Token", m.Token)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
	default:
		return "", fmt.Errorf("message type %q", m.Type)
	}
	return b.String(), nil
}

// checkSNSURL requires https on an SNS host and, when suffix is set, a
// path ending in it.
func checkSNSURL(raw, suffix string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "https" || u.User != nil || u.Port() != "" || !snsHost.MatchString(u.Hostname()) {
		return fmt.Errorf("%q is not https on an SNS host", raw)
	}
	if suffix != "" && !strings.HasSuffix(u.Path, suffix) {
		return fmt.Errorf("%q does not end in %s", raw, suffix)
	}
	return nil
}

// cert returns the RSA key of the signing certificate at raw, fetched
// once through the client.
func (s *SNS) cert(ctx context.Context, raw string) (*rsa.PublicKey, error) {
	if err := checkSNSURL(raw, ".pem"); err != nil {
		return nil, fmt.Errorf("%w: SigningCertURL: %w", ErrSignature, err)
	}
	s.mu.Lock()
	key := s.certs[raw]
	s.mu.Unlock()
	if key != nil {
		return key, nil
	}
	body, err := s.get(ctx, raw, 64<<10)
	if err != nil {
		return nil, fmt.Errorf("fetch signing certificate: %w", err)
	}
	blk, _ := pem.Decode(body)
	if blk == nil {
		return nil, fmt.Errorf("%w: signing certificate is not PEM", ErrSignature)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: signing certificate: %w", ErrSignature, err)
	}
	key, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: signing certificate key is not RSA", ErrSignature)
	}
	s.mu.Lock()
	if len(s.certs) >= maxCerts {
		clear(s.certs)
	}
	s.certs[raw] = key
	s.mu.Unlock()
	return key, nil
}

// Confirm confirms a subscription: it GETs the SubscribeURL of a
// SubscriptionConfirmation through the client, after checking again that
// it is https on an SNS host.
func (s *SNS) Confirm(ctx context.Context, subscribeURL string) error {
	if err := checkSNSURL(subscribeURL, ""); err != nil {
		return fmt.Errorf("sns: confirm: %w", err)
	}
	if _, err := s.get(ctx, subscribeURL, 64<<10); err != nil {
		return fmt.Errorf("sns: confirm: %w", err)
	}
	return nil
}

// get fetches a URL through the client and returns at most limit bytes of
// a 200 answer.
func (s *SNS) get(ctx context.Context, raw string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	return body, nil
}
