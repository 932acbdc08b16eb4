package mailer

import (
	"bytes"
	"math/rand/v2"
	"mime/quotedprintable"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

// stdQP is what go-mail writes: the standard library's Writer.
func stdQP(s string) []byte {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

// qpAlphabet favours the bytes that matter to the encoder: line ends,
// white space, "=", bytes it must encode, and plain letters.
const qpAlphabet = "ab.= \t\r\n\r\n\x00\x7f\xc3\xa9?-"

func randQP(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		switch rng.IntN(8) {
		case 0, 1:
			b[i] = byte('a' + rng.IntN(26))
		case 2:
			b[i] = byte(rng.IntN(256))
		default:
			b[i] = qpAlphabet[rng.IntN(len(qpAlphabet))]
		}
	}
	// Some long runs, so soft breaks land everywhere.
	if rng.IntN(3) == 0 {
		at := rng.IntN(len(b) + 1)
		run := bytes.Repeat([]byte{"x= \xe2"[rng.IntN(4)]}, rng.IntN(200))
		b = append(b[:at], append(run, b[at:]...)...)
	}
	return string(b)
}

func TestQPMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		s := randQP(rng, rng.IntN(300))
		got, dots := qpString(s, nil)
		if want := stdQP(s); !bytes.Equal(got, want) {
			t.Fatalf("case %d %q:\n got %q\nwant %q", i, s, got, want)
		}
		if want := dotCuts(nil, got); !slices.Equal(dots, want) {
			t.Fatalf("case %d %q: lines starting with \".\" at %v, want %v:\n%q", i, s, dots, want, got)
		}
	}
}

func FuzzQP(f *testing.F) {
	f.Add("plain text\nwith lines\r\nand = signs \t\n")
	f.Add("a\r=\nb")
	f.Fuzz(func(t *testing.T, s string) {
		got, dots := qpString(s, nil)
		if want := stdQP(s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %q\nwant %q", s, got, want)
		}
		if want := dotCuts(nil, got); !slices.Equal(dots, want) {
			t.Fatalf("%q: lines starting with \".\" at %v, want %v", s, dots, want)
		}
	})
}

// TestTemplateEncoding cuts random texts into literal pieces (some at
// line ends, as the digest cuts them, some anywhere) and slots, and checks
// that the prepared encoding with values equals the standard Writer's
// encoding of the filled text, with the line cache shared across cases.
func TestTemplateEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	lines := newLineCache(1 << 16) // small: its generations turn over often
	for i := range 20000 {
		tmpl := &model.Template{}
		var values []string
		for range rng.IntN(8) + 1 {
			if rng.IntN(3) == 0 {
				values = append(values, randQP(rng, rng.IntN(40)))
				tmpl.Pieces = append(tmpl.Pieces, model.Piece{Slot: len(values)})
				continue
			}
			s := randQP(rng, rng.IntN(200))
			for s != "" {
				// cut at a line end or anywhere
				n := rng.IntN(len(s)) + 1
				if j := bytes.IndexByte([]byte(s[:n]), '\n'); j >= 0 && rng.IntN(2) == 0 {
					n = j + 1
				}
				tmpl.Pieces = append(tmpl.Pieces, model.Piece{Text: s[:n]})
				s = s[n:]
			}
		}
		p := prepare(tmpl, lines)
		// Behind a prefix, as a part is encoded behind its message's
		// headers: the dots are indices in what encode returns.
		prefix := []byte("headers\r\n\r\n")
		got, dots := p.encode(slices.Clip(prefix), values, []int{1})
		want := append(slices.Clip(prefix), stdQP(tmpl.Fill(values))...)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d: pieces %+v values %q:\n got %q\nwant %q", i, tmpl.Pieces, values, got, want)
		}
		if want := append([]int{1}, dotCuts(nil, got)...); !slices.Equal(dots, want) {
			t.Fatalf("case %d: pieces %+v values %q: lines starting with \".\" at %v, want %v:\n%q", i, tmpl.Pieces, values, dots, want, got)
		}
		if filledLen(tmpl, values) != len(tmpl.Fill(values)) {
			t.Fatalf("case %d: filledLen", i)
		}
	}
}

