package bounce

import (
	"bufio"
	"io"
	"net/textproto"
	"regexp"
	"strings"

	"github.com/emersion/go-message"
	mtextproto "github.com/emersion/go-message/textproto"
)

// Limits on what one message may make the parser do.
const (
	maxDepth     = 8        // nested multiparts
	maxParts     = 64       // parts visited
	maxTextBytes = 64 << 10 // human-readable text kept
	maxPartBytes = 64 << 10 // one delivery-status or feedback-report part
	maxHdrBytes  = 64 << 10 // the returned message's header
	maxReports   = 100      // reports from one message
)

// parts is what a walk of the MIME tree found.
type parts struct {
	n        int
	dsn      []textproto.MIMEHeader // per-message fields first, then one per recipient, for every delivery-status part
	feedback textproto.MIMEHeader   // the ARF feedback-report fields
	original textproto.MIMEHeader   // the returned message's headers (first one found)
	jmrp     string                 // X-HmXmrOriginalRecipient of an attached message (Microsoft's JMRP)
	text     string                 // the human-readable text (text/plain, else text/html stripped)
	html     string
}

// walk visits e and its parts, depth first, in order. It does not descend
// into attached messages: only their headers are read.
func (p *parts) walk(e *message.Entity, depth int) {
	p.n++
	if p.n > maxParts || depth > maxDepth {
		return
	}
	mt, _, err := e.Header.ContentType()
	if err != nil || mt == "" {
		mt = "text/plain"
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := e.MultipartReader()
		if mr == nil {
			return
		}
		for {
			part, err := mr.NextPart()
			if part == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
				return
			}
			p.walk(part, depth+1)
		}
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		p.dsn = append(p.dsn, readBlocks(e.Body)...)
	case mt == "message/feedback-report":
		if p.feedback == nil {
			if b := readBlocks(e.Body); len(b) > 0 {
				p.feedback = b[0]
			}
		}
	case mt == "message/rfc822" || mt == "message/global" ||
		mt == "text/rfc822-headers" || mt == "message/rfc822-headers" || mt == "message/global-headers":
		p.returned(e.Body)
	case mt == "text/plain":
		if len(p.text) < maxTextBytes {
			p.text += readText(e.Body, maxTextBytes-len(p.text)) + "\n"
		}
	case mt == "text/html":
		if p.html == "" {
			p.html = readText(e.Body, maxTextBytes)
		}
	}
}

// inlineOriginal reads the header of a message a bounce text quotes after
// one of the returnedMarkers (qmail, Exim, Sendmail, Exchange), or returns
// nil.
func inlineOriginal(text string) textproto.MIMEHeader {
	cut := cutReturned(text)
	if len(cut) == len(text) {
		return nil
	}
	rest := text[len(cut):]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[i+1:]
	} else {
		return nil
	}
	rest = strings.TrimLeft(rest, "\r\n")
	var p parts
	p.returned(strings.NewReader(rest))
	if p.original == nil || (p.original.Get("Message-Id") == "" && p.original.Get("From") == "") {
		return nil
	}
	return p.original
}

// returned reads the header of a returned message or of a text/rfc822-headers
// part.
func (p *parts) returned(body io.Reader) {
	h, _ := mtextproto.ReadHeader(bufio.NewReader(io.LimitReader(body, maxHdrBytes)))
	if h.Len() == 0 {
		return
	}
	if v := h.Get("X-Hmxmroriginalrecipient"); v != "" && p.jmrp == "" {
		if a := addresses(v); len(a) > 0 {
			p.jmrp = a[0]
		}
	}
	if p.original != nil {
		return
	}
	p.original = textproto.MIMEHeader{}
	for f := h.Fields(); f.Next(); {
		k := f.Key()
		switch {
		case k == "Message-Id", k == "From", k == "To", k == "Subject", k == "Date", k == "Return-Path",
			strings.HasPrefix(k, "X-"), strings.HasPrefix(k, "List-"):
			p.original.Add(k, f.Value())
		}
	}
}

// readBlocks reads a delivery-status or feedback-report body: blocks of
// header fields separated by blank lines. A malformed line is skipped.
func readBlocks(body io.Reader) []textproto.MIMEHeader {
	br := bufio.NewReader(io.LimitReader(body, maxPartBytes))
	var out []textproto.MIMEHeader
	for {
		// Skip blank lines between blocks.
		for {
			b, err := br.Peek(1)
			if err != nil {
				return out
			}
			if b[0] != '\r' && b[0] != '\n' {
				break
			}
			_, _ = br.ReadByte()
		}
		h, err := mtextproto.ReadHeader(br)
		if h.Len() > 0 {
			out = append(out, textproto.MIMEHeader(h.Map()))
		}
		if err == io.EOF {
			return out
		}
	}
}

// readText reads up to n bytes of a text part.
func readText(body io.Reader, n int) string {
	b, _ := io.ReadAll(io.LimitReader(body, int64(n)))
	return strings.ToValidUTF8(string(b), "")
}

var (
	tagRE    = regexp.MustCompile(`(?s)<(?:style|script)[^>]*>.*?</(?:style|script)>|<br\s*/?>|</?(?:p|div|tr|li|h\d|table)[^>]*>|<[^>]*>`)
	entities = strings.NewReplacer("&nbsp;", " ", "&lt;", "<", "&gt;", ">", "&amp;", "&", "&quot;", `"`, "&#39;", "'")
)

// htmlText reduces HTML to its text, block tags to line breaks: enough to
// find addresses and reasons in an HTML-only bounce.
func htmlText(s string) string {
	s = tagRE.ReplaceAllStringFunc(s, func(t string) string {
		l := strings.ToLower(t)
		if strings.HasPrefix(l, "<br") || strings.HasPrefix(l, "<p") || strings.HasPrefix(l, "</p") ||
			strings.HasPrefix(l, "<div") || strings.HasPrefix(l, "</div") || strings.HasPrefix(l, "<tr") ||
			strings.HasPrefix(l, "<li") || strings.HasPrefix(l, "<h") || strings.HasPrefix(l, "</h") {
			return "\n"
		}
		return " "
	})
	return entities.Replace(s)
}
