package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"hash"
	"strings"
	"time"
)

// Compact tokens go where a link's token cannot: into the local part of an
// e-mail address (VERP's bounces+TOKEN@…, unsubscribe+TOKEN@…). Mail
// servers may change the case of a local part, so a compact token is
// base32 in lower case and verified without regard to case; it is short
// enough to leave room in RFC 5321's 64-octet local part. Its expiry has
// a granularity of one day.
//
// Layout, before encoding: uvarint(id) uvarint(expiry in days since the
// Unix epoch) and the first compactMACLen bytes of HMAC-SHA256 over a
// domain string, the purpose and those bytes.

// CompactMaxLen is the length of the longest compact token: an id below
// 2^62 takes at most 9 bytes, an expiry day before the year 7700 3 bytes,
// and the MAC 10 — 22 bytes, 36 base32 characters.
const CompactMaxLen = 36

// maxCompactID is the largest id a compact token carries.
const maxCompactID = 1<<62 - 1

// compactMACLen is the truncated MAC's length: 80 bits.
const compactMACLen = 10

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func compactMAC(key []byte, purpose string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	writeCompact(m, purpose, payload)
	return m.Sum(nil)[:compactMACLen]
}

// writeCompact writes what a compact token's MAC covers.
func writeCompact(m hash.Hash, purpose string, payload []byte) {
	m.Write([]byte("herald-compact-v1\x00"))
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(payload)
}

// MakeCompact returns a compact token for purpose and an id in [0, 2^62)
// that expires after ttl (at the end of the day ttl reaches).
func (s *Signer) MakeCompact(purpose string, id int64, ttl time.Duration) string {
	exp := s.now().Add(ttl).Unix() / 86400 // valid to the end of that day
	b := make([]byte, 0, binary.MaxVarintLen64+3+compactMACLen)
	b = binary.AppendUvarint(b, uint64(min(max(id, 0), maxCompactID)))
	b = binary.AppendUvarint(b, uint64(min(max(exp, 0), 1<<21-1)))
	var sum [sha256.Size]byte
	m := s.macs.Get()
	writeCompact(m, purpose, b)
	m.Sum(sum[:0])
	s.macs.Put(m)
	return b32.EncodeToString(append(b, sum[:compactMACLen]...))
}

// VerifyCompact checks a compact token for purpose, in either case, and
// returns its id. Only the spelling MakeCompact produces (up to case)
// verifies.
func (s *Signer) VerifyCompact(tok, purpose string) (int64, error) {
	if tok == "" || len(tok) > CompactMaxLen {
		return 0, ErrMalformed
	}
	tok = strings.ToLower(tok)
	raw, err := b32.DecodeString(tok)
	if err != nil || b32.EncodeToString(raw) != tok || len(raw) <= compactMACLen {
		return 0, ErrMalformed
	}
	payload, sum := raw[:len(raw)-compactMACLen], raw[len(raw)-compactMACLen:]
	ok := false
	for _, k := range s.keys() {
		if hmac.Equal(sum, compactMAC(k, purpose, payload)) {
			ok = true
		}
	}
	if !ok {
		// The purpose is inside the MAC: a token made for another purpose
		// fails here too.
		return 0, ErrSignature
	}
	id, n := binary.Uvarint(payload)
	if n <= 0 || id > maxCompactID {
		return 0, ErrMalformed
	}
	exp, m := binary.Uvarint(payload[n:])
	if m <= 0 || n+m != len(payload) {
		return 0, ErrMalformed
	}
	if uint64(s.now().Unix()/86400) > exp {
		return 0, ErrExpired
	}
	return int64(id), nil
}
