package bounce

import (
	"regexp"
	"strings"
	"sync"
)

// Rule is one row of the classification tables. A status rule matches an
// RFC 3463 code against Status and, when Text is set, the diagnostic text
// too; a text rule matches the text alone.
type Rule struct {
	// Status is a code pattern: three dot-separated fields, the class 2,
	// 4, 5 or X (either 4 or 5), then numbers or * (any). "" in a text
	// rule.
	Status string
	// Text, when set, must match the diagnostic text (case-insensitive).
	Text *Pattern
	// Kind is the verdict; "" means the status says nothing and the text
	// rules decide.
	Kind Kind
	// Why is the reason, for people reading the table.
	Why string
}

// Pattern is a case-insensitive regular expression compiled on first use.
// Every herald command links this package and few of them read a bounce:
// compiled at start, the tables and texts held about 190 KB of every
// process's heap, send-now's too (docs/benchmarks.md, memory).
type Pattern struct {
	src  string
	once sync.Once
	re   *regexp.Regexp
}

// re makes a case-insensitive Pattern for the tables; a bad one panics at
// its first use, which the package's tests make for each.
func re(p string) *Pattern { return &Pattern{src: `(?i)` + p} }

func (p *Pattern) compiled() *regexp.Regexp {
	p.once.Do(func() { p.re = regexp.MustCompile(p.src) })
	return p.re
}

// MatchString reports whether s holds a match.
func (p *Pattern) MatchString(s string) bool { return p.compiled().MatchString(s) }

// FindStringSubmatch returns the leftmost match and its groups, or nil.
func (p *Pattern) FindStringSubmatch(s string) []string { return p.compiled().FindStringSubmatch(s) }

// String returns the pattern's source.
func (p *Pattern) String() string { return p.src }

// Texts that several rules share.
var (
	relayText = re(`relay(ing)? (access )?(denied|not permitted|prohibited|not allowed)|not (allowed|permitted) to relay|unable to relay|we do not relay`)
	authText  = re(`authentication (is )?required|must (first )?authenticate|not authenticated|client was not authenticated|auth(entication)? credentials invalid`)
)

// StatusRules classify a failure by its enhanced status code, first match
// wins. X.0.0 and codes that say too little (5.1.0, the rest of 5.1.x)
// fall through to TextRules; a code no rule names is Soft.
var StatusRules = []Rule{
	{Status: "2.*.*", Kind: None, Why: "success: delivered, relayed or expanded"},
	{Status: "X.0.0", Why: "other or undefined: the text decides"},
	{Status: "5.1.1", Kind: Hard, Why: "bad destination mailbox: the mailbox does not exist"},
	{Status: "5.1.2", Kind: Hard, Why: "bad destination system: the domain does not exist"},
	{Status: "5.1.3", Kind: Hard, Why: "bad destination mailbox address syntax"},
	{Status: "5.1.6", Kind: Hard, Why: "destination mailbox has moved, no forwarding address"},
	{Status: "5.1.10", Kind: Hard, Why: "recipient address has a null MX: the domain takes no mail"},
	{Status: "X.1.7", Kind: Sender, Why: "bad sender's mailbox address syntax"},
	{Status: "X.1.8", Kind: Sender, Why: "bad sender's system address"},
	{Status: "5.1.*", Why: "other address statuses (ambiguous, provider-specific): the text decides"},
	{Status: "5.4.1", Text: re(`recipient address rejected: access denied`), Kind: Hard,
		Why: "Exchange Online's directory-based edge blocking: no such recipient in the directory"},
	{Status: "5.4.4", Text: re(`host or domain name not found|domain not found|no such domain|nxdomain|domain does not exist`), Kind: Hard,
		Why: "unable to route because the recipient's domain does not exist"},
	{Status: "X.4.7", Kind: Soft, Why: "delivery time expired: the recipient's side never took it"},
	{Status: "X.3.4", Kind: Soft, Why: "message too big for the recipient's system"},
	{Status: "X.7.*", Text: relayText, Kind: Sender, Why: "relay access denied: the relay's or sender's configuration"},
	{Status: "X.7.*", Text: authText, Kind: Sender, Why: "authentication required: the relay's configuration"},
	{Status: "X.7.8", Kind: Sender, Why: "authentication credentials invalid (X.7.9 is not here: Yahoo uses 5.7.9 for policy)"},
	{Status: "X.7.14", Kind: Sender, Why: "trust relationship required"},
	{Status: "X.7.20", Kind: Sender, Why: "no passing DKIM signature (RFC 7372)"},
	{Status: "X.7.21", Kind: Sender, Why: "no acceptable DKIM signature"},
	{Status: "X.7.22", Kind: Sender, Why: "no valid author-matched DKIM signature"},
	{Status: "X.7.23", Kind: Sender, Why: "SPF validation failed"},
	{Status: "X.7.24", Kind: Sender, Why: "SPF validation error"},
	{Status: "X.7.25", Kind: Sender, Why: "reverse DNS validation failed"},
	{Status: "X.7.26", Kind: Sender, Why: "multiple authentication checks failed (DMARC)"},
	{Status: "X.7.27", Kind: Sender, Why: "the sender's address has a null MX"},
	{Status: "X.7.*", Kind: Soft, Why: "security or policy: blocked, spam, content; one message judged, not the address"},
	{Status: "X.3.*", Kind: Sender, Why: "mail system status: the path, not the address"},
	{Status: "X.4.*", Kind: Sender, Why: "network and routing status: the path, not the address"},
	{Status: "X.5.*", Kind: Sender, Why: "mail delivery protocol status: the sender's conversation"},
	{Status: "X.*.*", Kind: Soft, Why: "anything else (mailbox full or disabled, too large, content): counted"},
}

