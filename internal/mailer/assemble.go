package mailer

import (
	"bytes"
	"fmt"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wneessen/go-mail"

	"github.com/heraldnews/herald/internal/model"
)

// The hand assembler: the bytes go-mail's composer (compose, WriteTo and
// DKIM signing) writes for a message, written without it. Per message
// go-mail builds a Msg, sorts and folds its headers, and quoted-printable
// encodes both parts a byte at a time; here the headers are written
// straight into the send buffer and the parts are copied from their
// per-template encoding (qp.go), with only the lines that hold a
// recipient's values encoded per message. TestAssembleMatchesGoMail proves
// the output identical, byte for byte, to compose's over thousands of
// hostile recipients, with and without DKIM; the golden files pin both.
//
// What go-mail does and this copies (go-mail v0.8.1, msgwriter.go):
//   - the generic headers sorted by name, each value passed through
//     mime.QEncoding with charset "UTF-8" (a no-op for the ASCII values
//     check produces) and folded by writeHeader;
//   - then From, To, Reply-To (net/mail's Address.String);
//   - a single part: Content-Transfer-Encoding and Content-Type headers, a
//     blank line, the encoded text; two parts: a multipart/alternative
//     Content-Type with the boundary on a continuation line, a blank line,
//     then the parts as mime/multipart writes them;
//   - DKIM: the signature of the headers and body (split at the first
//     blank line) prepended, then folded by foldSignature.

// assemble writes msg into buf as compose + WriteTo + foldSignature would,
// and returns its checked header values, with where its lines that start
// with "." begin appended to cuts[:0] (a slice kept from the last message,
// or nil).
func assemble(buf *bytes.Buffer, cuts []int, msg *model.Message, o composeOptions, lines *lineCache) (*checked, error) {
	c, err := check(msg, o.now, o.addrs)
	if err != nil {
		return nil, err
	}
	text, html := assembleParts(msg, lines)
	start := buf.Len()
	var room [12]model.Header // a digest's headers, on the stack
	hdr := append(room[:0], model.Header{Name: "Date", Value: c.date.Format(time.RFC1123Z)},
		model.Header{Name: "MIME-Version", Value: "1.0"},
		model.Header{Name: "Message-ID", Value: "<" + c.id + ">"},
		model.Header{Name: "Subject", Value: c.subject})
	hdr = append(hdr, c.extra...)
	// Names are distinct (check refuses a name given twice or one the
	// mailer sets), so any sort gives go-mail's order.
	slices.SortFunc(hdr, func(a, b model.Header) int { return strings.Compare(a.Name, b.Name) })
	for _, h := range hdr {
		writeHeader(buf, h.Name, mime.QEncoding.Encode("UTF-8", h.Value))
	}
	writeHeader(buf, "From", c.fromStr)
	writeHeader(buf, "To", c.to.String())
	if c.replyTo != nil {
		writeHeader(buf, "Reply-To", c.replyStr)
	}
	// A single part's headers (writeHeader, unfolded at this length) and a
	// part's headers in a multipart (sorted by mime/multipart) are the
	// same two lines.
	c.cuts = cuts[:0]
	switch {
	case html.empty():
		c.cuts = text.write(buf, "text/plain", c.cuts, start)
	case text.empty():
		c.cuts = html.write(buf, "text/html", c.cuts, start)
	default:
		b := partsBoundary(c.id, text, html)
		writeAll(buf, "Content-Type: multipart/alternative;\r\n boundary=", b, "\r\n\r\n--", b, "\r\n")
		c.cuts = text.write(buf, "text/plain", c.cuts, start)
		writeAll(buf, "\r\n--", b, "\r\n")
		c.cuts = html.write(buf, "text/html", c.cuts, start)
		writeAll(buf, "\r\n--", b, "--\r\n")
	}
	// Every other line starts with a header name (validHeaderName: a
	// letter or digit), a folding space, "--" or a part's fixed headers,
	// and every line ends in CR-LF after a byte other than CR: header
	// values hold no CR or LF, and the encoder writes CR-LF only. So
	// dot-stuffing the message only puts a "." in front of the lines of
	// the parts that start with one, which the encoder noted (c.cuts). A
	// DKIM signature's folding is go-mail's: that message is searched.
	c.crlf = true
	if o.signer != nil {
		if err := sign(buf, start, o.signer.signer(msg.Headers, o.now)); err != nil {
			return nil, err
		}
		raw := buf.Bytes()[start:]
		c.crlf, c.cuts = crlfOnly(raw), dotCuts(c.cuts[:0], raw)
	}
	return c, nil
}

// writeAll writes each of ss to buf (no concatenated copy).
func writeAll(buf *bytes.Buffer, ss ...string) {
	for _, s := range ss {
		buf.WriteString(s)
	}
}

