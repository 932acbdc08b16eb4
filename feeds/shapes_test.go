package feeds

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/i18n"
)

func shapesOptions(e *testEnv) Options {
	opt := goldenOptions(e)
	opt.SectionURL = "/sections/{slug}/"
	opt.AuthorURL = "https://news.example.com/people/{slug}"
	opt.SectionContent = map[string]string{"opinion": "summary"}
	return opt
}

// goldenFile compares got with testdata/golden/name, or rewrites it with -update.
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", p, got)
	}
}

// TestGoldenShapes pins issue 13's shapes: derived Atom ids, one byline,
// summary mode, section and author pages, Media RSS. Rewrite them with
// go test ./feeds -run GoldenShapes -update.
func TestGoldenShapes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql", "testdata/shapes.sql")
	b := NewBuilder(e.st, shapesOptions(e))
	for _, p := range []string{"/feeds/all.rss", "/feeds/sections/opinion.rss", "/feeds/authors/priya-nair.rss"} {
		f := feedByPath(t, b, p)
		arts, err := b.Articles(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		set, err := b.Build(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		checkSet(t, b, f, set, arts)
		name := "shapes-" + strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(p, "/feeds/"), ".rss"), "/", "-")
		for _, ft := range Formats {
			goldenFile(t, name+"."+ft.Ext(), set[ft])
			if s := string(set[ft]); strings.Contains(s, "paywalled rest") || strings.Contains(s, "Secret body") {
				t.Errorf("%s: a summary-mode body leaked", f.ID.Path(ft))
			}
		}
	}
	site := feedByPath(t, b, "/feeds/all.rss")
	set, _ := b.Build(ctx, site)
	atom, rss := string(set[Atom]), string(set[RSS])
	for _, want := range []string{
		"<id>tag:news.example.com,2026-01-01:12345</id>",                                   // a bare number
		"<id>tag:news.example.com,2026-01-01:tag:news.example.com%2C2026-01-01:12345</id>", // never another's id
		"<id>tag:news.example.com,2026-01-01:post%20name%20with%20spaces%20%26%20%3Cbrackets%3E</id>",
		"<id>urn:herald:article:chips</id>", // an IRI stays
		`<link href="https://news.example.com/img/cover.webp?w=1200" rel="enclosure" type="image/webp"></link>`,
		"<uri>https://news.example.com/people/priya-nair</uri>", // the template
		"<uri>https://news.example.com/people/ana-lima</uri>",   // her own url column
	} {
		if !strings.Contains(atom, want) {
			t.Errorf("all.atom lacks %s", want)
		}
	}
	for _, want := range []string{
		"<dc:creator>Priya Nair, Robert Overtone and Ana Lima</dc:creator>",
		`<media:content url="https://news.example.com/img/photo" medium="image"></media:content>`,
		"<guid isPermaLink=\"false\">12345</guid>", // RSS keeps the guid
	} {
		if !strings.Contains(rss, want) {
			t.Errorf("all.rss lacks %s", want)
		}
	}
	if strings.Contains(atom, `href="https://news.example.com/img/photo" rel="enclosure"`) {
		t.Error("an Atom enclosure without a known type")
	}
	sec := feedByPath(t, b, "/feeds/sections/opinion.rss")
	if sec.Link != "https://news.example.com/sections/opinion/" {
		t.Errorf("section feed link %q", sec.Link)
	}
	validateAll(t)
}

// A summary-mode teaser taken from a body never carries the body whole:
// a short first paragraph goes as it is, a long one (a paywalled article
// written as one paragraph) is cut to its first ~300 characters.
func TestTeaserNeverWholeBody(t *testing.T) {
	e := newEnv(t, seedSQL)
	b := NewBuilder(e.st, goldenOptions(e))
	short := "<p>The opening line.</p><p>The paywalled rest.</p>"
	if got := b.firstParagraph(short); got != "<p>The opening line.</p>" {
		t.Errorf("short first paragraph: %q", got)
	}
	long := "<p>" + strings.Repeat("Every word of the paywalled story ", 100) + "ends here.</p>"
	got := b.firstParagraph(long)
	if strings.Contains(got, "ends here") || len([]rune(got)) > teaserRunes+1 {
		t.Errorf("one long paragraph went out whole (%d characters): %q", len([]rune(got)), got)
	}
	if !strings.HasPrefix(got, "Every word of the paywalled story") || !strings.HasSuffix(got, "…") {
		t.Errorf("the cut teaser: %q", got)
	}
	if got := b.firstParagraph("<div>" + strings.Repeat("Unparagraphed text ", 100) + "ends here.</div>"); strings.Contains(got, "ends here") {
		t.Errorf("a body without paragraphs went out whole: %q", got)
	}
}

// With site.language de, the feeds' own words are German: the byline's
// joiner and the channel descriptions come from the site's catalogue.
func TestFeedWordsInSiteLanguage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql", "testdata/shapes.sql")
	opt := shapesOptions(e)
	words, err := i18n.Load("", "de")
	if err != nil {
		t.Fatal(err)
	}
	opt.Words = words
	b := NewBuilder(e.st, opt)
	set, err := b.Build(ctx, feedByPath(t, b, "/feeds/all.rss"))
	if err != nil {
		t.Fatal(err)
	}
	rss := string(set[RSS])
	for _, want := range []string{
		"<dc:creator>Priya Nair, Robert Overtone und Ana Lima</dc:creator>",
		"<description>" + words.T("feed.site_description", map[string]string{"Site": opt.SiteName}) + "</description>",
	} {
		if !strings.Contains(rss, want) {
			t.Errorf("all.rss in German lacks %s", want)
		}
	}
	if strings.Contains(rss, "Latest articles") || strings.Contains(rss, " and Ana Lima") {
		t.Error("English words in a German site's feed")
	}
}
