package config

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/token"
)

// Keys of the subscriber lifecycle: what happens after the relay said 250
// (bounces, complaints), and how long herald keeps what.

// Bounces configures hearing bounces and complaints.
type Bounces struct {
	// Address is the envelope sender's base (bounces@news.example.com):
	// each message goes out with MAIL FROM bounces+TOKEN@news.example.com
	// (VERP). Empty: the envelope sender is smtp.from's address.
	Address string `yaml:"address"`
	// Listen is where herald serve accepts bounce mail over SMTP
	// (127.0.0.1:2525); empty: no listener.
	Listen     string   `yaml:"listen"`
	MaxBytes   int64    `yaml:"max_bytes"`   // largest message the listener takes
	SoftLimit  int      `yaml:"soft_limit"`  // soft bounces from distinct editions that mark an address bounced
	SoftWindow Duration `yaml:"soft_window"` // ... within this window
	IMAP       IMAP     `yaml:"imap"`
	Webhooks   Webhooks `yaml:"webhooks"`
}

// IMAP configures an optional poll of an ordinary mailbox that receives
// bounces.
type IMAP struct {
	Host     string   `yaml:"host"` // empty: no poll
	Port     int      `yaml:"port"`
	TLS      string   `yaml:"tls"` // tls | starttls | none
	Username string   `yaml:"username"`
	Password string   `yaml:"password" secret:"true"`
	Mailbox  string   `yaml:"mailbox"`
	Interval Duration `yaml:"interval"`
	// Delete removes a handled message instead of marking it seen.
	Delete bool `yaml:"delete"`
}

// Webhooks configures the providers' bounce and complaint webhooks
// (POST /webhooks/NAME). A provider without its keys is not mounted.
type Webhooks struct {
	SES      SESWebhook      `yaml:"ses"`
	Postmark PostmarkWebhook `yaml:"postmark"`
	Mailgun  MailgunWebhook  `yaml:"mailgun"`
	SendGrid SendGridWebhook `yaml:"sendgrid"`
}

// SESWebhook is Amazon SES through SNS: only these topics are believed.
type SESWebhook struct {
	TopicARNs []string `yaml:"topic_arns"`
}

// PostmarkWebhook is Postmark's basic-auth credentials for the webhook URL.
type PostmarkWebhook struct {
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
}

// MailgunWebhook is Mailgun's HTTP webhook signing key.
type MailgunWebhook struct {
	SigningKey string `yaml:"signing_key" secret:"true"`
}

// SendGridWebhook is the public key of SendGrid's signed event webhook.
type SendGridWebhook struct {
	PublicKey string `yaml:"public_key"`
}

// Subscribers configures housekeeping of subscriber data.
type Subscribers struct {
	PendingTTL        Duration `yaml:"pending_ttl"`        // unconfirmed subscribers older than this are deleted
	DeliveryRetention Duration `yaml:"delivery_retention"` // delivery rows older than this are pruned
}

// MinSecretLen is the shortest secret and http.admin_token accepted.
const MinSecretLen = 32

// defaultLifecycle fills the lifecycle defaults into c.
func (c *Config) defaultLifecycle() {
	c.Bounces = Bounces{
		MaxBytes: 10 << 20, SoftLimit: 3, SoftWindow: Duration(30 * 24 * time.Hour),
		IMAP: IMAP{Port: 993, TLS: "tls", Mailbox: "INBOX", Interval: Duration(time.Minute)},
	}
	c.Subscribers = Subscribers{PendingTTL: Duration(7 * 24 * time.Hour), DeliveryRetention: Duration(396 * 24 * time.Hour)}
	c.HTTP.SubscribeMinSeconds = 3
}

