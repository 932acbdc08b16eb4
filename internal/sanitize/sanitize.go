// Package sanitize is the article clean-up every output of herald passes
// through, feeds and digests alike: text is made valid UTF-8 without the
// characters XML 1.0 forbids, HTML is sanitised (no script, style, iframe,
// event handlers, javascript: or data: URLs), relative links and images are
// resolved against the article's URL, and the article's URL is made absolute
// against site.url. Articles enter as read from the store and leave safe to
// encode into XML, JSON and email.
//
// HTML takes a one-pass fast path (fast.go) for the plain markup nearly
// every CMS writes, and the general path (link resolution, then
// bluemonday's UGC policy) for anything else; the two give the same bytes
// wherever the fast path answers (FuzzFastHTML).
package sanitize

import (
	"bytes"
	"html"
	"log/slog"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"

	"github.com/heraldnews/herald/internal/model"
)

// XMLText returns s as valid UTF-8 without the characters XML 1.0 forbids:
// U+0000–U+0008, U+000B, U+000C, U+000E–U+001F, U+FFFE, U+FFFF and
// surrogates. Invalid UTF-8 sequences are dropped.
func XMLText(s string) string {
	if xmlClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			continue
		}
		if xmlChar(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlSpecial marks the bytes xmlClean must look at: the controls XML
// forbids, and 0xEF, the lead byte of U+FFFE and U+FFFF.
var xmlSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = c != '\t' && c != '\n' && c != '\r'
	}
	t[0xEF] = true
	return t
}()

// xmlClean reports whether s is valid UTF-8 holding only characters XML
// allows. Once the UTF-8 is valid (no surrogates, nothing past U+10FFFF)
// only the controls and U+FFFE, U+FFFF (EF BF BE, EF BF BF) remain to
// find. Eight bytes at a time: a word of printable ASCII (no byte below
// 0x20 or above 0x7F) needs no closer look.
func xmlClean(s string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if (w|(w-0x20*lo))&hi == 0 {
			continue
		}
		for j := i; j < i+8; j++ {
			if xmlSpecial[s[j]] && !xmlOKAt(s, j) {
				return false
			}
		}
	}
	for ; i < len(s); i++ {
		if xmlSpecial[s[i]] && !xmlOKAt(s, i) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// xmlOKAt reports whether the special byte at s[i] starts an allowed
// character: an 0xEF that does not begin U+FFFE or U+FFFF.
func xmlOKAt(s string, i int) bool {
	return s[i] == 0xEF && !(i+2 < len(s) && s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF))
}

func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0xD800 && r <= 0xDFFF:
		return false
	case r == 0xFFFE || r == 0xFFFF:
		return false
	case r > 0x10FFFF:
		return false
	}
	return true
}

