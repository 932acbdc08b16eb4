package feeds

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Atom ids (RFC 4287 §4.2.6) must be IRIs, and CMS guids often are not (a
// bare number, a name). The rule, for entries and feeds alike:
//
//   - a guid that is already an absolute IRI (RFC 3987) whose scheme is
//     http, https, urn or tag is the id as it is — unless it starts with
//     herald's own prefix below, which only derived ids may use;
//   - any other guid gives tag:HOST,DATE:GUID (RFC 4151), HOST being
//     site.url's host, DATE feeds.id_date and GUID the guid's bytes with
//     everything but ALPHA DIGIT - . _ ~ : @ / percent-encoded (% too).
//
// The id depends on the guid alone, so it never changes when another
// column does. Two articles never share one: guids are unique, the
// encoding is one to one, and verbatim ids never carry the derived prefix.
// RSS guids and JSON Feed ids stay the guid itself (any string is fine
// there).

// idRule derives Atom ids for one site.
type idRule struct {
	prefix string // "tag:HOST,DATE:"
}

func newIDRule(host, date string) idRule {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		host = "invalid.invalid"
	}
	return idRule{prefix: "tag:" + host + "," + date + ":"}
}

// atomID returns the Atom id for guid.
func (r idRule) atomID(guid string) string {
	if idScheme(guid) && validIRI(guid) && !hasPrefixFold(guid, r.prefix) {
		return guid
	}
	var b strings.Builder
	b.Grow(len(r.prefix) + len(guid) + 8)
	b.WriteString(r.prefix)
	for i := 0; i < len(guid); i++ {
		c := guid[i]
		if isUnreserved(c) || c == ':' || c == '@' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&0xF])
	}
	return b.String()
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// idScheme reports whether s has a scheme herald keeps as an Atom id, with
// what that scheme needs: a host for http(s), NID:NSS for urn (RFC 8141),
// authority,date:specific for tag (RFC 4151).
func idScheme(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "http", "https":
		host, _, _ := strings.Cut(strings.TrimPrefix(rest, "//"), "/")
		return strings.HasPrefix(rest, "//") && host != ""
	case "urn":
		nid, nss, ok := strings.Cut(rest, ":")
		return ok && nss != "" && len(nid) >= 2 && len(nid) <= 32 && isAlnum(nid[0]) && isAlnum(nid[len(nid)-1]) &&
			strings.Trim(nid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == ""
	case "tag":
		auth, rest, ok := strings.Cut(rest, ",")
		if !ok || auth == "" {
			return false
		}
		date, _, ok := strings.Cut(rest, ":")
		return ok && validTagDate(date)
	}
	return false
}

func validTagDate(d string) bool {
	if len(d) != 4 && len(d) != 7 && len(d) != 10 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if (i == 4 || i == 7) != (d[i] == '-') || (d[i] != '-' && !isDigit(d[i])) {
			return false
		}
	}
	return true
}

// validIRI reports whether s is an absolute IRI by RFC 3987's grammar:
// scheme ":" ihier-part [ "?" iquery ] [ "#" ifragment ].
func validIRI(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	colon := strings.IndexByte(s, ':')
	if colon < 1 || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < colon; i++ {
		if c := s[i]; !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	rest := s[colon+1:]
	rest, frag, hasFrag := strings.Cut(rest, "#")
	if hasFrag && !iriChars(frag, "/?", false) {
		return false
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	if hasQuery && !iriChars(query, "/?", true) {
		return false
	}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		auth, path := after, ""
		if i := strings.IndexByte(after, '/'); i >= 0 {
			auth, path = after[:i], after[i:]
		}
		return validAuthority(auth) && iriChars(path, "/", false)
	}
	return iriChars(rest, "/", false)
}

// validAuthority checks [ iuserinfo "@" ] ihost [ ":" port ].
func validAuthority(a string) bool {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		if !iriChars(a[:i], ":", false) || strings.IndexByte(a[:i], '@') >= 0 {
			return false
		}
		a = a[i+1:]
	}
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return false
		}
		lit := a[1:end]
		if strings.HasPrefix(lit, "v") || strings.HasPrefix(lit, "V") {
			ver, rest, ok := strings.Cut(lit[1:], ".")
			if !ok || ver == "" || rest == "" || strings.Trim(strings.ToLower(ver), "0123456789abcdef") != "" ||
				!iriChars(rest, ":", false) || strings.ContainsAny(rest, "%@/?#") {
				return false
			}
		} else if ip, err := netip.ParseAddr(lit); err != nil || !ip.Is6() || ip.Zone() != "" {
			return false
		}
		a = a[end+1:]
		if a == "" {
			return true
		}
		return a[0] == ':' && strings.Trim(a[1:], "0123456789") == ""
	}
	host, port, hasPort := strings.Cut(a, ":")
	if hasPort && strings.Trim(port, "0123456789") != "" {
		return false
	}
	return iriChars(host, "", false) && !strings.ContainsAny(host, ":@")
}

// iriChars reports whether s holds only ipchar (iunreserved, pct-encoded,
// sub-delims, ":", "@"), the extra ASCII characters in extra, and, when
// private, iprivate code points.
func iriChars(s, extra string, private bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:@", c) >= 0 || strings.IndexByte(extra, c) >= 0:
				i++
			case c == '%':
				if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
					return false
				}
				i += 3
			default:
				return false
			}
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if !ucsChar(r) && !(private && privateChar(r)) {
			return false
		}
		i += w
	}
	return true
}

// ucsChar is RFC 3987's ucschar.
func ucsChar(r rune) bool {
	switch {
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFEF:
		return true
	case r >= 0x10000 && r <= 0xEFFFD:
		return r&0xFFFF <= 0xFFFD && (r < 0xE0000 || r >= 0xE1000)
	}
	return false
}

// privateChar is RFC 3987's iprivate.
func privateChar(r rune) bool {
	return (r >= 0xE000 && r <= 0xF8FF) || (r >= 0xF0000 && r <= 0xFFFFD) || (r >= 0x100000 && r <= 0x10FFFD)
}

func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }
func isHex(c byte) bool   { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
