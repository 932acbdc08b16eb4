package digest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vanng822/go-premailer/premailer"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/templates"
)

// TestInlineMatchesPremailer: templates.InlineCSS, which parses each
// style sheet once, writes what go-premailer writes for every digest,
// byte for byte: the built-in digest template over random article sets
// with summaries of every shape the sanitizer lets through (and some it
// does not), named and not, with and without images.
func TestInlineMatchesPremailer(t *testing.T) {
	s, _ := benchService(t)
	summaries := []string{
		"<p>A summary of a couple of sentences. It says what happened.</p>",
		"<p style=\"color:#123456;width:20px\">Styled <b>bold</b> and <i>italic</i></p><p>two</p>",
		"<p>Ünïcödé — “quotes” 😀 مرحبا בעולם &amp; &lt;tags&gt; &#39;</p>",
		"<ul><li>one</li><li>two <a href=\"https://x.example/?a=1&amp;b=2\">link</a></li></ul>",
		"<p>line<br>break<br/>again</p><blockquote>quoted</blockquote>",
		"<table><tr><td width=\"10\">cell</td></tr></table>",
		"<img src=\"https://img.example/a.png\" alt=\"a\" width=\"100\" height=\"50\">",
		"<p class=\"title more\">classes that match the sheet</p><div class=\"summary\"><p>nested</p></div>",
		"plain text without a tag, a < and a > and = and ?=",
		"<p><!-- a comment --> <span style=\"font-weight:bold !important\">important</span></p>",
		"",
	}
	rnd := rand.New(rand.NewPCG(7, 8))
	var arts []*ArticleView
	for i := range 40 {
		sec := []string{"world", "sport", "business", ""}[i%4]
		a := model.Article{
			ID: int64(i + 1), Title: fmt.Sprintf("Article %d <b>&amp;</b> “title” %s", i, summaries[i%len(summaries)][:min(8, len(summaries[i%len(summaries)]))]),
			URL: fmt.Sprintf("https://news.example.com/%s/%d?a=1&b=%d", sec, i, i), Summary: summaries[rnd.IntN(len(summaries))],
			SummaryText: "text", Section: model.Section{Slug: sec, Name: sec},
			Authors: []model.Author{{Name: "Ann Lee", Slug: "ann"}},
		}
		if i%5 == 0 {
			a.ImageURL = fmt.Sprintf("https://img.example/%d.jpg", i)
		}
		arts = append(arts, newArticleView(a))
	}
	for n := range 60 {
		d := s.cfg.Digests[0]
		r := newRenderer(s.cfg, d, s.tmpl, time.Now())
		set := make([]*ArticleView, 0, 10)
		for _, k := range rnd.Perm(len(arts))[:1+rnd.IntN(10)] {
			set = append(set, arts[k])
		}
		p := part{email: "reader@example.com", unsubTok: "u", mgmtTok: "m"}
		if n%2 == 0 {
			p.name = "Reader <&> “named”"
		}
		var b bytes.Buffer
		if err := r.tmpl.digestHTML[r.templateKey()].Execute(&b, r.data(set, "Subject", p)); err != nil {
			t.Fatal(err)
		}
		assertInlineMatches(t, b.String())
	}
}

func assertInlineMatches(t *testing.T, doc string) {
	t.Helper()
	pm, err := premailer.NewPremailerFromString(doc, premailer.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	want, err := pm.Transform()
	if err != nil {
		t.Fatal(err)
	}
	got, err := templates.InlineCSS(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("InlineCSS differs from premailer at byte %d:\ngot  …%s…\nwant …%s…", i, got[max(0, i-80):min(len(got), i+80)], want[max(0, i-80):min(len(want), i+80)])
	}
}

// TestInlineMatchesPremailerSheets: the same on hand-made sheets, for
// what the built-in template does not use: media queries, pseudo-classes,
// "*", !important, ids, attribute and type selectors, an invalid
// selector, several style elements (one of them ignored, one for print),
// an element's own style and width and height in pixels.
func TestInlineMatchesPremailerSheets(t *testing.T) {
	body := `<body><div id="main" class="a b"><p class="a" style="color:red;margin:1px">one <a href="#" class="b">link</a></p>
<table width="1"><tr><td class="c" data-x="1">cell</td><td>two</td></tr></table><img class="pic" src="x.png"><span>s</span></div></body>`
	sheets := [][]string{
		{`p { color: blue; font-size: 12px } .a { margin: 0 } #main p { padding: 2px } a:hover { color: red } * { box-sizing: border-box }`},
		{`.pic { width: 100px; height: 50px } td[data-x] { width: 0 } td { height: 2em !important; color: green }`, `@media (max-width: 600px) { .a { display: none } p { color: black } }`},
		{`p, .b, div > p { color: #333 } p:first-child { font-weight: bold } a:visited, a::before { x: y } :checked { z: 1 }`},
		{`p { color: blue !important } .a { color: red } p.a { color: green }`, `p { color: pink }`},
		{`p[ { broken } .ok { color: gray } span:nth-child(2) { font: 1px x }`},
		{``},
	}
	for _, ss := range sheets {
		head := "<!DOCTYPE html><html><head><title>t</title>"
		for i, s := range ss {
			switch i {
			case 1:
				head += `<style media="all">` + s + `</style>`
			default:
				head += `<style>` + s + `</style>`
			}
		}
		head += `<style media="print">p { color: purple }</style><style data-premailer="ignore">p { color: olive }</style></head>`
		// Twice: the second finds the parsed sheet.
		assertInlineMatches(t, head+body+"</html>")
		assertInlineMatches(t, head+body+"</html>")
	}
	assertInlineMatches(t, "<p>no sheet at all</p>")
}