// Line returns s as one line of XML-safe text: CR, LF, tabs and runs of
// spaces collapse to one space. Titles and names pass through it, so nothing
// a CMS writes can start a new header line in an email.
func Line(s string) string {
	s = XMLText(s)
	if plainLine(s) {
		return s
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', '\t', '\v', '\f', 0x85, 0x2028, 0x2029:
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// plainLine reports whether Line would return s unchanged: no byte below
// 0x20, no space at either end or next to another, and nothing but
// printable ASCII (the other line breaks Line removes are not ASCII).
func plainLine(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7F || (c == ' ' && s[i+1] == ' ') {
			return false
		}
	}
	return true
}

// Cleaner cleans articles for one site.
type Cleaner struct {
	site   *url.URL
	policy *bluemonday.Policy
	strict *bluemonday.Policy
	log    *slog.Logger
}

// New returns a Cleaner resolving relative URLs against siteURL, an absolute
// http(s) URL (config.Validate guarantees it).
func New(siteURL string, log *slog.Logger) *Cleaner {
	u, err := url.Parse(siteURL)
	if err != nil || u.Host == "" {
		u = &url.URL{Scheme: "https", Host: "invalid.invalid"}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if log == nil {
		log = slog.Default()
	}
	p := bluemonday.UGCPolicy()
	// A publisher's own links are not user-generated spam: keep them followable.
	p.RequireNoFollowOnLinks(false)
	p.AllowRelativeURLs(false) // everything is absolute by the time the policy runs
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowAttrs("loading").Matching(bluemonday.Paragraph).OnElements("img")
	p.AllowElements("figure", "figcaption", "picture")
	return &Cleaner{site: u, policy: p, strict: bluemonday.StrictPolicy(), log: log}
}

// SiteURL is the site's base URL.
func (c *Cleaner) SiteURL() *url.URL { return c.site }

// Absolute resolves ref against base and returns it only when the result is
// an http(s) URL; anything else (javascript:, data:, unparseable) gives "".
func Absolute(base *url.URL, ref string) string {
	ref = strings.TrimSpace(XMLText(ref))
	if ref == "" {
		return ""
	}
	// Control characters and spaces inside a scheme are a classic filter
	// bypass ("java\tscript:"); url.Parse rejects most, this catches the rest.
	if strings.ContainsAny(ref, "\x00\r\n\t") {
		return ""
	}
	if base != nil && plainRootPath(ref) && plainBase(base) {
		return base.Scheme + "://" + base.Host + ref // what resolving below gives, without parsing
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// plainRootPath reports whether ref is a root-relative path that resolves
// to itself: only unreserved characters and slashes, no "." or ".."
// segment, no empty segment, no query or fragment.
func plainRootPath(ref string) bool {
	if len(ref) == 0 || ref[0] != '/' || strings.Contains(ref, "//") || strings.Contains(ref, "/.") {
		return false
	}
	for i := 1; i < len(ref); i++ {
		c := ref[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
			return false
		}
	}
	return true
}

// plainBase reports whether base is an http(s) URL whose scheme and host
// a URL's String writes back as they are.
func plainBase(base *url.URL) bool {
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.User != nil || base.Opaque != "" {
		return false
	}
	for i := 0; i < len(base.Host); i++ {
		c := base.Host[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// HTML sanitises an HTML fragment, resolving relative href and src against
// base first, and strips characters XML forbids.
func (c *Cleaner) HTML(fragment string, base *url.URL) string {
	fragment = XMLText(fragment)
	if strings.TrimSpace(fragment) == "" {
		return ""
	}
	out, ok := fastHTML(fragment, base)
	if !ok {
		out = c.policy.Sanitize(resolveLinks(fragment, base))
	}
	return XMLText(strings.TrimSpace(out))
}

// PlainText returns the text of an HTML (or plain) fragment on one line,
// entities decoded: for plain-text mail and summaries.
func (c *Cleaner) PlainText(fragment string) string {
	fragment = XMLText(fragment)
	if out, ok := fastPlainText(fragment); ok {
		return out
	}
	return c.slowPlainText(fragment)
}

func (c *Cleaner) slowPlainText(fragment string) string {
	return Line(html.UnescapeString(c.strict.Sanitize(fragment)))
}

// resolveLinks rewrites href, src and poster attributes of fragment to
// absolute URLs against base; unsafe or unresolvable ones are removed.
func resolveLinks(fragment string, base *url.URL) string {
	z := xhtml.NewTokenizer(strings.NewReader(fragment))
	var b bytes.Buffer
	b.Grow(len(fragment) + len(fragment)/8)
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return b.String()
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			t := z.Token()
			changed := false
			attrs := t.Attr[:0]
			for _, a := range t.Attr {
				switch strings.ToLower(a.Key) {
				case "href", "src", "poster", "cite", "action", "formaction", "background":
					changed = true
					abs := Absolute(base, a.Val)
					if abs == "" {
						if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "mailto:") {
							attrs = append(attrs, a)
						}
						continue
					}
					a.Val = abs
				case "srcset":
					changed = true
					continue // candidate lists are not worth the risk; src remains
				}
				attrs = append(attrs, a)
			}
			t.Attr = attrs
			if changed {
				b.WriteString(t.String())
			} else {
				b.Write(z.Raw())
			}
		default:
			b.Write(z.Raw())
		}
	}
}

// Article returns a cleaned copy of a, and false when the article cannot be
// used at all (it has no title and no URL). Every text field is XML-safe;
// summary and body are sanitised HTML with absolute links; URL and ImageURL
// are absolute http(s) URLs or "". Problems are logged with the guid.
func (c *Cleaner) Article(a model.Article) (model.Article, bool) {
	out, ok := c.Content(a)
	out.Section = c.Section(a.Section)
	out.Authors = make([]model.Author, 0, len(a.Authors))
	for _, au := range a.Authors {
		out.Authors = append(out.Authors, c.Author(au))
	}
	return out, ok
}

// Content is Article for the article's own fields only: its Section and
// Authors are left as they are, for a caller that cleans each section and
// author once (with Section and Author) however many articles carry them.
func (c *Cleaner) Content(a model.Article) (model.Article, bool) {
	out := a
	out.GUID = Line(a.GUID)
	out.Title = Line(a.Title)
	rawURL := a.URL
	out.URL = Absolute(c.site, rawURL)
	if out.URL == "" && strings.TrimSpace(rawURL) != "" {
		c.log.Warn("article URL dropped: not an http(s) URL", "guid", out.GUID, "url", Line(rawURL))
	}
	base := c.site
	if out.URL != "" {
		base, _ = url.Parse(out.URL)
	}
	out.Summary = c.HTML(a.Summary, base)
	out.SummaryText = c.PlainText(a.Summary)
	out.BodyHTML = c.HTML(a.BodyHTML, base)
	out.ImageURL = Absolute(base, a.ImageURL)
	if out.ImageURL == "" && strings.TrimSpace(a.ImageURL) != "" {
		c.log.Warn("article image dropped: not an http(s) URL", "guid", out.GUID)
	}
	if out.Title == "" {
		out.Title = out.SummaryText
		if len([]rune(out.Title)) > 80 {
			out.Title = string([]rune(out.Title)[:79]) + "…"
		}
	}
	if out.Title == "" && out.URL == "" {
		c.log.Warn("article skipped: no title and no URL", "guid", out.GUID)
		return out, false
	}
	return out, true
}

// Section returns a cleaned copy of s.
func (c *Cleaner) Section(s model.Section) model.Section {
	s.Slug = Line(s.Slug)
	s.Name = Line(s.Name)
	s.Description = c.PlainText(s.Description)
	return s
}

// Author returns a cleaned copy of a: one-line name, plain-text bio,
// absolute http(s) URL and avatar (or ""), and an email only if it parses.
func (c *Cleaner) Author(a model.Author) model.Author {
	a.Slug = Line(a.Slug)
	a.Name = Line(a.Name)
	a.Bio = c.PlainText(a.Bio)
	a.URL = Absolute(c.site, a.URL)
	a.AvatarURL = Absolute(c.site, a.AvatarURL)
	a.Email = Line(a.Email)
	if a.Email != "" && (strings.ContainsAny(a.Email, " <>\"(),;:\\") || strings.Count(a.Email, "@") != 1) {
		a.Email = ""
	}
	return a
}
