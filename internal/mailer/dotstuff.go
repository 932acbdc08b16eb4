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
func appendDotStuffed(dst, p []byte) []byte {
	for len(p) > 0 {
		if p[0] == '.' {
			dst = append(dst, '.')
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return append(dst, p...)
		}
		// The DotWriter pairs a "\n" with the "\r" before it only when that
		// "\r" did not itself follow a paired "\r": an odd run of "\r".
		crs := 0
		for crs < i && p[i-1-crs] == '\r' {
			crs++
		}
		if crs%2 == 1 {
			dst = append(dst, p[:i+1]...)
		} else {
			dst = append(append(dst, p[:i]...), '\r', '\n')
		}
		p = p[i+1:]
	}
	return dst
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
