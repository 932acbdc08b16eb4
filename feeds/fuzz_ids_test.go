package feeds

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/mmcdole/gofeed"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
)

// idSeeds are guids as CMSs write them, and the edges of the id rule.
var idSeeds = [][5]string{
	{"12345", "12346", "Priya Nair", "Robert Overtone", "Ana Lima"},
	{"urn:herald:article:1", "urn:herald:article:2", "Solo", "", ""},
	{"https://news.example.com/a/1", "http://NEWS.example.com/a/1#x", "", "", ""},
	{"tag:news.example.com,2026-01-01:12345", "12345", "A", "B", ""},
	{"TAG:News.Example.COM,2026-01-01:x", "x", "", "   ", "C\r\nD"},
	{"post name with spaces & <brackets>", "post%20name", "Émile Zola", "李小龙", "عمر"},
	{"urn:x", "urn::y", "a", "b", "c"},
	{"mailto:editor@example.com", "news:comp.lang.go", "", "", ""},
	{"http://[::1]/x", "http://[v1.fe]/y", "", "", ""},
	{"\x00\xff\uFFFE", "\t", "\x01", "", ""},
	{"%", "%25", "", "", ""},
}

// FuzzIDs puts arbitrary guids and co-author names into an article and
// checks the id rule and the bylines: every Atom id is an RFC 3987 IRI,
// depends on the guid alone, and two guids never share one; the Atom
// document parses strictly; RSS carries one dc:creator, lead author
// first; Atom one author per named co-author, in order. The seed corpus
// (and testdata/fuzz/FuzzIDs) is also validated against RFC 4287's schema
// by TestIDCorpusSchema.
func FuzzIDs(f *testing.F) {
	for _, s := range idSeeds {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	b := NewBuilder(nil, testOptions(newClock()))
	f.Fuzz(func(t *testing.T, g1, g2, a1, a2, a3 string) {
		id1, id2 := b.ids.atomID(g1), b.ids.atomID(g2)
		if !validIRI(id1) || !validIRI(id2) {
			t.Fatalf("not IRIs: %q -> %q, %q -> %q", g1, id1, g2, id2)
		}
		if g1 != g2 && id1 == id2 {
			t.Fatalf("guids %q and %q share the id %q", g1, g2, id1)
		}
		set, arts := idDoc(t, b, g1, a1, a2, a3, "Title one")
		again, _ := idDoc(t, b, g1, a1, a2, a3, "Another title, same guid")
		var x, y xAtom
		if err := strictXML(set[Atom], &x); err != nil {
			t.Fatalf("strict XML: %v\n%s", err, set[Atom])
		}
		if err := strictXML(again[Atom], &y); err != nil {
			t.Fatal(err)
		}
		if len(arts) == 0 {
			return // not an article any feed carries (no title, no URL)
		}
		want := id1
		if sanitize.Line(g1) == "" {
			want = b.ids.atomID(arts[0].GUID) // urn:herald:article:ID stands in
		}
		if len(x.Entries) != 1 || x.Entries[0].ID != want || y.Entries[0].ID != want {
			t.Fatalf("entry id %v, want %q whatever the title", x.Entries, want)
		}
		var names []string
		for _, au := range arts[0].Authors {
			if au.Name != "" {
				names = append(names, au.Name)
			}
		}
		if got := personNames(x.Entries[0].Authors); !equalStrings(got, names) {
			t.Fatalf("atom authors %q, want %q", got, names)
		}
		var r xRSS
		if err := strictXML(set[RSS], &r); err != nil {
			t.Fatal(err)
		}
		cr := r.Channel.Items[0].Creators
		if len(names) == 0 && len(cr) != 0 || len(names) > 0 && (len(cr) != 1 || !strings.HasPrefix(cr[0], names[0])) {
			t.Fatalf("dc:creator %q for %q", cr, names)
		}
		g, err := gofeed.NewParser().ParseString(string(set[RSS]))
		if err != nil {
			t.Fatal(err)
		}
		// Readers parse "Name (email)" shapes out of a creator: hold them to
		// the lead author first only for names plainly made of words.
		if len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return !plainName(n) }) && (g.Items[0].Author == nil || !strings.HasPrefix(g.Items[0].Author.Name, names[0])) {
			t.Fatalf("a reader shows %+v first, not the lead author %q", g.Items[0].Author, names[0])
		}
	})
}

// idDoc encodes one article with guid and co-authors as the site feed.
func idDoc(t *testing.T, b *Builder, guid, a1, a2, a3, title string) (Set, []model.Article) {
	t.Helper()
	raw := model.Article{ID: 7, GUID: guid, URL: "/a/7", Title: title, PublishedAt: testNow,
		Section: model.Section{ID: 1, Slug: "news", Name: "News"}}
	for i, n := range []string{a1, a2, a3} {
		raw.Authors = append(raw.Authors, model.Author{ID: int64(i + 1), Slug: "a" + string(rune('1'+i)), Name: n})
	}
	a, ok := b.cleanArticle(raw, nil)
	var arts []model.Article
	var items []*item
	if ok {
		arts = append(arts, a)
		items = append(items, b.newItem(b.derive(&a, guid)))
	}
	return b.doc(b.siteFeed(), items).encode(nil), arts
}

// TestIDCorpusSchema validates the Atom documents of FuzzIDs's seed corpus
// and checked-in corpus against RFC 4287's RELAX NG schema.
func TestIDCorpusSchema(t *testing.T) {
	b := NewBuilder(nil, testOptions(newClock()))
	inputs := append([][5]string(nil), idSeeds...)
	files, _ := filepath.Glob("testdata/fuzz/FuzzIDs/*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if in, ok := corpusStrings(string(data), 5); ok {
			inputs = append(inputs, [5]string(in))
		}
	}
	for i, in := range inputs {
		set, _ := idDoc(t, b, in[0], in[2], in[3], in[4], "Title")
		atomFiles.add(t, "ids-"+string(rune('a'+i%26)), set[Atom])
		jsonFiles.add(t, "ids-"+string(rune('a'+i%26)), set[JSON])
	}
	validateAll(t)
}

// corpusStrings reads a Go fuzz corpus file of n string values.
func corpusStrings(data string, n int) ([]string, bool) {
	lines := strings.Split(strings.TrimSpace(data), "\n")
	if len(lines) != n+1 || lines[0] != "go test fuzz v1" {
		return nil, false
	}
	var out []string
	for _, l := range lines[1:] {
		q, ok := strings.CutPrefix(l, "string(")
		if !ok {
			return nil, false
		}
		s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
		if err != nil {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func plainName(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == ' ' || r == '.' || r == '-' || r == '\'' || unicode.IsLetter(r))
	}) < 0 && strings.TrimSpace(s) == s
}
