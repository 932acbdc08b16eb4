package feeds

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/heraldnews/herald/internal/model"
)

// FuzzFeedURLs puts arbitrary strings into the link fields a CMS writes
// (article url and image_url, author url and avatar_url) and the guid:
// every format still parses, and no script URL survives into any feed.
// FuzzFeeds covers the text fields. The seed corpus is in
// testdata/fuzz/FuzzFeedURLs.
func FuzzFeedURLs(f *testing.F) {
	f.Add("urn:a", "/a", "/img.png", "https://ann.example", "//cdn.example/a.png")
	b := NewBuilder(nil, testOptions(newClock()))
	f.Fuzz(func(t *testing.T, guid, link, image, authorURL, avatar string) {
		sec := model.Section{ID: 1, Slug: "s", Name: "S"}
		au := model.Author{ID: 2, Slug: "a", Name: "Ann", URL: authorURL, AvatarURL: avatar}
		raw := model.Article{ID: 3, GUID: guid, URL: link, ImageURL: image, Title: "T",
			Section: sec, Authors: []model.Author{au}, PublishedAt: testNow}
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
				if _, err := gofeed.NewParser().ParseString(string(set[ft])); err != nil {
					t.Fatalf("%s: gofeed: %v\n%s", fd.ID.Path(ft), err, set[ft])
				}
				low := strings.ToLower(string(set[ft]))
				for _, bad := range []string{`href="javascript:`, `"javascript:`, `>javascript:`, `url="javascript:`, `src="javascript:`, `"vbscript:`, `"data:text/html`} {
					if strings.Contains(low, bad) {
						t.Fatalf("%s: a script URL survived (%s):\n%s", fd.ID.Path(ft), bad, set[ft])
					}
				}
			}
		}
	})
}
