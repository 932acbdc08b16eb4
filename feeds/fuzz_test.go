package feeds

import (
	"encoding/json"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/heraldnews/herald/internal/model"
)

// FuzzFeeds puts arbitrary strings into an article's title, summary and
// body, its author's name and its section's name, and checks that every
// format of the site, section and author feed still parses: strictly as
// XML or JSON, and with gofeed, with the one entry and its guid intact.
// The seed corpus is in testdata/fuzz/FuzzFeeds.
func FuzzFeeds(f *testing.F) {
	f.Add("Title", "<p>Summary</p>", "<p>Body</p>", "Ana", "World")
	b := NewBuilder(nil, testOptions(newClock()))
	f.Fuzz(func(t *testing.T, title, summary, body, author, section string) {
		sec := model.Section{ID: 1, Slug: "s", Name: section, Description: section}
		au := model.Author{ID: 2, Slug: "a", Name: author, Bio: author}
		raw := model.Article{ID: 3, GUID: "urn:herald:fuzz", URL: "/a", Title: title, Summary: summary,
			BodyHTML: body, Section: sec, Authors: []model.Author{au}, PublishedAt: testNow}
		a, ok := b.clean.Article(raw)
		if !ok {
			t.Skip()
		}
		for _, fd := range []Feed{b.siteFeed(), b.SectionFeed(sec), b.AuthorFeed(au)} {
			set, err := b.Encode(fd, []model.Article{a})
			if err != nil {
				t.Fatalf("%s: encode: %v", fd.ID, err)
			}
			for _, ft := range []Format{RSS, Atom} {
				if err := strictXML(set[ft], new(struct{})); err != nil {
					t.Fatalf("%s: strict XML: %v\n%s", fd.ID.Path(ft), err, set[ft])
				}
			}
			if !json.Valid(set[JSON]) {
				t.Fatalf("%s: invalid JSON", fd.ID.Path(JSON))
			}
			for _, ft := range Formats {
				g, err := gofeed.NewParser().ParseString(string(set[ft]))
				if err != nil {
					t.Fatalf("%s: gofeed: %v\n%s", fd.ID.Path(ft), err, set[ft])
				}
				if len(g.Items) != 1 || g.Items[0].GUID != "urn:herald:fuzz" {
					t.Fatalf("%s: gofeed items %d", fd.ID.Path(ft), len(g.Items))
				}
			}
		}
	})
}
