package model

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Address is an email address in herald's one normal form: it passed
// ParseAddress, so it is trimmed, has its domain lower-cased, holds no
// space, control character or separator, and parses back with net/mail as
// itself. Subscribers, deliveries and messages carry Addresses; a string
// from outside (a form, a CSV row, a flag) becomes one only through
// ParseAddress.
type Address string

// String returns the address.
func (a Address) String() string { return string(a) }

// Domain returns the part after the last @.
func (a Address) Domain() string {
	s := string(a)
	return s[strings.LastIndexByte(s, '@')+1:]
}

// ErrInvalidAddress is the sentinel every refused address matches with
// errors.Is; the error itself is an *Error with code EINVALID.
var ErrInvalidAddress = &Error{Code: EINVALID, Message: "That does not look like an email address."}

// ParseAddress validates an address typed by a person — net/mail's syntax,
// valid UTF-8 without invisible format characters (Unicode category Cf:
// bidirectional overrides, zero-width spaces and joiners, which would let
// two different addresses look the same), no display name, a local part of
// at most 64 bytes, a domain of at least two sane labels with a top-level
// label that is not all digits — and returns it in normal form: trimmed,
// domain lower-cased.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	bad := func() (Address, error) {
		return "", &Error{Code: EINVALID, Err: ErrInvalidAddress,
			Message: fmt.Sprintf("%q is not a valid email address", s)}
	}
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "<>,;\"") || !utf8.ValidString(s) || HasFormat(s) || hasSpaceOrControl(s) {
		return bad()
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return bad()
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if local == "" || len(local) > 64 || !saneDomain(domain) {
		return bad()
	}
	return Address(local + "@" + domain), nil
}

func saneDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && strings.Trim(tld, "0123456789") != ""
}

// hasSpaceOrControl reports whether s holds a control character (C0, DEL,
// C1 such as U+0085 NEL) or a Unicode space or separator (U+00A0, U+2028
// LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR, …): net/mail takes them in a
// UTF-8 local part (RFC 6532), and a reader, a header or a log line would
// show them as a break or a blank.
func hasSpaceOrControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.In(r, unicode.Z) }) >= 0
}

// HasFormat reports whether s holds an invisible format character
// (Unicode category Cf).
func HasFormat(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) >= 0
}

// StripFormat removes invisible format characters (Unicode category Cf)
// from s: a name with a right-to-left override must not reverse the text
// around it where it is shown.
func StripFormat(s string) string {
	if !HasFormat(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

// AddressHash is the keyed hash an erased address leaves on the
// suppression list: HMAC-SHA256 of the case-folded address under key,
// which is the suppression list's own key (not secret), in hex. It lets an
// import or a sign-up recognise the address without keeping it.
func AddressHash(key []byte, a Address) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("herald-suppression-v1\x00"))
	m.Write([]byte(strings.ToLower(string(a))))
	return hex.EncodeToString(m.Sum(nil))
}
