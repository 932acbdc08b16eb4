package bounce

import (
	"regexp"
	"strconv"
	"strings"
)

// addrRE finds an address in free text: a dot-atom local part (plus the
// characters VERP and tags use) and a domain of at least two labels.
var addrRE = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/=?^_{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+`)

// addresses returns the addresses in a header value or a line of text, in
// order, trimmed of the brackets and dots around them.
func addresses(s string) []string {
	var out []string
	for _, a := range addrRE.FindAllString(s, 8) {
		a = strings.Trim(a, ".'=/")
		if at := strings.LastIndexByte(a, '@'); at > 0 && at < len(a)-1 {
			out = append(out, a)
		}
	}
	return out
}

// statusRE finds an RFC 3463 enhanced status code; enhancedStatus and
// findStatus check what stands around it.
var statusRE = regexp.MustCompile(`[245]\.\d{1,3}\.\d{1,3}`)

// enhancedStatus returns the code at the start of a DSN Status field
// ("5.1.1", "5.1.1 (user unknown)"), or "" when it holds none.
func enhancedStatus(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return ""
	}
	s := strings.TrimRight(f[0], ".,;")
	if validStatus(s) {
		return s
	}
	return ""
}

// findStatus returns the first enhanced status code in free text that is
// not part of a longer dotted number (an IP address, a version).
func findStatus(text string) string {
	for _, ix := range statusRE.FindAllStringIndex(text, 16) {
		i, j := ix[0], ix[1]
		if i > 0 && (isDigit(text[i-1]) || text[i-1] == '.') {
			continue
		}
		if j < len(text) && (isDigit(text[j]) || text[j] == '.' && j+1 < len(text) && isDigit(text[j+1])) {
			continue
		}
		if s := text[i:j]; validStatus(s) {
			return s
		}
	}
	return ""
}

// validStatus checks class.subject.detail: class 2, 4 or 5, subject and
// detail numbers of at most three digits.
func validStatus(s string) bool {
	p := strings.Split(s, ".")
	if len(p) != 3 || (p[0] != "2" && p[0] != "4" && p[0] != "5") {
		return false
	}
	for _, n := range p[1:] {
		if _, err := strconv.Atoi(n); err != nil || len(n) > 3 {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
