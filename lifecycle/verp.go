package lifecycle

import (
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/token"
)

// VERPTTL is how long a VERP address keeps naming its message: complaints
// arrive weeks or months late.
const VERPTTL = 400 * 24 * time.Hour

// mailtoTTL is how long an unsubscribe mailto keeps working, like the
// unsubscribe link beside it.
const mailtoTTL = 5 * 365 * 24 * time.Hour

// VERP makes and reads the addresses herald's mail leaves with (variable
// envelope return paths): a message's envelope sender is
// bounces+TOKEN@domain, where TOKEN is a compact token (purpose bounce,
// base32 in lower case, so a mail server that changes the case of local
// parts does not break it) naming the delivery or the transactional mail.
// A bounce sent to that address names its message whatever its text says.
// With smtp.unsubscribe_mailto on the same domain and a listener
// (bounces.listen), List-Unsubscribe's mailto is unsubscribe+TOKEN@domain,
// naming the subscription.
type VERP struct {
	local, domain string // bounces.address
	unsub         string // unsubscribe_mailto's local part when it points here
	tokens        *token.Signer
}

// NewVERP returns the VERP addresses of cfg, or nil when bounces.address
// is empty (mail then leaves with smtp.from's address).
func NewVERP(cfg *config.Config, now func() time.Time) (*VERP, error) {
	if cfg.Bounces.Address == "" {
		return nil, nil
	}
	tokens, err := token.NewSigner([]byte(cfg.Secret), now, []byte(cfg.SecretPrevious))
	if err != nil {
		return nil, err
	}
	v := &VERP{tokens: tokens}
	v.local, v.domain = split(cfg.Bounces.Address)
	if ul, ud := split(cfg.SMTP.UnsubscribeTo); ul != "" && ud == v.domain && cfg.Bounces.Listen != "" {
		v.unsub = ul
	}
	return v, nil
}

// split returns an address's local part and lower-cased domain.
func split(addr string) (local, domain string) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "", ""
	}
	return addr[:at], strings.ToLower(addr[at+1:])
}

// ids carry what they name in their lowest bit.
const (
	kindDelivery = 0
	kindMail     = 1
)

// Delivery is the envelope sender of delivery id's message.
func (v *VERP) Delivery(id int64) model.Address {
	return model.Address(v.local + "+" + v.tokens.MakeCompact(token.Bounce, id<<1|kindDelivery, VERPTTL) + "@" + v.domain)
}

// Mail is the envelope sender of transactional mail id.
func (v *VERP) Mail(id int64) model.Address {
	return model.Address(v.local + "+" + v.tokens.MakeCompact(token.Bounce, id<<1|kindMail, VERPTTL) + "@" + v.domain)
}

// UnsubscribeMailto is the List-Unsubscribe mailto address of subscription
// id, or "" when smtp.unsubscribe_mailto does not point here.
func (v *VERP) UnsubscribeMailto(id int64) string {
	if v.unsub == "" {
		return ""
	}
	return v.unsub + "+" + v.tokens.MakeCompact(token.Unsubscribe, id, mailtoTTL) + "@" + v.domain
}

// Target is what an incoming recipient address names.
type Target struct {
	Kind TargetKind
	ID   int64 // the delivery, transactional mail or subscription
}

// TargetKind says which of herald's addresses a recipient is.
type TargetKind int

// Target kinds.
const (
	NotOurs           TargetKind = iota // another address, or a forged or expired token: refused
	ToBounces                           // the bare bounces.address (feedback loops, forwarded reports)
	ToDelivery                          // a delivery's VERP address
	ToMail                              // a transactional mail's VERP address
	ToUnsubscribe                       // a subscription's unsubscribe mailto
	ToUnsubscribeBare                   // the bare unsubscribe mailto (no token: refused)
)

// Parse reads a recipient address: which of herald's addresses it is and
// what its token names. Local parts and domains compare without regard to
// case.
func (v *VERP) Parse(rcpt string) Target {
	local, domain := split(strings.Trim(strings.TrimSpace(rcpt), "<>"))
	if v == nil || domain != v.domain {
		return Target{}
	}
	base, tok, tagged := local, "", false
	if i := strings.LastIndexByte(local, '+'); i > 0 {
		base, tok, tagged = local[:i], local[i+1:], true
	}
	switch {
	case strings.EqualFold(local, v.local):
		return Target{Kind: ToBounces}
	case tagged && strings.EqualFold(base, v.local):
		id, err := v.tokens.VerifyCompact(tok, token.Bounce)
		if err != nil {
			return Target{}
		}
		if id&1 == kindMail {
			return Target{Kind: ToMail, ID: id >> 1}
		}
		return Target{Kind: ToDelivery, ID: id >> 1}
	case v.unsub != "" && strings.EqualFold(local, v.unsub):
		return Target{Kind: ToUnsubscribeBare}
	case v.unsub != "" && tagged && strings.EqualFold(base, v.unsub):
		id, err := v.tokens.VerifyCompact(tok, token.Unsubscribe)
		if err != nil {
			return Target{}
		}
		return Target{Kind: ToUnsubscribe, ID: id}
	}
	return Target{}
}