// TextRules classify a failure whose status is missing, X.0.0 or vague,
// by its diagnostic text or the bounce's words; first match wins; no match
// is Soft.
var TextRules = []Rule{
	{Text: relayText, Kind: Sender, Why: "relay access denied"},
	{Text: authText, Kind: Sender, Why: "authentication required"},
	{Text: re(`sender (address )?(rejected|denied)|sender verify failed|sender (domain|address) (does not exist|not found|unknown)|spf (check )?fail|dmarc (policy|fail)|unauthenticated (e-?mail|mail|message)`),
		Kind: Sender, Why: "the sender's address, domain or authentication"},
	{Text: re(`over quota|quota exceeded|mailbox (is )?full|mailbox size limit|insufficient (system )?storage|too (large|big)|size limit|greylist|graylist|try again later|temporar|rate limit|too many`),
		Kind: Soft, Why: "full, too large, greylisted or temporary"},
	{Text: re(`user unknown|unknown user|unknown (local[- ]part|recipient|address|mailbox|account)|recipient unknown|` +
		`no such (user|mailbox|recipient|address|account|person|domain)|` +
		`(user|mailbox|recipient|address|account|e-?mail address)( name)? (does not|doesn't|do not|did not) exist|` +
		`(user|mailbox|recipient|account) not found|recipientnotfound|recipient not found|` +
		`not a valid (mailbox|recipient|user|address)|invalid (recipient|mailbox|address|user)|` +
		`no mailbox here by that name|unrouteable address|address not found|` +
		`(couldn't|could not) be found|doesn't have an? [\w.-]+ account|` +
		`account (has been )?(closed|deleted|terminated|removed)|no longer (active|available|exists|in use|valid)|` +
		`host or domain name not found|domain (name )?not found|domain does not exist|nxdomain|` +
		`mailbox (has )?moved|user has moved|bad destination (mailbox|system)`),
		Kind: Hard, Why: "the mailbox or domain does not exist or has moved"},
}

// FeedbackKinds maps an ARF Feedback-Type (RFC 5965, RFC 6591, RFC 6650)
// to a kind; a type not listed is None.
var FeedbackKinds = map[string]Kind{
	"abuse":        Complaint, // the reader marked it as spam
	"fraud":        Complaint, // the reader reported it as fraud or phishing
	"virus":        Sender,    // a scanner found a virus: the message, not the reader
	"auth-failure": Sender,    // an authentication failure report about the sender
	"not-spam":     None,      // the reader marked it as not spam
	"other":        None,
}

// Classify returns the kind of a failure from its enhanced status code
// ("5.1.1"; "" when none) and its diagnostic text: StatusRules first, then
// TextRules, else Soft.
func Classify(status, text string) Kind {
	if st := enhancedStatus(status); st != "" {
		for _, r := range StatusRules {
			if !statusMatches(r.Status, st) || (r.Text != nil && !r.Text.MatchString(text)) {
				continue
			}
			if r.Kind != "" {
				return r.Kind
			}
			break
		}
	}
	for _, r := range TextRules {
		if r.Text.MatchString(text) {
			return r.Kind
		}
	}
	return Soft
}

// statusMatches matches a code against a Rule.Status pattern.
func statusMatches(pattern, status string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(status, ".")
	if len(p) != 3 || len(s) != 3 {
		return false
	}
	if p[0] != s[0] && !(p[0] == "X" && (s[0] == "4" || s[0] == "5")) {
		return false
	}
	return (p[1] == "*" || p[1] == s[1]) && (p[2] == "*" || p[2] == s[2])
}