// validateLifecycle checks the secrets, the bounce and housekeeping keys
// and the sign-up checks, reporting each problem through bad.
func (c *Config) validateLifecycle(bad func(key, format string, a ...any)) {
	const how = "generate one with: openssl rand -base64 32"
	if c.Secret != "" && len(c.Secret) < MinSecretLen {
		bad("secret", "is %d bytes; it must be at least %d (or empty: herald then generates one and keeps it in the database); %s",
			len(c.Secret), MinSecretLen, how)
	}
	if c.HTTP.AdminToken != "" && len(c.HTTP.AdminToken) < MinSecretLen {
		bad("http.admin_token", "is %d bytes; it must be at least %d (or empty: the API is off); %s", len(c.HTTP.AdminToken), MinSecretLen, how)
	}
	if c.SecretPrevious != "" && c.SecretPrevious == c.Secret {
		bad("secret_previous", "is the same as secret; set it to the secret being replaced")
	}
	if c.HTTP.SubscribeMinSeconds < 0 || c.HTTP.SubscribeMinSeconds > 3600 {
		bad("http.subscribe_min_seconds", "must be between 0 and 3600, got %d", c.HTTP.SubscribeMinSeconds)
	}
	b := c.Bounces
	if b.Address != "" {
		local, ok := bareAddress(b.Address)
		switch {
		case !ok:
			bad("bounces.address", "must be a bare address such as bounces@news.example.com, got %q", b.Address)
		case len(local)+1+token.CompactMaxLen > 64:
			bad("bounces.address", "local part %q is %d octets: with '+' and the %d-character VERP token it must fit RFC 5321's 64, so use at most %d",
				local, len(local), token.CompactMaxLen, 64-1-token.CompactMaxLen)
		}
	}
	if b.Address != "" && b.Listen != "" && c.SMTP.UnsubscribeTo != "" {
		// On the bounce domain, herald writes unsubscribe+TOKEN@domain.
		ul, uok := bareAddress(c.SMTP.UnsubscribeTo)
		_, bd, _ := strings.Cut(b.Address, "@")
		if uok && strings.EqualFold(c.SMTP.UnsubscribeTo[len(ul)+1:], bd) && len(ul)+1+token.CompactMaxLen > 64 {
			bad("smtp.unsubscribe_mailto", "local part %q is %d octets: with '+' and the %d-character token it must fit RFC 5321's 64, so use at most %d",
				ul, len(ul), token.CompactMaxLen, 64-1-token.CompactMaxLen)
		}
	}
	if b.Listen != "" && !strings.Contains(b.Listen, ":") {
		bad("bounces.listen", "must be host:port, got %q", b.Listen)
	}
	if b.Listen != "" && b.Address == "" {
		bad("bounces.address", "must be set when bounces.listen is (it is the address the listener accepts)")
	}
	if b.MaxBytes < 1<<10 {
		bad("bounces.max_bytes", "must be at least 1024, got %d", b.MaxBytes)
	}
	if b.SoftLimit < 1 {
		bad("bounces.soft_limit", "must be at least 1, got %d", b.SoftLimit)
	}
	if b.SoftWindow.D() <= 0 {
		bad("bounces.soft_window", "must be positive, got %s", b.SoftWindow)
	}
	if im := b.IMAP; im.Host != "" {
		switch im.TLS {
		case "tls", "starttls":
		case "none":
			if !loopbackHost(im.Host) {
				bad("bounces.imap.tls", "is none for %s: the password would cross the network in clear (use tls or starttls)", im.Host)
			}
		default:
			bad("bounces.imap.tls", "must be tls, starttls or none, got %q", im.TLS)
		}
		if im.Port < 1 || im.Port > 65535 {
			bad("bounces.imap.port", "must be between 1 and 65535, got %d", im.Port)
		}
		if im.Username == "" {
			bad("bounces.imap.username", "must be set when bounces.imap.host is")
		}
		if im.Mailbox == "" {
			bad("bounces.imap.mailbox", "must name a mailbox such as INBOX")
		}
		if im.Interval.D() < time.Second {
			bad("bounces.imap.interval", "must be at least 1s, got %s", im.Interval)
		}
	}
	for i, arn := range b.Webhooks.SES.TopicARNs {
		if !strings.HasPrefix(arn, "arn:aws:sns:") {
			bad(fmt.Sprintf("bounces.webhooks.ses.topic_arns[%d]", i), "must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), got %q", arn)
		}
	}
	if pm := b.Webhooks.Postmark; (pm.Username == "") != (pm.Password == "") {
		bad("bounces.webhooks.postmark", "username and password go together")
	}
	s := c.Subscribers
	if s.PendingTTL.D() < time.Hour {
		bad("subscribers.pending_ttl", "must be at least 1h, got %s", s.PendingTTL)
	}
	if s.DeliveryRetention.D() < 30*24*time.Hour {
		bad("subscribers.delivery_retention", "must be at least 30d, got %s", s.DeliveryRetention)
	}
	for _, d := range c.Digests {
		if d.Lookback.D() >= s.DeliveryRetention.D() {
			bad("subscribers.delivery_retention", "must be longer than digest %s's lookback (%s)", d.Name, d.Lookback)
		}
	}
}

// bareAddress reports whether s is a bare address (no display name) and
// returns its local part.
func bareAddress(s string) (string, bool) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	return s[:at], at > 0
}
