package sanitize

import (
	"net/url"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
)

// The fast path. Cleaning a 5 KB body through resolveLinks and bluemonday
// takes two full tokenizer passes and a few hundred allocations (~250 µs):
// most of a feed build's CPU. Almost every body a CMS writes is plain
// markup — paragraphs, emphasis, lists, links and images with quoted
// attributes — and for that subset the result of the general path is fully
// determined: text is unescaped and re-escaped, allowed tags are written
// back with their allowed attributes, links are made absolute. fastHTML
// produces exactly that in one pass over the bytes, and gives up (ok =
// false) on anything outside the subset, which then takes the general path.
// FuzzFastHTML checks that whenever it answers, its answer is the general
// path's, byte for byte.

// fastTags are the elements the fast path writes back: allowed by the
// policy without attributes, with an ordinary content model (no raw text,
// no foreign content), so the tokenizer splits their markup the simple way.
var fastTags = map[string]bool{
	"p": true, "br": true, "hr": true, "div": true, "span": true, "em": true, "strong": true,
	"b": true, "i": true, "u": true, "s": true, "small": true, "sub": true, "sup": true,
	"code": true, "pre": true, "cite": true, "abbr": true, "mark": true, "blockquote": true,
	"q": true, "ul": true, "ol": true, "li": true, "dl": true, "dt": true, "dd": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"figure": true, "figcaption": true, "a": true, "img": true,
}

// fastAttr is one attribute the fast path keeps, value unescaped.
type fastAttr struct{ key, val string }

// fastHTML cleans fragment (XML-safe already) as HTML does, or reports false.
func fastHTML(fragment string, base *url.URL) (string, bool) {
	var b strings.Builder
	b.Grow(len(fragment) + len(fragment)/16)
	s := fragment
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			i = len(s)
		}
		if i > 0 {
			if !fastText(&b, s[:i]) {
				return "", false
			}
			s = s[i:]
			continue
		}
		n, ok := fastTag(&b, s, base)
		if !ok {
			return "", false
		}
		s = s[n:]
	}
	return b.String(), true
}

// fastText writes a text run as the tokenizer reads it (entities decoded)
// and bluemonday writes it back (escaped).
func fastText(b *strings.Builder, t string) bool {
	if strings.IndexByte(t, '\r') >= 0 {
		return false // the tokenizer rewrites line ends: the general path
	}
	if strings.IndexByte(t, '&') >= 0 {
		t = xhtml.UnescapeString(t)
	}
	escapeHTML(b, t)
	return true
}

// htmlEsc holds, per byte, its escape in golang.org/x/net/html's
// escaping, or "" for bytes written as they are.
var htmlEsc = [256]string{'&': "&amp;", '\'': "&#39;", '<': "&lt;", '>': "&gt;", '"': "&#34;", '\r': "&#13;"}

