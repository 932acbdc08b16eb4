package feeds

import (
	"strings"
	"unicode/utf8"
)

// The encoders append to byte slices instead of marshalling structs: a
// feed is mostly article bodies, and escaping each body once (per format)
// straight into its fragment is what keeps a build near the speed of
// reading (docs/benchmarks.md). The escaping is encoding/xml's and
// encoding/json's (with HTML escaping off), so the bytes are what those
// packages would write.

// xmlEsc holds, per ASCII byte, its escape in XML text and attribute
// values (encoding/xml's EscapeString), or "" for bytes written as they are.
var xmlEsc = func() (t [utf8.RuneSelf]string) {
	t['"'], t['\''], t['&'], t['<'], t['>'] = "&#34;", "&#39;", "&amp;", "&lt;", "&gt;"
	t['\t'], t['\n'], t['\r'] = "&#x9;", "&#xA;", "&#xD;"
	for c := range 0x20 {
		if t[c] == "" {
			t[c] = "\uFFFD" // not an XML character
		}
	}
	return t
}()

// appendXML appends s escaped as XML character data. Runs of plain text
// are skipped a word at a time (skipPlain); from the first word holding a
// byte that may need escaping, bytes are taken one by one to its end.
func appendXML(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		i = skipPlain(s, i, xmlQuad[:])
		for end := min(i+8, len(s)); i < end; {
			c := s[i]
			if c < utf8.RuneSelf {
				if e := xmlEsc[c]; e != "" {
					dst = append(dst, s[last:i]...)
					dst = append(dst, e...)
					last = i + 1
				}
				i++
				continue
			}
			r, w := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && w == 1) || !xmlRune(r) {
				dst = append(dst, s[last:i]...)
				dst = append(dst, "\uFFFD"...)
				last = i + w
			}
			i += w
		}
	}
	return append(dst, s[last:]...)
}

// Eight bytes at a time: skipPlain returns the index of the first byte
// from i on that may need escaping — a control character, a byte of a
// multi-byte character, or one of the bytes in the mask set (each word
// lane holding one of them) — rounded down to its word; the byte loop
// takes it from there.
const (
	lanes1   = 0x0101010101010101
	lanesTop = 0x8080808080808080
)

var (
	jsonQuad = [...]uint64{'"' * lanes1, '\\' * lanes1}
	xmlQuad  = [...]uint64{'"' * lanes1, '\'' * lanes1, '&' * lanes1, '<' * lanes1, '>' * lanes1}
)

func skipPlain(s string, i int, set []uint64) int {
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		x := w | (w - 0x20*lanes1) // top bit: a byte below 0x20 or above 0x7F
		for _, m := range set {
			v := w ^ m
			x |= (v - lanes1) &^ v // top bit: a byte equal to the mask's
		}
		if x&lanesTop != 0 {
			return i
		}
	}
	return i
}

// xmlRune is encoding/xml's isInCharacterRange above U+007F.
func xmlRune(r rune) bool {
	return r <= 0xD7FF || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// appendCDATA appends s as a CDATA section, splitting any "]]>" inside it
// as encoding/xml does. An empty s appends nothing.
func appendCDATA(dst []byte, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, "<![CDATA["...)
	for {
		i := indexCDATAEnd(s)
		if i < 0 {
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, "]]]]><![CDATA[>"...)
		s = s[i+3:]
	}
	dst = append(dst, s...)
	return append(dst, "]]>"...)
}

func indexCDATAEnd(s string) int { return strings.Index(s, "]]>") }

// elem appends indent, <name>, s escaped, </name> and a newline.
func elem(dst []byte, indent, name, s string) []byte {
	dst = append(dst, indent...)
	dst = append(dst, '<')
	dst = append(dst, name...)
	dst = append(dst, '>')
	dst = appendXML(dst, s)
	dst = append(dst, "</"...)
	dst = append(dst, name...)
	return append(dst, ">\n"...)
}

// attr appends ` name="value"`, the value escaped.
func attr(dst []byte, name, value string) []byte {
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, `="`...)
	dst = appendXML(dst, value)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSON appends s as a JSON string, as encoding/json does with HTML
// escaping off: quotes, backslashes and control characters escaped, U+2028
// and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSON(dst []byte, s string) []byte {
	dst = append(dst, '"')
	last := 0
	for i := 0; i < len(s); {
		i = skipPlain(s, i, jsonQuad[:])
		for end := min(i+8, len(s)); i < end; {
			c := s[i]
			if c < utf8.RuneSelf {
				if c >= 0x20 && c != '"' && c != '\\' {
					i++
					continue
				}
				dst = append(dst, s[last:i]...)
				switch c {
				case '"', '\\':
					dst = append(dst, '\\', c)
				case '\b':
					dst = append(dst, '\\', 'b')
				case '\f':
					dst = append(dst, '\\', 'f')
				case '\n':
					dst = append(dst, '\\', 'n')
				case '\r':
					dst = append(dst, '\\', 'r')
				case '\t':
					dst = append(dst, '\\', 't')
				default:
					dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
				}
				i++
				last = i
				continue
			}
			r, w := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && w == 1:
				dst = append(dst, s[last:i]...)
				dst = append(dst, `\ufffd`...)
				last = i + w
			case r == '\u2028' || r == '\u2029':
				dst = append(dst, s[last:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
				last = i + w
			}
			i += w
		}
	}
	dst = append(dst, s[last:]...)
	return append(dst, '"')
}
