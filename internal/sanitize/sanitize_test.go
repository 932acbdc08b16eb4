package sanitize

import (
	"encoding/xml"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

func cleaner() *Cleaner {
	return New("https://news.example.com", slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestXMLTextRemovesForbiddenCharacters(t *testing.T) {
	forbidden := []string{"\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\uFFFE", "\uFFFF", "\xed\xa0\x80" /* lone surrogate U+D800 */, "\xff", "\xc3("}
	for _, f := range forbidden {
		in := "a" + f + "b"
		got := XMLText(in)
		if got != "ab" && got != "a(b" {
			t.Errorf("XMLText(%q) = %q", in, got)
		}
		// What remains must be acceptable to a strict XML parser.
		var v struct {
			X string `xml:",chardata"`
		}
		if err := xml.Unmarshal([]byte("<x>"+got+"</x>"), &v); err != nil {
			t.Errorf("XMLText(%q) = %q is not XML text: %v", in, got, err)
		}
	}
	for _, ok := range []string{"tab\there", "line\nbreak", "cr\r", "emoji 😀", "RTL עברית مرحبا", "\u00a0nbsp"} {
		if got := XMLText(ok); got != ok {
			t.Errorf("XMLText(%q) = %q, changed allowed text", ok, got)
		}
	}
}

func TestLine(t *testing.T) {
	for in, want := range map[string]string{
		"Breaking:\r\nBcc: victim@example.com": "Breaking: Bcc: victim@example.com",
		"  spaced \t out  ":                    "spaced out",
		"line\u2028sep\u0085nel":               "line sep nel",
		"nul\x00byte":                          "nulbyte",
	} {
		if got := Line(in); got != want {
			t.Errorf("Line(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHTMLHostile(t *testing.T) {
	c := cleaner()
	base := mustURL("https://news.example.com/world/story")
	cases := []struct {
		name, in string
		mustNot  []string
		must     []string
	}{
		{"script", `<p>hi</p><script>alert(1)</script>`, []string{"<script", "alert"}, []string{"<p>hi</p>"}},
		{"style", `<style>p{}</style><p>x</p>`, []string{"<style"}, []string{"<p>x</p>"}},
		{"iframe", `<iframe src="https://evil.example"></iframe>ok`, []string{"iframe"}, []string{"ok"}},
		{"onerror", `<img src="/i.png" onerror="alert(1)">`, []string{"onerror", "alert"}, []string{`src="https://news.example.com/i.png"`}},
		{"javascript link", `<a href="javascript:alert(1)">x</a>`, []string{"javascript"}, []string{"x"}},
		{"obfuscated javascript", `<a href="java&#x09;script:alert(1)">x</a><a href=" JaVaScRiPt:alert(1)">y</a>`, []string{"script:", "alert"}, nil},
		{"data url", `<img src="data:image/png;base64,AAAA"><a href="data:text/html,<script>">d</a>`, []string{"data:"}, []string{"d"}},
		{"relative link", `<a href="../other">o</a>`, nil, []string{`href="https://news.example.com/other"`}},
		{"root-relative image", `<img src="/img/a.jpg" alt="A">`, nil, []string{`src="https://news.example.com/img/a.jpg"`, `alt="A"`}},
		{"protocol-relative", `<a href="//cdn.example.net/x">c</a>`, nil, []string{`href="https://cdn.example.net/x"`}},
		{"cdata end", `<p>a ]]> b</p>`, []string{"]]>"}, []string{"]]&gt;"}},
		{"forbidden chars", "<p>a\x00\x0bb</p>", []string{"\x00", "\x0b"}, []string{"<p>ab</p>"}},
		{"invalid utf8", "<p>bad \xff\xfe byte</p>", []string{"\xff"}, []string{"bad"}},
		{"mailto kept", `<a href="mailto:tips@example.com">tips</a>`, nil, []string{`mailto:tips@example.com`}},
		{"form", `<form action="https://evil.example"><input name=x></form>text`, []string{"<form", "<input"}, []string{"text"}},
		{"srcset dropped", `<img src="/a.jpg" srcset="javascript:alert(1) 1x">`, []string{"srcset", "javascript"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.HTML(tc.in, base)
			for _, bad := range tc.mustNot {
				if strings.Contains(strings.ToLower(got), strings.ToLower(bad)) {
					t.Errorf("HTML(%q) = %q still contains %q", tc.in, got, bad)
				}
			}
			for _, good := range tc.must {
				if !strings.Contains(got, good) {
					t.Errorf("HTML(%q) = %q lacks %q", tc.in, got, good)
				}
			}
		})
	}
}

func TestAbsolute(t *testing.T) {
	base := mustURL("https://news.example.com/a/b")
	for in, want := range map[string]string{
		"/x":                      "https://news.example.com/x",
		"c":                       "https://news.example.com/a/c",
		"https://other.example/y": "https://other.example/y",
		"javascript:alert(1)":     "",
		"data:text/html,x":        "",
		"ftp://files.example/z":   "",
		"java\nscript:alert(1)":   "",
		"":                        "",
		"http://[::1":             "",
	} {
		if got := Absolute(base, in); got != want {
			t.Errorf("Absolute(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestArticle(t *testing.T) {
	var logs strings.Builder
	c := New("https://news.example.com", slog.New(slog.NewTextHandler(&logs, nil)))
	a := model.Article{
		GUID: "g1", URL: "javascript:alert(document.cookie)", Title: "Title\r\nBcc: x@example.com",
		Summary: "<b>Bold</b> &amp; <script>x</script>summary", BodyHTML: `<p><img src="pic.jpg"></p>`,
		ImageURL: "data:image/png;base64,AA", PublishedAt: time.Now(),
		Section: model.Section{Name: "World\x00", Description: "<i>desc</i>"},
		Authors: []model.Author{{Name: "Ann\nSmith", URL: "javascript:x", AvatarURL: "/ann.png", Email: "a@b.example\r\nBcc: y"}},
	}
	got, ok := c.Article(a)
	if !ok {
		t.Fatal("article refused")
	}
	if got.URL != "" || !strings.Contains(logs.String(), "g1") {
		t.Errorf("javascript: URL kept (%q) or not warned: %s", got.URL, logs.String())
	}
	if got.Title != "Title Bcc: x@example.com" {
		t.Errorf("title = %q", got.Title)
	}
	if got.SummaryText != "Bold & summary" {
		t.Errorf("summary text = %q", got.SummaryText)
	}
	if strings.Contains(got.Summary, "script") {
		t.Errorf("summary = %q", got.Summary)
	}
	if !strings.Contains(got.BodyHTML, `src="https://news.example.com/pic.jpg"`) {
		t.Errorf("body = %q", got.BodyHTML)
	}
	if got.ImageURL != "" {
		t.Errorf("image = %q", got.ImageURL)
	}
	au := got.Authors[0]
	if au.Name != "Ann Smith" || au.URL != "" || au.AvatarURL != "https://news.example.com/ann.png" || au.Email != "" {
		t.Errorf("author = %+v", au)
	}
	if got.Section.Name != "World" || got.Section.Description != "desc" {
		t.Errorf("section = %+v", got.Section)
	}
	// A good URL is made absolute, and relative body links resolve against it.
	a.URL = "/world/story"
	a.BodyHTML = `<a href="next">n</a>`
	got, _ = c.Article(a)
	if got.URL != "https://news.example.com/world/story" || !strings.Contains(got.BodyHTML, `href="https://news.example.com/world/next"`) {
		t.Errorf("url %q body %q", got.URL, got.BodyHTML)
	}
	// Nothing usable: no title, no URL, no summary.
	if _, ok := c.Article(model.Article{GUID: "empty"}); ok {
		t.Error("empty article accepted")
	}
}

func mustURL(s string) *urlType {
	u, err := parseURL(s)
	if err != nil {
		panic(err)
	}
	return u
}
