package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

func guids(arts []model.Article) []string {
	out := make([]string, len(arts))
	for i, a := range arts {
		out[i] = a.GUID
	}
	return out
}

func goldenOptions(e *testEnv) Options {
	opt := testOptions(e.clock)
	opt.XSL = "/feeds/style.xsl"
	opt.Hubs = []string{"https://hub.example.com/"}
	return opt
}

// TestGolden pins the bytes of a site, a section and an author feed in all
// three formats. Rewrite them deliberately with go test ./feeds -run Golden -update.
func TestGolden(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	b := NewBuilder(e.st, goldenOptions(e))
	cases := []struct {
		path string
		want []string
	}{
		{"/feeds/all.rss", []string{"https://news.example.com/world-news/permalink", "urn:herald:article:tie-high",
			"urn:herald:article:tie-low", "urn:herald:article:chips", "urn:herald:article:putin-accepts-kim-invitation"}},
		{"/feeds/sections/technology.rss", []string{"urn:herald:article:tie-low", "urn:herald:article:chips"}},
		{"/feeds/authors/ana-lima.rss", []string{"urn:herald:article:tie-low", "urn:herald:article:chips"}},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			f := feedByPath(t, b, c.path)
			arts, err := b.Articles(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if got := guids(arts); !equalStrings(got, c.want) {
				t.Fatalf("order %q, want %q", got, c.want)
			}
			set, err := b.Encode(f, arts)
			if err != nil {
				t.Fatal(err)
			}
			checkSet(t, b, f, set, arts)
			name := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(c.path, "/feeds/"), ".rss"), "/", "-")
			for _, ft := range Formats {
				golden := filepath.Join("testdata", "golden", name+"."+ft.Ext())
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, set[ft], 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(set[ft], want) {
					t.Errorf("%s differs from the golden file:\n%s", golden, set[ft])
				}
			}
		})
	}
	validateAll(t)
}

// TestEveryFeed builds every feed of the golden database, including the
// empty section and the author with no articles, and parses each back.
func TestEveryFeed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	feeds, err := e.b.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range feeds {
		paths = append(paths, f.ID.Path(JSON))
	}
	want := []string{"/feeds/all.json", "/feeds/authors/ana-lima.json", "/feeds/authors/ned-quiet.json",
		"/feeds/authors/robert-overtone.json", "/feeds/sections/quiet.json", "/feeds/sections/technology.json",
		"/feeds/sections/world-news.json"}
	if !equalStrings(paths, want) {
		t.Fatalf("feeds %q, want %q", paths, want)
	}
	for _, f := range feeds {
		arts, err := e.b.Articles(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		set, err := e.b.Encode(f, arts)
		if err != nil {
			t.Fatal(err)
		}
		checkSet(t, e.b, f, set, arts)
		if f.ID.Slug == "quiet" || f.ID.Slug == "ned-quiet" {
			if len(arts) != 0 {
				t.Errorf("%s: %d articles, want none", f.ID, len(arts))
			}
			if !bytes.Contains(set[JSON], []byte(`"items": []`)) {
				t.Errorf("%s: JSON without \"items\": []:\n%s", f.ID, set[JSON])
			}
			if !bytes.Contains(set[Atom], []byte("<updated>1970-01-01T00:00:00Z</updated>")) {
				t.Errorf("%s: empty Atom feed without a fixed updated:\n%s", f.ID, set[Atom])
			}
		}
		// Deterministic: the same database and clock give the same bytes.
		again, err := e.b.Build(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again[RSS], set[RSS]) || !bytes.Equal(again[Atom], set[Atom]) || !bytes.Equal(again[JSON], set[JSON]) {
			t.Errorf("%s: two builds differ", f.ID)
		}
	}
	validateAll(t)
}

