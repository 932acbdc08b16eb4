// Package token signs and verifies the tokens herald puts in mail: an
// HMAC-SHA256 over a purpose, an id and an expiry. One purpose per token
// (confirm, resubscribe, unsubscribe, manage, undo, bounce), so a token made for
// one use is refused for another; the id is the subscriber's, the
// subscription's or the delivery's. Links carry the URL-safe base64 form
// (Make, Verify); e-mail local parts the compact, case-insensitive base32
// form (MakeCompact, VerifyCompact). A Signer verifies with the current key
// and any previous ones (secret_previous), so rotating the key does not
// break links already mailed; it signs with the current key only.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Purposes.
const (
	Confirm     = "confirm"     // id: subscriber
	Resubscribe = "resubscribe" // id: subscription (an active reader taking a digest again)
	Unsubscribe = "unsubscribe" // id: subscription
	Manage      = "manage"      // id: subscriber
	Undo        = "undo"        // id: an undo snapshot (what a reader's subscriptions were before an unsubscribe)
	Bounce      = "bounce"      // id: a delivery or a transactional mail (VERP)
)

// Errors returned by Verify.
var (
	ErrMalformed = errors.New("token: malformed")
	ErrSignature = errors.New("token: bad signature")
	ErrPurpose   = errors.New("token: wrong purpose")
	ErrExpired   = errors.New("token: expired")
)

var strictB64 = base64.RawURLEncoding.Strict()

// MaxLen bounds a token; longer input is refused before any work.
const MaxLen = 256

// Signer makes tokens with one key and checks them with it and any
// previous keys.
type Signer struct {
	key      []byte
	previous [][]byte // verify-only
	now      func() time.Time

	macs *MACs // signing states keyed with key
}

// MACs hands out HMAC-SHA256 states keyed with one key, reusing free ones:
// Reset takes a state back to its keyed start, so a MAC per message (two
// tokens in every digest sent, a Message-ID per delivery planned) does not
// build two SHA-256 states and the pads each time (that was a tenth of
// what a send allocated). A free list, not a sync.Pool: send-now collects
// every few milliseconds (GOGC 35), and each collection emptied the pool,
// so four states in ten were built afresh all the same.
type MACs struct {
	key  []byte
	free chan hash.Hash
}

// freeMACs bounds the free states: more than the goroutines that sign at
// once in a send (GOMAXPROCS renderers, the planner).
const freeMACs = 16

// NewMACs returns states keyed with a copy of key.
func NewMACs(key []byte) *MACs {
	return &MACs{key: append([]byte(nil), key...), free: make(chan hash.Hash, freeMACs)}
}

// Get returns a state at its keyed start, a free one when there is one.
func (p *MACs) Get() hash.Hash {
	select {
	case m := <-p.free:
		m.Reset()
		return m
	default:
		return hmac.New(sha256.New, p.key)
	}
}

// Put frees m, from Get, once its sum is taken.
func (p *MACs) Put(m hash.Hash) {
	select {
	case p.free <- m:
	default:
	}
}

// NewSigner returns a Signer for key (non-empty). now is the clock (nil:
// time.Now). previous keys (secret_previous) are accepted when verifying,
// never used to sign; empty ones are ignored.
func NewSigner(key []byte, now func() time.Time, previous ...[]byte) (*Signer, error) {
	if len(key) == 0 {
		return nil, errors.New("token: empty key")
	}
	if now == nil {
		now = time.Now
	}
	s := &Signer{key: append([]byte(nil), key...), now: now}
	s.macs = NewMACs(s.key)
	for _, p := range previous {
		if len(p) > 0 {
			s.previous = append(s.previous, append([]byte(nil), p...))
		}
	}
	return s, nil
}

// keys returns the current key, then the previous ones.
func (s *Signer) keys() [][]byte {
	return append([][]byte{s.key}, s.previous...)
}

// Make returns a token for purpose and id that expires after ttl.
func (s *Signer) Make(purpose string, id int64, ttl time.Duration) string {
	exp := s.now().Add(ttl).Unix()
	payload := make([]byte, 0, len(purpose)+2+2*13)
	payload = append(payload, purpose...)
	payload = append(payload, '.')
	payload = strconv.AppendInt(payload, id, 36)
	payload = append(payload, '.')
	payload = strconv.AppendInt(payload, exp, 36)
	var sum [sha256.Size]byte
	m := s.macs.Get()
	m.Write(tokenDomain)
	m.Write(payload)
	m.Sum(sum[:0])
	s.macs.Put(m)
	enc := base64.RawURLEncoding
	var b strings.Builder
	b.Grow(enc.EncodedLen(len(payload)) + 1 + enc.EncodedLen(len(sum)))
	// Encoded through a stack buffer straight into the builder: the token
	// is one allocation (encoding into a slice and converting it is two).
	var chunk [48]byte // whole 3-byte groups: no padding between chunks
	for p := payload; len(p) > 0; {
		n := min(len(p), 36)
		b.Write(enc.AppendEncode(chunk[:0], p[:n]))
		p = p[n:]
	}
	b.WriteByte('.')
	b.Write(enc.AppendEncode(chunk[:0], sum[:]))
	return b.String()
}

// tokenDomain starts every link token's MAC.
var tokenDomain = []byte("herald-token-v1\x00")

func mac(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(tokenDomain)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// signedBy reports whether sum is payload's MAC under any of the keys,
// checking each in constant time.
func (s *Signer) signedBy(sum []byte, payload string, macOf func(key []byte, payload string) []byte) bool {
	ok := false
	for _, k := range s.keys() {
		if hmac.Equal(sum, macOf(k, payload)) {
			ok = true
		}
	}
	return ok
}

// Verify checks tok for purpose and returns its id. The signature is
// compared in constant time before anything else in the payload is trusted.
func (s *Signer) Verify(tok, purpose string) (int64, error) {
	if tok == "" || len(tok) > MaxLen {
		return 0, ErrMalformed
	}
	// Only the URL-safe alphabet and one dot: base64 decoders skip CR and
	// LF, which would otherwise give a token more than one spelling.
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return 0, ErrMalformed
		}
	}
	p64, m64, ok := strings.Cut(tok, ".")
	if !ok {
		return 0, ErrMalformed
	}
	// Strict decoding refuses non-canonical trailing bits, so each token
	// has exactly one spelling (no malleable re-encodings of a valid one).
	payloadB, err := strictB64.DecodeString(p64)
	if err != nil {
		return 0, ErrMalformed
	}
	sig, err := strictB64.DecodeString(m64)
	if err != nil {
		return 0, ErrMalformed
	}
	payload := string(payloadB)
	if !s.signedBy(sig, payload, mac) {
		return 0, ErrSignature
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return 0, ErrMalformed
	}
	if parts[0] != purpose {
		return 0, fmt.Errorf("%w: made for %s", ErrPurpose, parts[0])
	}
	id, err1 := strconv.ParseInt(parts[1], 36, 64)
	exp, err2 := strconv.ParseInt(parts[2], 36, 64)
	if err1 != nil || err2 != nil {
		return 0, ErrMalformed
	}
	if s.now().Unix() > exp {
		return 0, ErrExpired
	}
	return id, nil
}
