package mailer

import (
	"bufio"
	"bytes"
)

// appendDotStuffed appends p as SMTP DATA content exactly as net/textproto's
// DotWriter would write it (a leading "." on a line doubled, a "\n" not
// ending a CR-LF pair written as "\r\n"), but a line at a time instead of a
// byte at a time: the DotWriter's per-byte bufio.WriteByte was 18% of
// send-now's CPU (docs/benchmarks.md). p starts at the beginning of a
// line. The connection then writes the whole message in one system call.
//
// Lines that need nothing (every line of an assembled message but one
// starting with ".": its line ends are all CR-LF) are not copied one by
// one: a run of them is appended in one copy when a line needs a change,
// and at the end. Per line that leaves a search for its "\n".
func appendDotStuffed(dst, p []byte) []byte {
	from := 0 // p[from:line] is written as it is and not yet appended
	for line := 0; line < len(p); {
		if p[line] == '.' {
			dst = append(append(dst, p[from:line]...), '.')
			from = line
		}
		i := bytes.IndexByte(p[line:], '\n')
		if i < 0 {
			break
		}
		i += line
		// The DotWriter pairs a "\n" with the "\r" before it only when that
		// "\r" did not itself follow a paired "\r": an odd run of "\r".
		crs := 0
		for crs < i-line && p[i-1-crs] == '\r' {
			crs++
		}
		if crs%2 == 0 {
			dst = append(append(dst, p[from:i]...), '\r', '\n')
			from = i + 1
		}
		line = i + 1
	}
	return append(dst, p[from:]...)
}

// crlfOnly reports whether every "\n" in p ends a CR-LF pair after a
// byte other than "\r": then appendDotStuffed changes p only by doubling
// the dots that start its lines (a longer run of "\r" is left to
// appendDotStuffed, whose rule for it is the DotWriter's). An assembled
// message's line ends are all such (assemble); a DKIM-signed one is
// searched with this.
func crlfOnly(p []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			return true
		}
		i += j
		if i == 0 || p[i-1] != '\r' || i >= 2 && p[i-2] == '\r' {
			return false
		}
		i++
	}
}

// nlDot is the start of a line that starts with ".".
var nlDot = []byte("\n.")

// dotCuts appends to cuts where each line of p that starts with "."
// begins. For p whose line ends are all CR-LF (crlfOnly) these are the
// only places dot-stuffing changes it: a "." goes in front of each. One
// vectorised search for "\n." instead of a search for each line's end:
// an assembled digest has a line starting with "." almost always (its
// links break before ".com"), so appendDotStuffed's walk over every line
// was most of the cost of stuffing (docs/benchmarks.md).
func dotCuts(cuts []int, p []byte) []int {
	if len(p) > 0 && p[0] == '.' {
		cuts = append(cuts, 0)
	}
	for i := 0; ; {
		j := bytes.Index(p[i:], nlDot)
		if j < 0 {
			return cuts
		}
		i += j + 1
		cuts = append(cuts, i)
	}
}

// appendCut appends p with a "." in front of each of cuts (dotCuts):
// appendDotStuffed's result for p whose line ends are all CR-LF.
func appendCut(dst, p []byte, cuts []int) []byte {
	from := 0
	for _, c := range cuts {
		dst = append(append(dst, p[from:c]...), '.')
		from = c
	}
	return append(dst, p[from:]...)
}

// writeDotStuffed writes p as appendDotStuffed would append it.
func writeDotStuffed(w *bufio.Writer, p []byte) error {
	_, err := w.Write(appendDotStuffed(nil, p))
	return err
}

// lastLine is where raw's last line starts: after the last line end that
// is not raw's final byte, else 0. The connections write everything
// before it stuffed and the last line with the end of data (dataEnd). It
// reads raw in place: a string conversion here once copied every message,
// 61% of all that send-now allocated (TestLastLineCopiesNothing).
func lastLine(raw []byte) int {
	return bytes.LastIndexByte(raw[:max(len(raw)-1, 0)], '\n') + 1
}
