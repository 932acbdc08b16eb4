package sanitize

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// slowHTML is HTML without the fast path.
func (c *Cleaner) slowHTML(fragment string, base *urlType) string {
	fragment = XMLText(fragment)
	if strings.TrimSpace(fragment) == "" {
		return ""
	}
	return XMLText(strings.TrimSpace(c.policy.Sanitize(resolveLinks(fragment, base))))
}

// fastSeeds are fragments of the shapes CMSs write, and the edges of the
// fast path's subset.
var fastSeeds = []string{
	`<p>Plain paragraph.</p>`,
	"<p>Two</p>\n<p>paragraphs &amp; an entity, it's “quoted” &rsquo; &copy; &#169; &#x41; &notanentity; & alone</p>",
	`<p>See <a href="/articles/5">our earlier report</a>.</p>`,
	`<p><a href="https://other.example/x?a=1&amp;b=2#frag" title="A title">x</a></p>`,
	`<p><img src="/img/1-inline.jpg" alt="three words here"></p>`,
	`<figure><img src="pic.jpg" alt="A, b: c!" loading="lazy"/><figcaption>Cap</figcaption></figure>`,
	`<img src="x.png" alt="bad <alt>">`,
	`<img src="x.png" alt="quote&amp;amp">`,
	`<br/><br /><hr><p/>`,
	`<a href="javascript:alert(1)">x</a>`,
	`<a href="mailto:a@example.com">m</a>`,
	`<a href="">empty</a>`,
	`<a href="/x" href="/y">dup</a>`,
	`<a href="/x"title="t">nospace</a>`,
	`<p class="x">class</p>`,
	`<P>upper</P>`,
	`<script>alert(1)</script>`,
	`a < b and c > d`,
	`<!-- comment --><p>x</p>`,
	"<p>line\r\nend</p>",
	`<a href="/path with space">s</a>`,
	`<a href="http://[::1">bad</a>`,
	`<a href="//cdn.example.net/x">c</a>`,
	`<a href="../../up">u</a>`,
	`<ul><li>one</li><li>two</li></ul><ol><li>x</li></ol>`,
	`<h2>Head</h2><blockquote>q</blockquote><pre>code</pre>`,
	`<em>unclosed <strong>tags`,
	`</p>stray end`,
	`<a href="/x">`,
	`<a href='/single'>s</a>`,
	`<a href=/unquoted>u</a>`,
	`<img src="/a.jpg" srcset="/b.jpg 2x">`,
	`<p>&#0; &#13; &#x10FFFF; &#xD800;</p>`,
	`<a href="/%zz">pct</a>`,
	`<a href="/ü/ñ?q=é">unicode</a>`,
	`<p>]]> cdata end</p>`,
	`<a href="/a">x</a/>`,
	`<img src="/a.jpg" alt="">`,
	`<img alt="only alt">`,
	`<img src="javascript:x" alt="alt stays">`,
}

// TestFastHTMLMatchesGeneral checks the fast path against the general
// path on the seeds, on generated bodies and on the test databases' HTML.
func TestFastHTMLMatchesGeneral(t *testing.T) {
	c := cleaner()
	base := mustURL("https://news.example.com/world/story")
	inputs := append([]string(nil), fastSeeds...)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		inputs = append(inputs, genBody(rnd, i))
	}
	inputs = append(inputs, sqlStrings(t, "../store/testdata/seed-article.sql", "../../feeds/testdata/golden.sql", "../../feeds/testdata/hostile.sql")...)
	fast := 0
	for _, in := range inputs {
		if _, ok := fastHTML(XMLText(in), base); ok {
			fast++
		}
		if got, want := c.HTML(in, base), c.slowHTML(in, base); got != want {
			t.Errorf("HTML(%q)\n = %q\nwant %q", in, got, want)
		}
		if got, want := c.PlainText(in), c.slowPlainText(XMLText(in)); got != want {
			t.Errorf("PlainText(%q) = %q, want %q", in, got, want)
		}
	}
	if fast < 200 {
		t.Errorf("the fast path took %d of %d inputs; every generated body should take it", fast, len(inputs))
	}
}

