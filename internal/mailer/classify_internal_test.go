package mailer

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestEnhancedCodeMatchesRegexp compares the hand-read enhancedCode with
// the expression it replaced, on hand-picked replies and random ones made
// of the bytes that matter.
func TestEnhancedCodeMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)`)
	want := func(code int, text string) string {
		m := re.FindStringSubmatch(strings.TrimSpace(text))
		if m == nil || int(m[1][0]-'0') != code/100 {
			return ""
		}
		return m[1] + "." + m[2] + "." + m[3]
	}
	cases := []string{"", "2.0.0", "2.0.0 Ok: queued as 1234", " 5.1.1 <x@y>: unknown", "5.1.1\tno", "4.7.0\r\n",
		"2.0.00", "2.000.000 x", "2.0000.0", "2.0.0000", "2..0", "2.0.", "2.0.0x", "3.0.0", "2.1", "2.1.\v1", "2.1.1\v",
		"2.1.1\f", "x2.0.0", "２.0.0", "2.0.0\u00a0ok"}
	rnd := rand.New(rand.NewPCG(3, 4))
	num := func() string { return randomString(rnd, "0123456789", 5) }
	for range 50000 {
		// Mostly shaped like a code, with runs of digits of any length.
		c := string("2345"[rnd.IntN(4)]) + "." + num() + "." + num() + randomString(rnd, " \t\v\fxa.0", 3)
		if rnd.IntN(4) == 0 {
			c = randomString(rnd, "2345.019 \t\v\fxa", 12)
		}
		cases = append(cases, c)
	}
	n := 0
	for _, c := range cases {
		for _, code := range []int{250, 421, 451, 550, 354, 221} {
			got, w := enhancedCode(code, c), want(code, c)
			if got != w {
				t.Fatalf("enhancedCode(%d, %q) = %q, want %q", code, c, got, w)
			}
			if got != "" {
				n++
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d codes found: the generator tests little", n)
	}
}
