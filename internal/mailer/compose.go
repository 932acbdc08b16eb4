package mailer

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wneessen/go-mail"

	"github.com/heraldnews/herald/internal/model"
)

// Errors returned when a message cannot be composed. A message that fails
// here is a permanent failure: sending it again would fail the same way.
var (
	// ErrHeaderInjection reports a header value containing CR or LF.
	ErrHeaderInjection = errors.New("header value contains CR or LF")
	// ErrBadHeader reports an extra header that herald will not write: a
	// malformed or reserved name, a duplicate, or a value with control
	// characters or, for the URL-list headers, non-ASCII text.
	ErrBadHeader = errors.New("bad header")
	// ErrBadMessageID reports a missing or malformed Message-ID. herald
	// never lets go-mail invent one (its default uses the machine's host
	// name, not the site's domain).
	ErrBadMessageID = errors.New("bad Message-ID")
	// ErrBadAddress reports an unusable From, To or Reply-To address.
	ErrBadAddress = errors.New("bad address")
)

var errNilMessage = errors.New("mailer: nil message")

// reserved are headers the mailer writes itself; msg.Headers may not set them.
var reserved = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "sender": true, "reply-to": true,
	"subject": true, "date": true, "message-id": true, "mime-version": true,
	"content-type": true, "content-transfer-encoding": true, "content-disposition": true,
	"dkim-signature": true, "return-path": true, "received": true,
}

// urlListHeaders hold angle-bracketed URIs (RFC 2369, RFC 8058): their values
// must be printable ASCII and are written verbatim.
var urlListHeaders = map[string]bool{
	"list-unsubscribe": true, "list-unsubscribe-post": true, "list-help": true,
	"list-subscribe": true, "list-post": true, "list-owner": true, "list-archive": true,
}

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

// maxWord bounds a header "word" (a run without spaces) so no header line can
// exceed RFC 5322's 998 characters after go-mail folds at spaces.
const maxWord = 900

// composeOptions are the parts of composition a Mailer controls.
type composeOptions struct {
	now    func() time.Time
	signer *dkimSettings // nil: no DKIM
	addrs  *addrCache    // nil: parse From and Reply-To every time
}

// WriteMessage writes msg as an RFC 5322 message: multipart/alternative
// (text/plain, then text/html) when both parts are set, with From, To,
// Subject, Date, Message-ID (exactly msg.MessageID), Reply-To when set,
// MIME-Version and msg.Headers. The output is deterministic: the multipart
// boundary derives from the Message-ID, so a fixed Message-ID and Date give
// byte-identical output (golden files, herald preview --out). It is not
// DKIM-signed.
func WriteMessage(w io.Writer, msg *model.Message) error {
	m, err := compose(msg, composeOptions{now: time.Now})
	if err != nil {
		return err
	}
	if _, err := m.WriteTo(w); err != nil {
		return fmt.Errorf("mailer: write message: %w", err)
	}
	return nil
}

// render composes msg and writes it, DKIM-signed when configured, into
// buf.
func render(buf *bytes.Buffer, msg *model.Message, o composeOptions) error {
	m, err := compose(msg, o)
	if err != nil {
		return err
	}
	if _, err := m.WriteTo(buf); err != nil {
		return fmt.Errorf("mailer: write message: %w", err)
	}
	if o.signer != nil {
		foldSignature(buf)
	}
	return nil
}

// checked is a message validated and cleaned for writing: every value
// that reaches a header is validated (addresses, Message-ID, header names,
// URL lists) or cleaned and RFC 2047-encoded here, so neither writer (go-mail
// in compose, the hand assembler in assemble.go) ever sees a raw CR or LF.
type checked struct {
	id                string // the Message-ID without angle brackets
	from, to, replyTo *netmail.Address
	subject           string // encoded
	date              time.Time
	extra             []model.Header // validated names, encoded values
}

// check validates and cleans msg's header values. msg.Date defaults to now.
// addrs, when set, remembers parsed From and Reply-To values (the same few
// for every message).
func check(msg *model.Message, now func() time.Time, addrs *addrCache) (*checked, error) {
	if msg == nil {
		return nil, errNilMessage
	}
	var c checked
	var err error
	if c.id, err = messageID(msg.MessageID); err != nil {
		return nil, err
	}
	if c.from, err = addrs.parse("From", msg.From); err != nil {
		return nil, err
	}
	if c.to, err = parseBareAddress(string(msg.ToAddr)); err != nil {
		return nil, err
	}
	c.to.Name = cleanName(msg.ToName)
	if msg.ReplyTo != "" {
		if c.replyTo, err = addrs.parse("Reply-To", msg.ReplyTo); err != nil {
			return nil, err
		}
	}
	c.subject = encodeText(cleanText(msg.Subject))
	c.date = msg.Date
	if c.date.IsZero() {
		c.date = now()
	}
	if c.extra, err = extraHeaders(msg.Headers); err != nil {
		return nil, err
	}
	return &c, nil
}