// TestHostileRows loads every hostile case into a real database and checks
// that each feed still parses, carries nothing dangerous, and holds exactly
// the articles it should.
func TestHostileRows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds feeds with a 1 MB article")
	}
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/hostile.sql")
	feeds, err := e.b.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range feeds {
		ids = append(ids, f.ID.String())
	}
	wantIDs := []string{"all", "author:mallory", "author:robert-overtone", "author:rtl", "section:hostile", "section:world-news"}
	if !equalStrings(ids, wantIDs) {
		t.Fatalf("feeds %q, want %q (invalid slugs get none)", ids, wantIDs)
	}
	site := feeds[0]
	arts, err := e.b.Articles(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	wantGUIDs := []string{"traversal-section", "bad-slug-section", "invalid-utf8", "no-author", "empty-summary",
		"crlf-title", "huge", "emoji", "rtl", "relative", "javascript-links", "event-handler", "script", "cdata-end",
		"forbidden-chars", "urn:herald:article:putin-accepts-kim-invitation"}
	if got := guids(arts); !equalStrings(got, wantGUIDs) {
		t.Fatalf("site feed %q\nwant %q", got, wantGUIDs)
	}
	for _, f := range feeds {
		arts, err := e.b.Articles(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		set, err := e.b.Encode(f, arts)
		if err != nil {
			t.Fatal(err)
		}
		checkSet(t, e.b, f, set, arts)
		var html strings.Builder // the HTML fields of the JSON feed (its titles are plain text)
		var jf xJSON
		if err := json.Unmarshal(set[JSON], &jf); err != nil {
			t.Fatal(err)
		}
		for _, it := range *jf.Items {
			html.WriteString(it.ContentHTML + it.Summary + it.URL + it.Image)
		}
		for _, ft := range Formats {
			s := strings.ToLower(string(set[ft]))
			if ft == JSON {
				s = strings.ToLower(html.String())
			}
			for _, bad := range []string{"<script", "onerror", "onclick", "javascript:", "<iframe", "\r", "x-injected: yes\n"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s carries %q", f.ID.Path(ft), bad)
				}
			}
		}
		rss := string(set[RSS])
		if strings.Count(rss, "<![CDATA[") != strings.Count(rss, "]]>") {
			t.Errorf("%s: a raw ]]> outside a CDATA end", f.ID.Path(RSS))
		}
	}
	byGUID := map[string]model.Article{}
	for _, a := range arts {
		byGUID[a.GUID] = a
	}
	if a := byGUID["crlf-title"]; a.Title != "Line one Line two X-Injected: yes" {
		t.Errorf("crlf title %q", a.Title)
	}
	if a := byGUID["huge"]; len(a.BodyHTML) < 1<<20 {
		t.Errorf("huge body cut to %d bytes", len(a.BodyHTML))
	}
	if a := byGUID["javascript-links"]; a.URL != "https://news.example.com/" || a.ImageURL != "" {
		t.Errorf("javascript: URL %q image %q", a.URL, a.ImageURL)
	}
	if a := byGUID["relative"]; a.URL != "https://news.example.com/h/6?a=1&b=2" || a.ImageURL != "https://news.example.com/h/img/lead.jpg" {
		t.Errorf("relative URL %q image %q", a.URL, a.ImageURL)
	}
	if a := byGUID["forbidden-chars"]; a.Title != "Forbidden chars" {
		t.Errorf("forbidden chars title %q", a.Title)
	}
	validateAll(t)
}

// TestCDATAEnd feeds a body holding "]]>" straight to the encoder (the
// sanitiser would escape it) and checks content:encoded round-trips.
func TestCDATAEnd(t *testing.T) {
	b := NewBuilder(nil, testOptions(newClock()))
	a := model.Article{ID: 1, GUID: "g", URL: "https://news.example.com/a", Title: "t",
		BodyHTML: "<p>x]]>y]]]]>z</p>", PublishedAt: testNow.Add(-1e9)}
	f := b.siteFeed()
	set, err := b.Encode(f, []model.Article{a})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(set[RSS], []byte("x]]>y")) {
		t.Fatalf("raw ]]> inside CDATA:\n%s", set[RSS])
	}
	checkSet(t, b, f, set, []model.Article{a})
	validateAll(t)
}
