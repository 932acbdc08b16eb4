package mailer

import (
	"bytes"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/heraldnews/herald/internal/gencache"
	"github.com/heraldnews/herald/internal/model"
)

// Quoted-printable, as go-mail writes it (mime/quotedprintable.Writer),
// but able to start from a saved state and to reuse the encoding of text
// that many messages share.
//
// The standard Writer is a state machine over bytes: the column in the
// current output line and whether the last byte was a CR. Its output for
// a byte depends only on that state, and after an LF the state is almost
// always the same (column 0, no CR). So the encoding of literal text from
// just after an LF up to and including a later LF is computed once per
// template (and once per distinct line, see lineCache) and copied into
// every message whose encoder is in that state there; only a line that
// holds a per-recipient value is encoded per message. The one exception
// is the Writer's oddity that an encoded byte after a CR leaves the CR
// state set, so "\r=\n" swallows the LF and ends at column 3: a chunk
// records the column it ends at, and a message whose encoder is not at
// column 0 without a CR when a chunk starts encodes that chunk's text
// instead. TestQPMatchesStdlib and FuzzQP compare qpEncoder, and
// templates split at every position, with the standard Writer byte for
// byte.

// qpMaxCol is the column at which the standard Writer breaks a line
// (lineMaxLen-1: 75 characters and the soft break's "=").
const qpMaxCol = 75

// qpEncoder appends quoted-printable to out.
type qpEncoder struct {
	out []byte
	col int  // bytes in the current output line
	cr  bool // the last byte written through the line path was a CR
	// dots are where the lines of out that start with "." begin (indices
	// in out): the only places SMTP's dot-stuffing changes an assembled
	// message (dotCuts), noted here so no connection searches for them.
	dots []int
}

// write encodes s.
func (e *qpEncoder) write(s string) {
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= '!' && b <= '~' && b != '=' || b == ' ' || b == '\t':
			if e.col == qpMaxCol {
				e.out = append(e.out, '=', '\r', '\n')
				e.col = 0
			}
			if e.col == 0 && b == '.' {
				e.dots = append(e.dots, len(e.out))
			}
			e.out = append(e.out, b)
			e.col++
			e.cr = false
		case b == '\n' || b == '\r':
			if e.cr && b == '\n' {
				e.cr = false
				continue
			}
			if b == '\r' {
				e.cr = true
			}
			e.checkLastByte()
			e.out = append(e.out, '\r', '\n')
			e.col = 0
		default:
			e.encode(b)
		}
	}
}

func (e *qpEncoder) encode(b byte) {
	if qpMaxCol-e.col < 3 {
		e.out = append(e.out, '=', '\r', '\n')
		e.col = 0
	}
	e.out = append(e.out, '=', upperhex[b>>4], upperhex[b&0x0f])
	e.col += 3
}

const upperhex = "0123456789ABCDEF"

// checkLastByte encodes a space or tab that ends a line.
func (e *qpEncoder) checkLastByte() {
	if e.col == 0 {
		return
	}
	if b := e.out[len(e.out)-1]; b == ' ' || b == '\t' {
		e.out = e.out[:len(e.out)-1]
		e.col--
		e.encode(b)
	}
}

// close ends the text as the standard Writer's Close does.
func (e *qpEncoder) close() { e.checkLastByte() }

// qpString encodes s in one go, and appends to dots where the lines of
// the encoding that start with "." begin.
func qpString(s string, dots []int) ([]byte, []int) {
	e := qpEncoder{out: make([]byte, 0, len(s)+len(s)/8), dots: dots}
	e.write(s)
	e.close()
	return e.out, e.dots
}

// encodedPart is a template's literal text prepared for encoding: runs of
// whole lines already encoded, the rest to be encoded per message.
type encodedPart struct {
	chunks []chunk
	valid  bool // every literal piece is valid UTF-8
	// herald reports literal text containing "herald-", the start of
	// every multipart boundary; slots and edges are what
	// canContainBoundary needs besides (see there).
	herald bool
	slots  []int
	edges  []string
}

// chunk is pre-encoded whole lines (lines, shared through the lineCache,
// with text their source), literal text that shares a line with a value
// (text, encoded per message), or a value (slot > 0).
type chunk struct {
	lines *encodedLines
	text  string
	slot  int32
}

// encodedLines is the encoding of whole lines, the column it ends at,
// and where its lines that start with "." begin.
type encodedLines struct {
	enc  []byte
	col  int
	dots []int32
}

// lineCache shares the encoding of identical literal text between
// templates: the digest cuts parts at line ends and interns the lines, so
// the same article block or footer line in two article sets is one string
// and one encoding. It is bounded and keeps what is asked for again
// (gencache): when every message has its own article set, most of its
// lines are its own and only the article blocks repeat.
type lineCache struct {
	mu sync.Mutex
	m  *gencache.Map[*encodedLines]
}

func newLineCache(max int) *lineCache { return &lineCache{m: gencache.New[*encodedLines](max)} }

// encode returns the encoding of s, which ends with an LF, from the state
// after an LF.
func (c *lineCache) encode(s string) *encodedLines {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.m.Get(s); ok {
		return l
	}
	e := qpEncoder{out: make([]byte, 0, len(s)+len(s)/8)}
	e.write(s)
	l := &encodedLines{enc: e.out, col: e.col}
	for _, d := range e.dots {
		l.dots = append(l.dots, int32(d))
	}
	c.m.Put(s, l, len(s)+len(l.enc)+4*len(l.dots)) // the key may be all that holds s
	return l
}

