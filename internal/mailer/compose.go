package mailer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"time"

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
	fromStr, replyStr string // from and replyTo as header values
	subject           string // encoded
	date              time.Time
	extra             []model.Header // validated names, encoded values
	// crlf: every line of the assembled message ends in CR-LF after a
	// byte other than CR, so dot-stuffing it only puts a "." in front of
	// each line that starts with one; cuts are where those lines begin.
	// assemble sets both.
	crlf bool
	cuts []int
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
	if c.from, c.fromStr, err = addrs.parse("From", msg.From); err != nil {
		return nil, err
	}
	if c.to, err = parseBareAddress(string(msg.ToAddr)); err != nil {
		return nil, err
	}
	c.to.Name = cleanName(msg.ToName)
	if msg.ReplyTo != "" {
		if c.replyTo, c.replyStr, err = addrs.parse("Reply-To", msg.ReplyTo); err != nil {
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
