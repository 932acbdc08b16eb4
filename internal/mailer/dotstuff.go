package mailer

import (
	"bufio"
	"bytes"
)

// writeDotStuffed writes p as SMTP DATA content exactly as net/textproto's
// DotWriter would (a leading "." on a line doubled, a "\n" not ending a
// CR-LF pair written as "\r\n"), but a line at a time instead of a byte at
// a time: the DotWriter's per-byte bufio.WriteByte was 18% of send-now's
// CPU (docs/benchmarks.md). p starts at the beginning of a line.
func writeDotStuffed(w *bufio.Writer, p []byte) error {
	for len(p) > 0 {
		if p[0] == '.' {
			if err := w.WriteByte('.'); err != nil {
				return err
			}
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			_, err := w.Write(p)
			return err
		}
		// The DotWriter pairs a "\n" with the "\r" before it only when that
		// "\r" did not itself follow a paired "\r": an odd run of "\r".
		crs := 0
		for crs < i && p[i-1-crs] == '\r' {
			crs++
		}
		if crs%2 == 1 {
			if _, err := w.Write(p[:i+1]); err != nil {
				return err
			}
		} else {
			if _, err := w.Write(p[:i]); err != nil {
				return err
			}
			if _, err := w.WriteString("\r\n"); err != nil {
				return err
			}
		}
		p = p[i+1:]
	}
	return nil
}
