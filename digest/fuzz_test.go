package digest_test

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/heraldnews/herald/digest"
)

// FuzzParseEmail checks the address check every subscriber passes
// (subscribe form, CLI, CSV import): never a panic; an accepted address
// has no control character, space or separator, parses back with
// net/mail as itself, and is a fixed point. The seed corpus is in
// testdata/fuzz/FuzzParseEmail.
func FuzzParseEmail(f *testing.F) {
	f.Add("Reader@Example.COM")
	f.Add("a\r\nBcc: b@example.com")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := digest.ParseEmail(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(out, "\r\n\t\x00 <>,;\"\u2028\u2029\u0085") {
			t.Fatalf("accepted %q as %q", s, out)
		}
		a, err := mail.ParseAddress(out)
		if err != nil || a.Address != out {
			t.Fatalf("%q does not parse back: %v", out, err)
		}
		if again, err := digest.ParseEmail(out); err != nil || again != out {
			t.Fatalf("not a fixed point: %q -> %q (%v)", out, again, err)
		}
	})
}