// FuzzFastHTML: whatever the fragment, HTML and PlainText give what the
// general path (resolveLinks, then bluemonday) gives.
func FuzzFastHTML(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add(s)
	}
	c := cleaner()
	base := mustURL("https://news.example.com/world/story")
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := c.HTML(in, base), c.slowHTML(in, base); got != want {
			t.Fatalf("HTML(%q)\n = %q\nwant %q", in, got, want)
		}
		if got, want := c.PlainText(in), c.slowPlainText(XMLText(in)); got != want {
			t.Fatalf("PlainText(%q) = %q, want %q", in, got, want)
		}
	})
}

// genBody is a body shaped like bench/gen's: paragraphs with the odd link,
// emphasis and image.
func genBody(rnd *rand.Rand, id int) string {
	words := strings.Fields("the council budget minister election report city school health market river bridge it's “quoted” café")
	w := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = words[rnd.IntN(len(words))]
		}
		return strings.Join(s, " ")
	}
	var sb strings.Builder
	for sb.Len() < 3000+rnd.IntN(3000) {
		sb.WriteString("<p>")
		for range 3 + rnd.IntN(4) {
			sb.WriteString(w(8+rnd.IntN(14)) + ". ")
		}
		switch rnd.IntN(6) {
		case 0:
			fmt.Fprintf(&sb, `See <a href="/articles/%d">our earlier report</a>.`, 1+rnd.IntN(id+1))
		case 1:
			fmt.Fprintf(&sb, `<em>%s</em>`, w(8))
		case 2:
			fmt.Fprintf(&sb, `<img src="/img/%d-inline.jpg" alt="%s">`, id, w(3))
		}
		sb.WriteString("</p>\n")
	}
	return sb.String()
}

var sqlString = regexp.MustCompile(`'((?:[^']|'')*)'`)

// sqlStrings returns every string literal of the SQL files.
func sqlStrings(t *testing.T, files ...string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range sqlString.FindAllStringSubmatch(string(b), -1) {
			out = append(out, strings.ReplaceAll(m[1], "''", "'"))
		}
	}
	return out
}

// BenchmarkHTML cleans a generated 3–6 KB body: fast path and general path.
func BenchmarkHTML(b *testing.B) {
	c := cleaner()
	base := mustURL("https://news.example.com/articles/7")
	body := genBody(rand.New(rand.NewPCG(1, 2)), 7)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.HTML(body, base)
		}
	})
	b.Run("general", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.slowHTML(body, base)
		}
	})
}

// slowAbsolute is Absolute without its shortcut for plain root-relative paths.
func slowAbsolute(base *urlType, ref string) string {
	ref = strings.TrimSpace(XMLText(ref))
	if ref == "" || strings.ContainsAny(ref, "\x00\r\n\t") {
		return ""
	}
	u, err := parseURL(ref)
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

// FuzzAbsolute: the shortcut gives what parsing and resolving give.
func FuzzAbsolute(f *testing.F) {
	for _, s := range []string{"/a/b", "/a/../b", "/a/./b", "//host/x", "/a//b", "/x.", "/~u/_-.", "/%41", "/a?b", "/", "rel/x"} {
		f.Add("https://news.example.com/world/story", s)
		f.Add("http://h:8080", s)
	}
	f.Fuzz(func(t *testing.T, base, ref string) {
		bu, err := parseURL(base)
		if err != nil {
			return
		}
		if got, want := Absolute(bu, ref), slowAbsolute(bu, ref); got != want {
			t.Fatalf("Absolute(%q, %q) = %q, want %q", base, ref, got, want)
		}
	})
}

// refXMLText and refLine are XMLText and Line without their shortcuts.
func refXMLText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if (r != utf8.RuneError || size > 1) && xmlChar(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func refLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', '\t', '\v', '\f', 0x85, 0x2028, 0x2029:
			return ' '
		}
		return r
	}, refXMLText(s))
	return strings.Join(strings.Fields(s), " ")
}

// FuzzXMLText: the word-at-a-time check and Line's shortcut change nothing.
func FuzzXMLText(f *testing.F) {
	for _, s := range []string{"plain text here", "a\x00b", "tab\there", "  spaced  ", "\uFFFE\uFFFF\uFFFD", "\xed\xa0\x80", "\xff", "ab\u2028cd\u0085", "0123456789abcdef\x1f", "\x7f\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := XMLText(s), refXMLText(s); got != want {
			t.Fatalf("XMLText(%q) = %q, want %q", s, got, want)
		}
		if got, want := Line(s), refLine(s); got != want {
			t.Fatalf("Line(%q) = %q, want %q", s, got, want)
		}
	})
}
