package digest

import (
	"regexp"
	"strings"
	"testing"
)

// Every renderer draws its own stand-ins: letters and digits only (every
// escaper and the CSS inliner leave them alone), none a prefix of another,
// and never the same twice, so no article text can know them.
func TestPlaceholdersDrawnPerRenderer(t *testing.T) {
	plain := regexp.MustCompile(`^[A-Za-z0-9]+$`)
	seen := map[string]bool{}
	for range 100 {
		ph := newPlaceholders()
		if seen[ph.prefix] {
			t.Fatalf("prefix %s drawn twice", ph.prefix)
		}
		seen[ph.prefix] = true
		for i, a := range ph.names {
			if !plain.MatchString(a) || !strings.HasPrefix(a, ph.prefix) {
				t.Fatalf("placeholder %q", a)
			}
			for j, b := range ph.names {
				if i != j && strings.HasPrefix(b, a) {
					t.Fatalf("%q is a prefix of %q", a, b)
				}
			}
		}
	}
}
