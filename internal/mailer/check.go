package mailer

import (
	"encoding/base64"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/heraldnews/herald/internal/model"
)

// The checks and clean-ups every header value passes before either writer
// (compose, assemble) sees it: addresses, names, subjects, extra headers.

// Header names are `^[A-Za-z0-9][A-Za-z0-9-]{0,75}$`, Message-IDs
// "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}@[A-Za-z0-9.-]{1,253}$" (checked
// by validHeaderName and validMessageID, which TestValidatorsMatchRegexps
// compares with these expressions).
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func validHeaderName(s string) bool {
	if len(s) < 1 || len(s) > 76 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

func validMessageID(s string) bool {
	at := strings.IndexByte(s, '@')
	if at < 1 || at > 200 || len(s)-at-1 < 1 || len(s)-at-1 > 253 {
		return false
	}
	for i := 0; i < at; i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("!#$%&'*+/=?^_`{|}~.-", rune(c)) {
			return false
		}
	}
	for i := at + 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parseAddress reads a configured "Name <addr>" address, cleaning the name.
func parseAddress(field, s string) (*netmail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("mailer: %s %q: %w", field, s, ErrHeaderInjection)
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || !strings.Contains(a.Address, "@") {
		return nil, fmt.Errorf("mailer: %w: %s %q", ErrBadAddress, field, s)
	}
	a.Name = cleanName(a.Name)
	return a, nil
}

// addrCache remembers parsed configured addresses (smtp.from,
// smtp.reply_to), at most a few dozen, with their header forms.
type addrCache struct {
	mu sync.Mutex
	m  map[addrKey]cachedAddr
}

type addrKey struct{ field, value string }

type cachedAddr struct {
	addr netmail.Address
	str  string // addr.String(): the header's value
}

// parse is parseAddress, remembered, and the address's header form; a nil
// cache parses every time.
func (c *addrCache) parse(field, s string) (*netmail.Address, string, error) {
	if c == nil {
		p, err := parseAddress(field, s)
		if err != nil {
			return nil, "", err
		}
		return p, p.String(), nil
	}
	key := addrKey{field, s}
	c.mu.Lock()
	a, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return &a.addr, a.str, nil
	}
	p, err := parseAddress(field, s)
	if err != nil {
		return nil, "", err
	}
	str := p.String()
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 64 {
		c.m = map[addrKey]cachedAddr{}
	}
	c.m[key] = cachedAddr{*p, str}
	c.mu.Unlock()
	return p, str, nil
}

// parseBareAddress reads a recipient address with no display name.
func parseBareAddress(s string) (*netmail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("mailer: To %q: %w", s, ErrHeaderInjection)
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(s) || !strings.Contains(a.Address, "@") {
		return nil, fmt.Errorf("mailer: %w: To %q", ErrBadAddress, s)
	}
	return a, nil
}

// maxName bounds a display name, in characters, so a quoted name stays far
// below the 998-character line limit (go-mail cannot fold inside it).
const maxName = 100

// cleanName is cleanText cut to maxName characters, with "=?" broken by a
// zero-width space. net/mail quotes an ASCII name rather than encoding it,
// and many readers (Python's email package among them) decode an encoded
// word even inside quotes, so a name "=?utf-8?q?=0D=0A?=" would show a line
// break; with the invisible U+200B the name is not ASCII any more, so it is
// RFC 2047-encoded whole and reads as typed.
func cleanName(s string) string {
	s = cleanText(s)
	if len(s) > maxName && utf8.RuneCountInString(s) > maxName {
		s = strings.TrimSpace(string([]rune(s)[:maxName]))
	}
	return strings.ReplaceAll(s, "=?", "=\u200b?")
}

