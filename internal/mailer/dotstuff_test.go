package mailer

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net/textproto"
	"strings"
	"testing"
)

// TestWriteDotStuffedMatchesDotWriter compares writeDotStuffed with
// net/textproto's DotWriter on hand-picked and random inputs made of the
// bytes that matter (".", "\r", "\n") and text.
func TestWriteDotStuffedMatchesDotWriter(t *testing.T) {
	cases := []string{"", ".", "..", "a", "a\r\n", ".\r\n.\r\n", "a\nb\n", "\r\n", "\n", "\r", "\r\r\n", "\r\r\r\n",
		"x\r\ry", ".a\r\n..b\r\n\r\n.", "line\r\n.dot\nbare\r\rcr\r\n"}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		cases = append(cases, randomString(rnd, ".\r\na", 24))
	}
	for _, c := range cases {
		var want bytes.Buffer
		tw := textproto.NewWriter(bufio.NewWriter(&want))
		dw := tw.DotWriter()
		if _, err := dw.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
		if err := tw.W.Flush(); err != nil { // the data only, not Close's terminator
			t.Fatal(err)
		}
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		if err := writeDotStuffed(bw, []byte(c)); err != nil {
			t.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("%q: got %q, want %q", c, got.String(), want.String())
		}
		// What the connections send of a message with CR-LF line ends, a
		// "." put in before each dotCut, must be what the DotWriter would
		// have written; and only a run of CRs or a bare LF may make a
		// message other than that.
		cuts := dotCuts(nil, []byte(c))
		byCuts := string(appendCut(nil, []byte(c), cuts))
		if crlfOnly([]byte(c)) && byCuts != want.String() {
			t.Fatalf("%q: crlfOnly, cuts %v give %q, but the DotWriter writes %q", c, cuts, byCuts, want.String())
		}
		if !crlfOnly([]byte(c)) && !strings.Contains(c, "\r\r") && !bareLF(c) {
			t.Fatalf("%q: not crlfOnly, though it has no run of CRs and no bare LF", c)
		}
	}
}

// BenchmarkDotStuff writes an 18 KB quoted-printable message as SMTP DATA
// through textproto's DotWriter and through writeDotStuffed.
func BenchmarkDotStuff(b *testing.B) {
	var msg bytes.Buffer
	for msg.Len() < 18<<10 {
		msg.WriteString("<p style=3D\"margin:0 0 6px 0;color:#33322f\">The council met on Tuesday to dis=\r\n")
	}
	raw := msg.Bytes()
	b.Run("textproto", func(b *testing.B) {
		bw := bufio.NewWriterSize(discardWriter{}, 4096)
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			w := textproto.NewWriter(bw).DotWriter()
			_, _ = w.Write(raw)
		}
	})
	b.Run("appendDotStuffed", func(b *testing.B) { // the connections' way: into a reused buffer
		var buf []byte
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			buf = appendDotStuffed(buf[:0], raw)
		}
	})
	b.Run("dotCuts", func(b *testing.B) { // the connections' way for an assembled message: no copy
		var cuts []int
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			cuts = dotCuts(cuts[:0], raw)
		}
	})
	b.Run("dotCuts+appendCut", func(b *testing.B) { // the same, copied (under TLS)
		var cuts []int
		var buf []byte
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			cuts = dotCuts(cuts[:0], raw)
			buf = appendCut(buf[:0], raw, cuts)
		}
	})
	b.Run("writeDotStuffed", func(b *testing.B) {
		bw := bufio.NewWriterSize(discardWriter{}, 4096)
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			_ = writeDotStuffed(bw, raw)
		}
	})
}

// bareLF reports whether s has a "\n" without a "\r" before it.
func bareLF(s string) bool {
	for i := range len(s) {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			return true
		}
	}
	return false
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// TestDataEndMatchesDotWriter: what the pipelined transaction writes for a
// message (all but its last line stuffed, then the last line stuffed and
// dataEnd; or the whole message stuffed and dataEnd, in one write) is what
// go-mail's DotWriter writes, terminator included.
func TestDataEndMatchesDotWriter(t *testing.T) {
	cases := []string{"", ".", "a", "a\r\n", "a\r", "a\r\r", "a\r\r\r", "a\n", "x\r\ny", "x\r\n.", "--b--\r\n"}
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		cases = append(cases, randomString(rnd, ".\r\na", 24))
	}
	for _, c := range cases {
		var want bytes.Buffer
		tw := textproto.NewWriter(bufio.NewWriter(&want))
		dw := tw.DotWriter()
		if _, err := dw.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
		if err := dw.Close(); err != nil {
			t.Fatal(err)
		}
		raw := []byte(c)
		cut := lastLine(raw)
		got := appendDotStuffed(nil, raw[:cut])
		got = appendDotStuffed(got, raw[cut:])
		got = dataEnd(got, raw[cut:])
		if string(got) != want.String() {
			t.Fatalf("%q: got %q, want %q", c, got, want.String())
		}
		// In one piece, as a pipelined message goes.
		whole := dataEnd(appendDotStuffed(nil, raw), raw[cut:])
		if string(whole) != want.String() {
			t.Fatalf("%q in one write: got %q, want %q", c, whole, want.String())
		}
	}
}

// What a connection does with each message's bytes, finding the last line
// and stuffing into its reused buffer, allocates nothing once the buffer
// has grown: a copy of the message here once made 61% of all that
// send-now allocated.
func TestLastLineCopiesNothing(t *testing.T) {
	raw := bytes.Repeat([]byte("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n"), 400)
	raw = append(raw, ".last line"...)
	var buf []byte
	allocs := testing.AllocsPerRun(100, func() {
		cut := lastLine(raw)
		buf = appendDotStuffed(buf[:0], raw[:cut])
		buf = dataEnd(appendDotStuffed(buf[:0], raw[cut:]), raw[cut:])
	})
	if allocs != 0 {
		t.Errorf("%v allocations a message", allocs)
	}
	if got, want := lastLine(raw), len(raw)-len(".last line"); got != want {
		t.Errorf("lastLine = %d, want %d", got, want)
	}
	for raw, want := range map[string]int{"": 0, "\n": 0, "a\r\n": 0, "a\r\nb": 3, "a\r\nb\r\n": 3, "\n\n": 1} {
		if got := lastLine([]byte(raw)); got != want {
			t.Errorf("lastLine(%q) = %d, want %d", raw, got, want)
		}
	}
}