// compose builds the go-mail message: the reference composition, used for
// WriteMessage (previews, golden files) and, in tests, to prove the hand
// assembler (assemble.go) writes the same bytes. It never uses go-mail's
// SetGenHeaderPreformatted or SetListUnsubscribe*, which write values raw
// (and, with more than one, in random map order).
func compose(msg *model.Message, o composeOptions) (*mail.Msg, error) {
	c, err := check(msg, o.now, nil)
	if err != nil {
		return nil, err
	}
	m := mail.NewMsg(mail.WithNoDefaultUserAgent(), mail.WithCharset(mail.CharsetUTF8),
		mail.WithEncoding(mail.EncodingQP))
	m.FromMailAddress(c.from)
	m.AddToMailAddress(c.to)
	if c.replyTo != nil {
		m.ReplyToMailAddress(c.replyTo)
	}
	m.SetGenHeader(mail.HeaderSubject, c.subject)
	m.SetDateWithValue(c.date)
	m.SetMessageIDWithValue(c.id)
	for _, h := range c.extra {
		m.SetGenHeader(mail.Header(h.Name), h.Value)
	}

	text, html := flatParts(msg)
	switch {
	case html == "":
		m.SetBodyString(mail.TypeTextPlain, text)
	case text == "":
		m.SetBodyString(mail.TypeTextHTML, html)
	default:
		m.SetBoundary(boundary(c.id, text, html))
		m.SetBodyString(mail.TypeTextPlain, text)
		m.AddAlternativeString(mail.TypeTextHTML, html)
	}
	if o.signer != nil {
		m.SetDKIM(o.signer.signer(msg.Headers, o.now))
	}
	return m, nil
}

// flatParts returns msg's text and HTML parts as strings, filled from
// msg.Body when it is set, with invalid UTF-8 replaced.
func flatParts(msg *model.Message) (text, html string) {
	text, html = msg.Text, msg.HTML
	if b := msg.Body; b != nil {
		text, html = b.Text.Fill(b.TextValues), b.HTML.Fill(b.HTMLValues)
	}
	return strings.ToValidUTF8(text, "\uFFFD"), strings.ToValidUTF8(html, "\uFFFD")
}

// messageID checks a "<local@domain>" Message-ID and returns it without the
// angle brackets (go-mail adds them).
func messageID(s string) (string, error) {
	id := strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if !validMessageID(id) {
		return "", fmt.Errorf("mailer: %w %q: want <local@domain> on the site's domain", ErrBadMessageID, s)
	}
	return id, nil
}

// boundary derives the multipart boundary from the Message-ID, so output
// is deterministic, and makes sure neither part contains it.
func boundary(id, text, html string) string {
	for i := 0; ; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", id, i))
		b := "herald-" + hex.EncodeToString(sum[:14])
		if !strings.Contains(text, b) && !strings.Contains(html, b) {
			return b
		}
	}
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
// smtp.reply_to), at most a few dozen.
type addrCache struct {
	mu sync.Mutex
	m  map[string]netmail.Address
}

// parse is parseAddress, remembered; a nil cache parses every time.
func (c *addrCache) parse(field, s string) (*netmail.Address, error) {
	if c == nil {
		return parseAddress(field, s)
	}
	key := field + "\x00" + s
	c.mu.Lock()
	a, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return &a, nil
	}
	p, err := parseAddress(field, s)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 64 {
		c.m = map[string]netmail.Address{}
	}
	c.m[key] = *p
	c.mu.Unlock()
	return p, nil
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
	seen := make(map[string]bool, len(hs))
	for _, h := range hs {
		key := strings.ToLower(h.Name)
		switch {
		case !validHeaderName(h.Name):
			return nil, fmt.Errorf("mailer: %w: name %q", ErrBadHeader, h.Name)
		case reserved[key]:
			return nil, fmt.Errorf("mailer: %w: %s is set by the mailer", ErrBadHeader, h.Name)
		case seen[key]:
			return nil, fmt.Errorf("mailer: %w: %s given twice", ErrBadHeader, h.Name)
		case strings.ContainsAny(h.Value, "\r\n"):
			return nil, fmt.Errorf("mailer: %s: %w", h.Name, ErrHeaderInjection)
		case !utf8.ValidString(h.Value) || hasControl(h.Value):
			return nil, fmt.Errorf("mailer: %w: %s value has control characters or invalid UTF-8", ErrBadHeader, h.Name)
		}
		seen[key] = true
		for _, w := range strings.Fields(h.Value) {
			if len(w) > maxWord {
				return nil, fmt.Errorf("mailer: %w: %s has a %d-byte word", ErrBadHeader, h.Name, len(w))
			}
		}
		var v string
		switch {
		case urlListHeaders[key]:
			if !isPrintableASCII(h.Value) {
				return nil, fmt.Errorf("mailer: %w: %s must be ASCII", ErrBadHeader, h.Name)
			}
			v = strings.TrimSpace(h.Value)
		case key == "list-id":
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