// cleanText makes a person-written one-line value (a name, a subject)
// harmless in a header: invalid UTF-8 is replaced, every control character
// (CR, LF, NUL, C1...) and Unicode line or paragraph separator becomes a
// space, and runs of spaces collapse.
func cleanText(s string) string {
	if isPrintableASCII(s) && (s == "" || s[0] != ' ' && s[len(s)-1] != ' ' && !strings.Contains(s, "  ")) {
		return s // nothing to clean: the common case, without a copy
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// encodeText RFC 2047-encodes an unstructured header value when it needs it:
// non-ASCII text; ASCII that contains "=?" (a mail client would otherwise
// decode it as an encoded word — "=?utf-8?q?=0D=0A?=" must show as typed,
// not as a line break); or a word too long to fold (go-mail folds only at
// spaces, and encoded words are at most 75 characters).
func encodeText(s string) string {
	if !isPrintableASCII(s) {
		return mime.QEncoding.Encode("utf-8", s) // encodes "=" and "?" too
	}
	if !strings.Contains(s, "=?") && !hasLongWord(s, 70) {
		return s
	}
	// mime leaves ASCII alone, so encode by hand: base64 words of at most
	// 45 bytes (60 characters encoded).
	var words []string
	for len(s) > 0 {
		n := min(len(s), 45)
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// hasLongWord reports a run of more than n bytes without ASCII white space
// (the words strings.Fields would find in ASCII text).
func hasLongWord(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			run = 0
		default:
			if run++; run > n {
				return true
			}
		}
	}
	return false
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// extraHeaders validates msg.Headers and encodes their values.
func extraHeaders(hs []model.Header) ([]model.Header, error) {
	out := make([]model.Header, 0, len(hs))
	var lower [64]byte
	for i, h := range hs {
		if !validHeaderName(h.Name) {
			return nil, fmt.Errorf("mailer: %w: name %q", ErrBadHeader, h.Name)
		}
		// The name in lower case, for the tables (a valid name is ASCII;
		// a map index by string(bytes) copies nothing).
		lk := lower[:0]
		for j := 0; j < len(h.Name) && j < len(lower); j++ {
			lk = append(lk, asciiLower(h.Name[j]))
		}
		if len(h.Name) > len(lower) {
			lk = []byte(strings.ToLower(h.Name))
		}
		switch {
		case reserved[string(lk)]:
			return nil, fmt.Errorf("mailer: %w: %s is set by the mailer", ErrBadHeader, h.Name)
		case givenBefore(hs[:i], h.Name):
			return nil, fmt.Errorf("mailer: %w: %s given twice", ErrBadHeader, h.Name)
		case strings.ContainsAny(h.Value, "\r\n"):
			return nil, fmt.Errorf("mailer: %s: %w", h.Name, ErrHeaderInjection)
		case !utf8.ValidString(h.Value) || hasControl(h.Value):
			return nil, fmt.Errorf("mailer: %w: %s value has control characters or invalid UTF-8", ErrBadHeader, h.Name)
		}
		if n := longestWord(h.Value); n > maxWord {
			return nil, fmt.Errorf("mailer: %w: %s has a %d-byte word", ErrBadHeader, h.Name, n)
		}
		var v string
		switch {
		case urlListHeaders[string(lk)]:
			if !isPrintableASCII(h.Value) {
				return nil, fmt.Errorf("mailer: %w: %s must be ASCII", ErrBadHeader, h.Name)
			}
			v = strings.TrimSpace(h.Value)
		case string(lk) == "list-id":
			var err error
			if v, err = listID(h.Value); err != nil {
				return nil, err
			}
		default:
			v = encodeText(strings.TrimSpace(h.Value))
		}
		out = append(out, model.Header{Name: h.Name, Value: v})
	}
	return out, nil
}

// givenBefore reports whether one of hs is named name, in any case.
func givenBefore(hs []model.Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// longestWord returns the length in bytes of the longest run of s without
// white space (the longest of strings.Fields(s)), counting none of it.
func longestWord(s string) int {
	longest, start := 0, -1
	for i, r := range s {
		if r < utf8.RuneSelf && asciiSpace[r] || r >= utf8.RuneSelf && unicode.IsSpace(r) {
			if start >= 0 {
				longest, start = max(longest, i-start), -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		longest = max(longest, len(s)-start)
	}
	return longest
}

// asciiSpace is unicode.IsSpace for ASCII, as strings.Fields has it.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// hasControl reports a control character other than tab (NUL, DEL, C1...)
// or a Unicode line or paragraph separator.
func hasControl(s string) bool {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] >= 0x20 && s[i] < 0x7f || s[i] == '\t'
	}
	if ascii {
		return false
	}
	for _, r := range s {
		if r != '\t' && unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return true
		}
	}
	return false
}

// listID formats "Phrase <id.example.com>" (RFC 2919): the id is ASCII and
// written as is, the phrase is quoted or RFC 2047-encoded as needed.
func listID(s string) (string, error) {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, '<')
	if i < 0 || !strings.HasSuffix(s, ">") {
		return "", fmt.Errorf("mailer: %w: List-Id %q: want \"Name <id.domain>\"", ErrBadHeader, s)
	}
	id := s[i:]
	if !isPrintableASCII(id) || strings.ContainsAny(id[1:len(id)-1], "<> ") {
		return "", fmt.Errorf("mailer: %w: List-Id %q", ErrBadHeader, s)
	}
	phrase := strings.TrimSpace(s[:i])
	switch {
	case phrase == "":
		return id, nil
	case !isPrintableASCII(phrase):
		return mime.QEncoding.Encode("utf-8", phrase) + " " + id, nil
	default:
		// A quoted string: an encoded word inside it is never decoded.
		return `"` + quoteEscaper.Replace(phrase) + `" ` + id, nil
	}
}