// writeHeader is go-mail's msgWriter.writeHeader for one value: the value
// split at spaces, a line broken before a word that would take it to 76
// characters, and the space before each break dropped (go-mail builds the
// line and then replaces " \r\n" with "\r\n"; header values never hold a
// line break of their own, so dropping the one space before each break
// it adds is the same).
func writeHeader(buf *bytes.Buffer, key, value string) {
	charLength := 76 - 2 - len(key) - 2
	buf.WriteString(key)
	buf.WriteString(": ")
	for {
		w, rest, more := strings.Cut(value, " ")
		if charLength-len(w) <= 1 {
			if b := buf.Bytes(); b[len(b)-1] == ' ' {
				buf.Truncate(buf.Len() - 1)
			}
			buf.WriteString("\r\n ")
			charLength = 76 - 3
		}
		buf.WriteString(w)
		charLength -= len(w)
		if !more {
			break
		}
		buf.WriteByte(' ')
		charLength--
		value = rest
	}
	buf.WriteString("\r\n")
}

// bodyPart is one part to write: its template and values, or flat text.
type bodyPart struct {
	tmpl   *model.Template
	values []string
	enc    *encodedPart
	flat   string
}

// assembleParts returns msg's parts, using the shared templates of
// msg.Body when every piece and value is valid UTF-8 (otherwise the text
// is filled and cleaned as compose does).
func assembleParts(msg *model.Message, lines *lineCache) (text, html bodyPart) {
	b := msg.Body
	if b == nil {
		t, h := flatParts(msg)
		return bodyPart{flat: t}, bodyPart{flat: h}
	}
	text = templatePart(b.Text, b.TextValues, lines)
	html = templatePart(b.HTML, b.HTMLValues, lines)
	return text, html
}

func templatePart(t *model.Template, values []string, lines *lineCache) bodyPart {
	if t == nil {
		return bodyPart{}
	}
	enc := t.Memo(func(t *model.Template) any { return prepare(t, lines) }).(*encodedPart)
	ok := enc.valid
	for _, v := range values {
		ok = ok && utf8.ValidString(v)
	}
	if !ok {
		return bodyPart{flat: strings.ToValidUTF8(t.Fill(values), "\uFFFD")}
	}
	return bodyPart{tmpl: t, values: values, enc: enc}
}

func (p bodyPart) empty() bool {
	if p.tmpl == nil {
		return p.flat == ""
	}
	return filledLen(p.tmpl, p.values) == 0
}

func (p bodyPart) String() string {
	if p.tmpl == nil {
		return p.flat
	}
	return p.tmpl.Fill(p.values)
}

// writeQP writes the part's encoding, and appends to cuts where its
// lines that start with "." begin in the message that starts at
// buf.Bytes()[start].
func (p bodyPart) writeQP(buf *bytes.Buffer, cuts []int, start int) []int {
	n, at := len(cuts), buf.Len()-start
	var enc []byte
	if p.tmpl == nil {
		enc, cuts = qpString(p.flat, cuts)
	} else {
		enc, cuts = p.enc.encode(buf.AvailableBuffer(), p.values, cuts)
	}
	buf.Write(enc)
	for i := n; i < len(cuts); i++ {
		cuts[i] += at
	}
	return cuts
}

// write writes the part's MIME headers, a blank line and its encoding
// (writeQP, which appends to cuts).
func (p bodyPart) write(buf *bytes.Buffer, contentType string, cuts []int, start int) []int {
	writeAll(buf, "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: ", contentType, "; charset=UTF-8\r\n\r\n")
	return p.writeQP(buf, cuts, start)
}

// sign puts the DKIM-Signature of the message in buf[start:] in front of
// it, as go-mail's WriteTo does, folded as foldSignature folds it.
func sign(buf *bytes.Buffer, start int, s *mail.DKIMSigner) error {
	raw := buf.Bytes()[start:]
	headers, body := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		headers, body = raw[:i+2], raw[i+4:]
	}
	line, err := s.Sign(headers, body)
	if err != nil {
		return fmt.Errorf("mailer: write message: failed to DKIM sign message: %w", err)
	}
	sig := foldSignatureLine([]byte(line))
	n := len(sig)
	buf.Write(sig) // grows buf by n; the bytes are moved into place below
	b := buf.Bytes()
	copy(b[start+n:], b[start:len(b)-n])
	copy(b[start:], sig)
	return nil
}

// partsBoundary is boundary(id, text, html) without filling the parts when
// neither can contain a candidate.
func partsBoundary(id string, text, html bodyPart) string {
	if !text.mayContainBoundary() && !html.mayContainBoundary() {
		return boundary(id, "", "")
	}
	return boundary(id, text.String(), html.String())
}

func (p bodyPart) mayContainBoundary() bool {
	if p.tmpl == nil {
		return strings.Contains(p.flat, "herald-")
	}
	return canContainBoundary(p.enc, p.values)
}