// heraldText is up to n bytes from alphabet with prefixes of "herald-"
// (the whole of it among them) planted at random.
func heraldText(rng *rand.Rand, n int, alphabet string) []byte {
	const word = "herald-"
	var text []byte
	for range rng.IntN(n) {
		if rng.IntN(4) == 0 {
			text = append(text, word[:rng.IntN(len(word)+1)]...)
		}
		text = append(text, alphabet[rng.IntN(len(alphabet))])
	}
	return text
}

// TestCanContainBoundary checks the quick test against a search of the
// filled text, with "herald-" planted across piece and value edges.
func TestCanContainBoundary(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	word := "herald-"
	for i := range 20000 {
		text := heraldText(rng, 30, "xyzherald")
		// Cut the text into literal pieces and values at random points.
		tmpl := &model.Template{}
		var values []string
		for s := string(text); s != ""; {
			n := rng.IntN(len(s)) + 1
			if rng.IntN(3) == 0 {
				values = append(values, s[:n])
				tmpl.Pieces = append(tmpl.Pieces, model.Piece{Slot: len(values)})
			} else {
				tmpl.Pieces = append(tmpl.Pieces, model.Piece{Text: s[:n]})
			}
			s = s[n:]
		}
		p := prepare(tmpl, newLineCache(1<<10))
		has := bytes.Contains(text, []byte(word))
		if got := canContainBoundary(p, values); has && !got {
			t.Fatalf("case %d: %q holds %q but the check says it cannot (pieces %+v)", i, text, word, tmpl.Pieces)
		}
	}
}

// TestValidatorsMatchRegexps: the hand-written checks accept exactly what
// the expressions they replaced accept.
func TestValidatorsMatchRegexps(t *testing.T) {
	nameRE := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,75}$`)
	idRE := regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}@[A-Za-z0-9.-]{1,253}$")
	rng := rand.New(rand.NewPCG(7, 7))
	const alphabet = "aZ09-.@!#$%&'*+/=?^_`{|}~ <>\"\r\n\x00\xc3\xa9:"
	for i := range 200000 {
		n := rng.IntN(12)
		if i%50 == 0 {
			n = 70 + rng.IntN(400)
		}
		b := make([]byte, n)
		for k := range b {
			b[k] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		if validHeaderName(s) != nameRE.MatchString(s) {
			t.Fatalf("header name %q: hand %v, regexp %v", s, validHeaderName(s), nameRE.MatchString(s))
		}
		if validMessageID(s) != idRE.MatchString(s) {
			t.Fatalf("message id %q: hand %v, regexp %v", s, validMessageID(s), idRE.MatchString(s))
		}
	}
}

// TestRunEdgesMatchCopy: following a run piece by piece gives what the
// whole run, copied, gives: whether it holds "herald-", and its edge.
func TestRunEdgesMatchCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	word := "herald-"
	for i := range 50000 {
		text := heraldText(rng, 40, "xyzherald-\x00é")
		var r runEdges
		for s := string(text); s != ""; {
			n := rng.IntN(min(len(s), 1+rng.IntN(20))) + 1
			r.add(s[:n])
			s = s[n:]
		}
		s := string(text)
		want := s
		if len(s) > 12 {
			want = s[:6] + "\x00" + s[len(s)-6:]
		}
		if got := r.edge(); got != want {
			t.Fatalf("case %d: %q: edge %q, want %q", i, s, got, want)
		}
		if got, want := r.herald, strings.Contains(s, word); got != want {
			t.Fatalf("case %d: %q: herald %v, want %v", i, s, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		var r runEdges
		r.add("a line of an article's block\n")
		r.add("and the next\n")
	}); n != 0 {
		t.Errorf("following a run allocates %v times, want 0", n)
	}
}