// prepare splits t's pieces into chunks.
func prepare(t *model.Template, lines *lineCache) *encodedPart {
	p := &encodedPart{valid: true}
	var run runEdges // literal text since the last slot
	endRun := func() {
		p.herald = p.herald || run.herald
		p.edges = append(p.edges, run.edge())
		run = runEdges{}
	}
	atLineStart := true // the encoder's state is the one after an LF
	for _, pc := range t.Pieces {
		if pc.Slot > 0 {
			endRun()
			p.slots = append(p.slots, pc.Slot)
			p.chunks = append(p.chunks, chunk{slot: int32(pc.Slot)})
			atLineStart = false
			continue
		}
		s := pc.Text
		run.add(s)
		if !utf8.ValidString(s) {
			p.valid = false
		}
		if !atLineStart {
			nl := strings.IndexByte(s, '\n')
			if nl < 0 {
				p.appendLive(s)
				continue
			}
			p.appendLive(s[:nl+1])
			s, atLineStart = s[nl+1:], true
		}
		last := strings.LastIndexByte(s, '\n')
		if last >= 0 {
			p.chunks = append(p.chunks, chunk{lines: lines.encode(s[:last+1]), text: s[:last+1]})
		}
		if rest := s[last+1:]; rest != "" {
			p.appendLive(rest)
			atLineStart = false
		}
	}
	endRun()
	return p
}

// runEdges follows a run of literal text, piece by piece, for
// canContainBoundary without copying it: whether it holds "herald-", and
// its edge (the run itself up to 12 bytes, else its first and last 6
// bytes with a NUL between). Where every message has its own template, a
// copy of each run was a seventh of all that send-now allocated.
type runEdges struct {
	n      int
	head   [12]byte // the first 12 bytes
	tail   [6]byte  // the last 6 bytes (ntail of them)
	ntail  int
	herald bool
}

func (r *runEdges) add(s string) {
	var seam [12]byte // the run's last bytes and s's first: "herald-" across pieces
	k := copy(seam[:], r.tail[:r.ntail])
	k += copy(seam[k:], s)
	r.herald = r.herald || strings.Contains(s, "herald-") || bytes.Contains(seam[:k], []byte("herald-"))
	if r.n < len(r.head) {
		copy(r.head[r.n:], s)
	}
	r.n += len(s)
	if len(s) >= len(r.tail) {
		r.ntail = copy(r.tail[:], s[len(s)-len(r.tail):])
	} else {
		r.ntail = copy(r.tail[:], seam[max(0, k-len(r.tail)):k])
	}
}

func (r *runEdges) edge() string {
	if r.n <= len(r.head) {
		return string(r.head[:r.n])
	}
	return string(r.head[:6]) + "\x00" + string(r.tail[:])
}

func (p *encodedPart) appendLive(s string) {
	if n := len(p.chunks); n > 0 && p.chunks[n-1].lines == nil && p.chunks[n-1].slot == 0 {
		p.chunks[n-1].text += s
		return
	}
	p.chunks = append(p.chunks, chunk{text: s})
}

// encode appends the part's encoding with values to out, and to dots
// where its lines that start with "." begin (indices in the out returned).
func (p *encodedPart) encode(out []byte, values []string, dots []int) ([]byte, []int) {
	e := qpEncoder{out: out, dots: dots}
	for _, c := range p.chunks {
		switch {
		case c.lines != nil && e.col == 0 && !e.cr:
			for _, d := range c.lines.dots {
				e.dots = append(e.dots, len(e.out)+int(d))
			}
			e.out = append(e.out, c.lines.enc...)
			e.col = c.lines.col
		case c.slot > 0:
			if int(c.slot) <= len(values) {
				e.write(values[c.slot-1])
			}
		default: // live text, or lines after the CR oddity
			e.write(c.text)
		}
	}
	e.close()
	return e.out, e.dots
}

// filledLen is the length of the part filled with values.
func filledLen(t *model.Template, values []string) int {
	n := 0
	for _, pc := range t.Pieces {
		switch {
		case pc.Slot == 0:
			n += len(pc.Text)
		case pc.Slot <= len(values):
			n += len(values[pc.Slot-1])
		}
	}
	return n
}

// canContainBoundary reports whether the part filled with values might
// contain a string starting with "herald-". When it cannot, no derived
// boundary can occur in the part and the boundary is the first candidate,
// as boundary() would find. Literal text is checked once per template
// (p.herald); per message the check builds a short string of every value
// whole and, between values, the literal text a 7-byte match could reach
// into: a run of up to 12 bytes whole, a longer one as its first and last
// 6 bytes with a NUL between (which "herald-" cannot span).
func canContainBoundary(p *encodedPart, values []string) bool {
	if p.herald {
		return true
	}
	var buf [512]byte
	b := append(buf[:0], p.edges[0]...)
	for i, slot := range p.slots {
		if slot <= len(values) {
			b = append(b, values[slot-1]...)
		}
		b = append(b, p.edges[i+1]...)
	}
	return bytes.Contains(b, []byte("herald-"))
}
