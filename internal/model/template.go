package model

import (
	"strings"
	"sync"
)

// Template is a message part cut at the values that differ per recipient: a
// sequence of pieces, each literal text or a slot for one of a message's
// values. The digest renders a part once per article set as a Template and
// every message of that set points at the same one, so whatever depends
// only on the literal text (the mailer's quoted-printable encoding of it)
// is done once per template, not once per message. A Template is read-only
// once built and safe for concurrent use.
type Template struct {
	Pieces []Piece

	memoOnce sync.Once
	memo     any
}

// Piece is literal text (Slot 0) or the message's value number Slot-1.
type Piece struct {
	Text string
	Slot int
}

// Fill returns the text with values in the slots; a slot without a value
// is empty.
func (t *Template) Fill(values []string) string {
	if t == nil {
		return ""
	}
	n := 0
	for _, p := range t.Pieces {
		n += len(p.Text)
	}
	for _, v := range values {
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range t.Pieces {
		if p.Slot == 0 {
			b.WriteString(p.Text)
		} else if p.Slot <= len(values) {
			b.WriteString(values[p.Slot-1])
		}
	}
	return b.String()
}

// Memo returns what build returned for t, calling it once per template:
// the mailer keeps its encoding of the literal text there, so that work
// lives exactly as long as the template does.
func (t *Template) Memo(build func(*Template) any) any {
	t.memoOnce.Do(func() { t.memo = build(t) })
	return t.memo
}

// Body is a message's text and HTML parts as shared templates with this
// message's values: Text.Fill(TextValues) is the text part, and the same
// for HTML. A nil template is an empty part.
type Body struct {
	Text, HTML             *Template
	TextValues, HTMLValues []string
}