// escapeHTML is golang.org/x/net/html's escaping, which bluemonday's output
// goes through: one pass with a table (strings.IndexAny built its byte set
// again for every escaped byte).
func escapeHTML(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		if e := htmlEsc[s[i]]; e != "" {
			b.WriteString(s[last:i])
			b.WriteString(e)
			last = i + 1
		}
	}
	b.WriteString(s[last:])
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// fastTag writes the tag at the start of s (s[0] == '<') and returns its
// length, or reports false for anything but `<name( key="value")*( ?/)?>`
// or `</name>` with an element and attributes the fast path knows.
func fastTag(b *strings.Builder, s string, base *url.URL) (int, bool) {
	i := 1
	end := len(s) > 1 && s[1] == '/'
	if end {
		i = 2
	}
	j := i
	for j < len(s) && (isLower(s[j]) || (j > i && isDigit(s[j]))) {
		j++
	}
	name := s[i:j]
	if name == "" || !fastTags[name] {
		return 0, false
	}
	if end {
		if j >= len(s) || s[j] != '>' {
			return 0, false
		}
		b.WriteString("</")
		b.WriteString(name)
		b.WriteByte('>')
		return j + 1, true
	}
	var attrs [4]fastAttr
	n := 0
	selfClosing := false
	for {
		if j >= len(s) {
			return 0, false
		}
		if s[j] == '>' {
			j++
			break
		}
		if s[j] == '/' {
			if j+1 >= len(s) || s[j+1] != '>' {
				return 0, false
			}
			selfClosing = true
			j += 2
			break
		}
		if s[j] != ' ' {
			return 0, false
		}
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j < len(s) && (s[j] == '>' || s[j] == '/') {
			continue
		}
		k := j
		for k < len(s) && isLower(s[k]) {
			k++
		}
		key := s[j:k]
		if key == "" || k+1 >= len(s) || s[k] != '=' || s[k+1] != '"' {
			return 0, false
		}
		v := strings.IndexByte(s[k+2:], '"')
		if v < 0 {
			return 0, false
		}
		val, ok := fastAttrValue(s[k+2 : k+2+v])
		if !ok || n == len(attrs) {
			return 0, false
		}
		for _, a := range attrs[:n] {
			if a.key == key {
				return 0, false // duplicates: the general path
			}
		}
		attrs[n] = fastAttr{key, val}
		n++
		j = k + 2 + v + 1
	}
	kept, ok := fastPolicy(name, attrs[:n], base)
	if !ok {
		return 0, false
	}
	b.WriteByte('<')
	b.WriteString(name)
	for _, a := range kept {
		b.WriteByte(' ')
		b.WriteString(a.key)
		b.WriteString(`="`)
		escapeHTML(b, a.val)
		b.WriteByte('"')
	}
	if selfClosing {
		b.WriteString("/>")
	} else {
		b.WriteByte('>')
	}
	return j, true
}

// fastAttrValue decodes a double-quoted attribute value. Only "&amp;" is
// decoded; any other character reference, and characters the tokenizer
// would rewrite, send the fragment to the general path.
func fastAttrValue(v string) (string, bool) {
	if strings.ContainsAny(v, "<\r\n\t\f") {
		return "", false
	}
	if strings.IndexByte(v, '&') < 0 {
		return v, true
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(v, '&')
		if i < 0 {
			b.WriteString(v)
			return b.String(), true
		}
		if !strings.HasPrefix(v[i:], "&amp;") {
			return "", false
		}
		b.WriteString(v[:i+1])
		v = v[i+len("&amp;"):]
	}
}

// fastPolicy applies resolveLinks and the policy to one tag's attributes:
// a keeps href (made absolute) and title, img keeps src (made absolute),
// alt, loading and title, text-like attributes only when the policy's
// pattern allows them; other elements take none. It reports false where
// the general path's result is not this simple (a link dropped to nothing,
// mailto:, any other attribute).
func fastPolicy(name string, attrs []fastAttr, base *url.URL) ([]fastAttr, bool) {
	if name != "a" && name != "img" {
		return nil, len(attrs) == 0
	}
	kept := attrs[:0]
	for _, a := range attrs {
		switch {
		case (name == "a" && a.key == "href") || (name == "img" && a.key == "src"):
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.val)), "mailto:") {
				return nil, false
			}
			abs := Absolute(base, a.val)
			if abs == "" {
				continue // resolveLinks drops it
			}
			if strings.ContainsAny(abs, " \t\n") {
				return nil, false
			}
			u, err := url.Parse(abs)
			if err != nil {
				return nil, false
			}
			a.val = u.String()
		case a.key == "title" || (name == "img" && (a.key == "alt" || a.key == "loading")):
			if !bluemonday.Paragraph.MatchString(a.val) {
				continue
			}
		default:
			return nil, false
		}
		kept = append(kept, a)
	}
	return kept, len(kept) > 0
}

// fastPlainText is PlainText for text without markup: the tokenizer's one
// text token, decoded, on one line.
func fastPlainText(s string) (string, bool) {
	if strings.IndexByte(s, '<') >= 0 {
		return "", false
	}
	return Line(xhtml.UnescapeString(s)), true
}
