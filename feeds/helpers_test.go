package feeds

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testNow is the fixed clock of every test.
var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// clock is an injectable, settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testNow} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testEnv is a real SQLite store in t.TempDir() with a builder over it.
type testEnv struct {
	st    *store.Store
	b     *Builder
	clock *clock
}

func testOptions(c *clock) Options {
	return Options{
		SiteName: "Herald Times", SiteURL: "https://news.example.com", Language: "en-GB",
		Icon: "/icon.png", Logo: "https://news.example.com/logo.png", Items: 50,
		Logger: quiet, Now: c.Now,
	}
}

// newEnv opens a fresh database and loads the SQL files (paths relative to
// the package directory) into it.
func newEnv(tb testing.TB, sqlFiles ...string) *testEnv {
	tb.Helper()
	ctx := context.Background()
	c := newClock()
	st, err := store.Open(ctx, filepath.Join(tb.TempDir(), "herald.db"), store.Options{Now: c.Now, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	for _, f := range sqlFiles {
		execFile(tb, st, f)
	}
	return &testEnv{st: st, b: NewBuilder(st, testOptions(c)), clock: c}
}

func execFile(tb testing.TB, st *store.Store, file string) {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.W.ExecContext(context.Background(), string(b)); err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
}

func (e *testEnv) exec(tb testing.TB, q string, args ...any) {
	tb.Helper()
	if _, err := e.st.W.ExecContext(context.Background(), q, args...); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
}

const seedSQL = "../internal/store/testdata/seed-article.sql"

// feedByPath finds a feed of b by its RSS path.
func feedByPath(tb testing.TB, b *Builder, p string) Feed {
	tb.Helper()
	fs, err := b.Feeds(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range fs {
		if f.ID.Path(RSS) == p {
			return f
		}
	}
	tb.Fatalf("no feed %s", p)
	return Feed{}
}

// --- checks every output must pass ---

var rfc3339Offset = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)

func absHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

type xRSS struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		AtomLinks   []xLink `xml:"http://www.w3.org/2005/Atom link"` // before Link: the first matching field wins
		Title       string  `xml:"title"`
		Link        string  `xml:"link"`
		Description string  `xml:"description"`
		Language    string  `xml:"language"`
		Items       []struct {
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			Description string `xml:"description"`
			Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			GUID        struct {
				Value       string `xml:",chardata"`
				IsPermaLink string `xml:"isPermaLink,attr"`
			} `xml:"guid"`
			PubDate    string   `xml:"pubDate"`
			Author     string   `xml:"author"`
			Creators   []string `xml:"http://purl.org/dc/elements/1.1/ creator"`
			Categories []string `xml:"category"`
			Enclosure  *xLink   `xml:"enclosure"`
			Media      []struct {
				URL    string `xml:"url,attr"`
				Medium string `xml:"medium,attr"`
				Type   string `xml:"type,attr"`
			} `xml:"http://search.yahoo.com/mrss/ content"`
			Thumbnail []struct {
				URL string `xml:"url,attr"`
			} `xml:"http://search.yahoo.com/mrss/ thumbnail"`
		} `xml:"item"`
	} `xml:"channel"`
}

type xLink struct {
	Href string `xml:"href,attr"`
	URL  string `xml:"url,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type xPerson struct {
	Name string `xml:"http://www.w3.org/2005/Atom name"`
	URI  string `xml:"http://www.w3.org/2005/Atom uri"`
}

type xAtom struct {
	XMLName   xml.Name  `xml:"http://www.w3.org/2005/Atom feed"`
	Lang      string    `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID        string    `xml:"http://www.w3.org/2005/Atom id"`
	Title     string    `xml:"http://www.w3.org/2005/Atom title"`
	Updated   string    `xml:"http://www.w3.org/2005/Atom updated"`
	Links     []xLink   `xml:"http://www.w3.org/2005/Atom link"`
	Authors   []xPerson `xml:"http://www.w3.org/2005/Atom author"`
	Generator string    `xml:"http://www.w3.org/2005/Atom generator"`
	Entries   []struct {
		ID         string    `xml:"http://www.w3.org/2005/Atom id"`
		Title      string    `xml:"http://www.w3.org/2005/Atom title"`
		Updated    string    `xml:"http://www.w3.org/2005/Atom updated"`
		Published  string    `xml:"http://www.w3.org/2005/Atom published"`
		Links      []xLink   `xml:"http://www.w3.org/2005/Atom link"`
		Authors    []xPerson `xml:"http://www.w3.org/2005/Atom author"`
		Categories []struct {
			Term  string `xml:"term,attr"`
			Label string `xml:"label,attr"`
		} `xml:"http://www.w3.org/2005/Atom category"`
		Content struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"http://www.w3.org/2005/Atom content"`
	} `xml:"http://www.w3.org/2005/Atom entry"`
}

type xJSONAuthor struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Avatar string `json:"avatar"`
}

type xJSON struct {
	Version     string        `json:"version"`
	Title       string        `json:"title"`
	HomePageURL string        `json:"home_page_url"`
	FeedURL     string        `json:"feed_url"`
	Description string        `json:"description"`
	Icon        string        `json:"icon"`
	Favicon     string        `json:"favicon"`
	Language    string        `json:"language"`
	Authors     []xJSONAuthor `json:"authors"`
	Hubs        []struct{ Type, URL string }
	Items       *[]xJSONItem   `json:"items"`
	Extra       map[string]any `json:"-"`
}

type xJSONItem struct {
	ID            string        `json:"id"`
	URL           string        `json:"url"`
	Title         string        `json:"title"`
	ContentHTML   string        `json:"content_html"`
	ContentText   string        `json:"content_text"`
	Summary       string        `json:"summary"`
	Image         string        `json:"image"`
	DatePublished string        `json:"date_published"`
	DateModified  string        `json:"date_modified"`
	Authors       []xJSONAuthor `json:"authors"`
	Tags          []string      `json:"tags"`
}

// strictXML decodes data with a strict encoding/xml decoder, token by
// token (every token, so a well-formedness error anywhere fails), then into v.
func strictXML(data []byte, v any) error {
	d := xml.NewDecoder(strings.NewReader(string(data)))
	d.Strict = true
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	d = xml.NewDecoder(strings.NewReader(string(data)))
	d.Strict = true
	return d.Decode(v)
}

// checkSet parses every format of a built feed back with gofeed and a
// strict decoder and asserts it carries exactly want, in order.
func checkSet(t *testing.T, b *Builder, f Feed, set Set, want []model.Article) {
	t.Helper()
	checkRSS(t, b, f, set[RSS], want)
	checkAtom(t, b, f, set[Atom], want)
	checkJSON(t, b, f, set[JSON], want)
}

func names(as []model.Author) []string {
	var out []string
	for _, a := range as {
		if a.Name != "" {
			out = append(out, a.Name)
		}
	}
	return out
}

// creators is what RSS carries for a byline: one dc:creator naming every
// co-author in order, or none.
func creators(as []model.Author) []string {
	if by := byline(as); by != "" {
		return []string{by}
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func checkRSS(t *testing.T, b *Builder, f Feed, data []byte, want []model.Article) {
	t.Helper()
	var x xRSS
	if err := strictXML(data, &x); err != nil {
		t.Fatalf("%s: strict XML: %v", f.ID.Path(RSS), err)
	}
	ch := x.Channel
	if x.Version != "2.0" || ch.Title != f.Title || !absHTTP(ch.Link) || ch.Language != b.opt.Language || ch.Description == "" {
		t.Errorf("%s: channel %q %q %q %q", f.ID.Path(RSS), ch.Title, ch.Link, ch.Language, ch.Description)
	}
	self := false
	for _, l := range ch.AtomLinks {
		if l.Rel == "self" && l.Href == b.URL(f.ID, RSS) {
			self = true
		}
	}
	if !self {
		t.Errorf("%s: no atom:link rel=self", f.ID.Path(RSS))
	}
	if len(ch.Items) != len(want) {
		t.Fatalf("%s: %d items, want %d", f.ID.Path(RSS), len(ch.Items), len(want))
	}
	for i, it := range ch.Items {
		w := want[i]
		if it.GUID.Value != w.GUID || it.Title != w.Title || it.Link != w.URL || !absHTTP(it.Link) {
			t.Errorf("%s item %d: guid %q title %q link %q; want %q %q %q", f.ID.Path(RSS), i, it.GUID.Value, it.Title, it.Link, w.GUID, w.Title, w.URL)
		}
		if wantPL := map[bool]string{true: "true", false: "false"}[w.GUID == w.URL]; it.GUID.IsPermaLink != wantPL {
			t.Errorf("%s item %d: isPermaLink %q", f.ID.Path(RSS), i, it.GUID.IsPermaLink)
		}
		if pt, err := time.Parse(time.RFC1123Z, it.PubDate); err != nil || !pt.Equal(w.PublishedAt) {
			t.Errorf("%s item %d: pubDate %q, want %v", f.ID.Path(RSS), i, it.PubDate, w.PublishedAt)
		}
		if !equalStrings(it.Creators, creators(w.Authors)) || it.Author != "" {
			t.Errorf("%s item %d: dc:creator %q author %q, want %q", f.ID.Path(RSS), i, it.Creators, it.Author, creators(w.Authors))
		}
		if w.Section.Name != "" && !equalStrings(it.Categories, []string{w.Section.Name}) {
			t.Errorf("%s item %d: categories %q", f.ID.Path(RSS), i, it.Categories)
		}
		x := b.derive(&w, w.GUID)
		if x.summary {
			if it.Content != "" || it.Description != x.teaser {
				t.Errorf("%s item %d: summary mode with content:encoded %q, description %q", f.ID.Path(RSS), i, it.Content, it.Description)
			}
		} else if it.Content != w.BodyHTML {
			t.Errorf("%s item %d: content:encoded differs from the cleaned body", f.ID.Path(RSS), i)
		}
		if it.Enclosure != nil {
			t.Errorf("%s item %d: an enclosure %+v: images are Media RSS", f.ID.Path(RSS), i, it.Enclosure)
		}
		if w.ImageURL != "" && (len(it.Media) != 1 || it.Media[0].URL != w.ImageURL || it.Media[0].Medium != "image" ||
			len(it.Thumbnail) != 1 || it.Thumbnail[0].URL != w.ImageURL) {
			t.Errorf("%s item %d: media %+v thumbnail %+v, want %s", f.ID.Path(RSS), i, it.Media, it.Thumbnail, w.ImageURL)
		}
		if w.ImageURL == "" && len(it.Media)+len(it.Thumbnail) > 0 {
			t.Errorf("%s item %d: media without an image", f.ID.Path(RSS), i)
		}
	}
	gf, err := gofeed.NewParser().ParseString(string(data))
	if err != nil {
		t.Fatalf("%s: gofeed: %v", f.ID.Path(RSS), err)
	}
	if gf.FeedType != "rss" || len(gf.Items) != len(want) || gf.Language != b.opt.Language {
		t.Fatalf("%s: gofeed type %q, %d items, language %q", f.ID.Path(RSS), gf.FeedType, len(gf.Items), gf.Language)
	}
	for i, it := range gf.Items {
		w := want[i]
		if it.GUID != w.GUID || it.Link != w.URL || it.PublishedParsed == nil || !it.PublishedParsed.Equal(w.PublishedAt) {
			t.Errorf("%s gofeed item %d: %q %q %v", f.ID.Path(RSS), i, it.GUID, it.Link, it.PublishedParsed)
		}
		var got []string
		if it.DublinCoreExt != nil {
			got = it.DublinCoreExt.Creator
		}
		if !equalStrings(got, creators(w.Authors)) {
			t.Errorf("%s gofeed item %d: creators %q", f.ID.Path(RSS), i, got)
		}
		if len(w.Authors) > 0 && w.Authors[0].Name != "" && (it.Author == nil || !strings.HasPrefix(it.Author.Name, w.Authors[0].Name)) {
			t.Errorf("%s gofeed item %d: author %+v, want the lead author %q first", f.ID.Path(RSS), i, it.Author, w.Authors[0].Name)
		}
	}
}

func checkAtom(t *testing.T, b *Builder, f Feed, data []byte, want []model.Article) {
	t.Helper()
	p := f.ID.Path(Atom)
	var x xAtom
	if err := strictXML(data, &x); err != nil {
		t.Fatalf("%s: strict XML: %v", p, err)
	}
	if x.ID != b.ids.atomID(b.URL(f.ID, Atom)) || !validIRI(x.ID) || x.Title != f.Title || x.Lang != b.opt.Language || x.Generator == "" {
		t.Errorf("%s: feed id %q title %q lang %q", p, x.ID, x.Title, x.Lang)
	}
	rels := map[string]string{}
	for _, l := range x.Links {
		rels[l.Rel] = l.Href
		if !absHTTP(l.Href) {
			t.Errorf("%s: relative link %q", p, l.Href)
		}
	}
	if rels["self"] != b.URL(f.ID, Atom) || rels["alternate"] == "" {
		t.Errorf("%s: links %v", p, rels)
	}
	// The schema's Schematron rules, which jing skips.
	if !rfc3339Offset.MatchString(x.Updated) {
		t.Errorf("%s: feed updated %q has no offset", p, x.Updated)
	}
	if len(x.Entries) != len(want) {
		t.Fatalf("%s: %d entries, want %d", p, len(x.Entries), len(want))
	}
	for i, e := range x.Entries {
		w := want[i]
		if len(e.Authors) == 0 && len(x.Authors) == 0 {
			t.Errorf("%s entry %d: no author, and the feed has none", p, i)
		}
		for _, a := range append(e.Authors, x.Authors...) {
			if a.Name == "" || (a.URI != "" && !absHTTP(a.URI)) {
				t.Errorf("%s entry %d: author %+v", p, i, a)
			}
		}
		if got := personNames(e.Authors); !equalStrings(got, names(w.Authors)) {
			t.Errorf("%s entry %d: authors %q, want %q", p, i, got, names(w.Authors))
		}
		if !rfc3339Offset.MatchString(e.Updated) || !rfc3339Offset.MatchString(e.Published) {
			t.Errorf("%s entry %d: dates %q %q need an offset", p, i, e.Updated, e.Published)
		}
		up, _ := time.Parse(time.RFC3339, e.Updated)
		pub, _ := time.Parse(time.RFC3339, e.Published)
		if !up.Equal(w.Modified()) || !pub.Equal(w.PublishedAt) {
			t.Errorf("%s entry %d: updated %s published %s", p, i, e.Updated, e.Published)
		}
		if want := b.ids.atomID(w.GUID); e.ID != want || !validIRI(e.ID) || e.Title != w.Title {
			t.Errorf("%s entry %d: id %q title %q, want %q %q", p, i, e.ID, e.Title, want, w.Title)
		}
		alt := false
		for _, l := range e.Links {
			if !absHTTP(l.Href) {
				t.Errorf("%s entry %d: relative link %q", p, i, l.Href)
			}
			if l.Rel == "alternate" && l.Href == w.URL {
				alt = true
			}
		}
		if !alt {
			t.Errorf("%s entry %d: no alternate link to %s", p, i, w.URL)
		}
		if w.Section.Slug != "" && (len(e.Categories) != 1 || e.Categories[0].Term != w.Section.Slug || e.Categories[0].Label != w.Section.Name) {
			t.Errorf("%s entry %d: categories %+v", p, i, e.Categories)
		}
		if x := b.derive(&w, w.GUID); x.summary {
			if e.Content.Body != "" {
				t.Errorf("%s entry %d: summary mode with content", p, i)
			}
		} else if e.Content.Body != w.BodyHTML || (w.BodyHTML != "" && e.Content.Type != "html") {
			t.Errorf("%s entry %d: content differs from the cleaned body", p, i)
		}
		for _, l := range e.Links {
			if l.Rel == "enclosure" && (l.Type == "" || l.Href != w.ImageURL) {
				t.Errorf("%s entry %d: enclosure %+v", p, i, l)
			}
		}
	}
	gf, err := gofeed.NewParser().ParseString(string(data))
	if err != nil {
		t.Fatalf("%s: gofeed: %v", p, err)
	}
	if gf.FeedType != "atom" || len(gf.Items) != len(want) {
		t.Fatalf("%s: gofeed type %q, %d items", p, gf.FeedType, len(gf.Items))
	}
	for i, it := range gf.Items {
		if it.GUID != b.ids.atomID(want[i].GUID) || it.Link != want[i].URL || it.UpdatedParsed == nil {
			t.Errorf("%s gofeed entry %d: %q %q", p, i, it.GUID, it.Link)
		}
	}
	atomFiles.add(t, p, data)
}

func personNames(ps []xPerson) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func checkJSON(t *testing.T, b *Builder, f Feed, data []byte, want []model.Article) {
	t.Helper()
	p := f.ID.Path(JSON)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if _, ok := raw["items"]; !ok {
		t.Fatalf("%s: no items key", p)
	}
	if strings.Contains(string(data), `"banner_"`) || strings.Contains(string(data), `"author":`) {
		t.Errorf("%s: carries banner_ or the 1.0 author key", p)
	}
	var x xJSON
	if err := json.Unmarshal(data, &x); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if x.Version != "https://jsonfeed.org/version/1.1" || x.Title != f.Title || x.FeedURL != b.URL(f.ID, JSON) ||
		!absHTTP(x.HomePageURL) || x.Language != b.opt.Language || len(x.Authors) == 0 {
		t.Errorf("%s: feed %+v", p, x)
	}
	if x.Items == nil || len(*x.Items) != len(want) {
		t.Fatalf("%s: items %v, want %d", p, x.Items, len(want))
	}
	for i, it := range *x.Items {
		w := want[i]
		if it.ID != w.GUID || it.URL != w.URL || it.Title != w.Title || (it.ContentHTML == "" && it.ContentText == "") {
			t.Errorf("%s item %d: %q %q %q", p, i, it.ID, it.URL, it.Title)
		}
		pub, err1 := time.Parse(time.RFC3339, it.DatePublished)
		mod, err2 := time.Parse(time.RFC3339, it.DateModified)
		if err1 != nil || err2 != nil || !pub.Equal(w.PublishedAt) || !mod.Equal(w.Modified()) {
			t.Errorf("%s item %d: dates %q %q", p, i, it.DatePublished, it.DateModified)
		}
		var got []string
		for _, a := range it.Authors {
			got = append(got, a.Name)
			for _, u := range []string{a.URL, a.Avatar} {
				if u != "" && !absHTTP(u) {
					t.Errorf("%s item %d: relative author URL %q", p, i, u)
				}
			}
		}
		if !equalStrings(got, names(w.Authors)) {
			t.Errorf("%s item %d: authors %q", p, i, got)
		}
		if w.Section.Name != "" && !equalStrings(it.Tags, []string{w.Section.Name}) {
			t.Errorf("%s item %d: tags %q", p, i, it.Tags)
		}
		if x := b.derive(&w, w.GUID); x.summary && (it.ContentHTML != x.teaser || (w.BodyHTML != "" && strings.Contains(it.ContentHTML+it.Summary, w.BodyHTML))) {
			t.Errorf("%s item %d: summary mode content %q", p, i, it.ContentHTML)
		} else if !x.summary && w.BodyHTML != "" && it.ContentHTML != w.BodyHTML {
			t.Errorf("%s item %d: content_html differs from the cleaned body", p, i)
		}
		if it.Image != w.ImageURL {
			t.Errorf("%s item %d: image %q", p, i, it.Image)
		}
	}
	gf, err := gofeed.NewParser().ParseString(string(data))
	if err != nil {
		t.Fatalf("%s: gofeed: %v", p, err)
	}
	if gf.FeedType != "json" || len(gf.Items) != len(want) {
		t.Fatalf("%s: gofeed type %q, %d items", p, gf.FeedType, len(gf.Items))
	}
	jsonFiles.add(t, p, data)
}

// atomFiles collects Atom documents so jing runs once per test (one JVM).
var atomFiles jingBatch

type jingBatch struct {
	mu    sync.Mutex
	dir   string
	files []string
}

func (j *jingBatch) add(t *testing.T, name string, data []byte) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.dir == "" {
		d, err := os.MkdirTemp("", "herald-atom-")
		if err != nil {
			t.Fatal(err)
		}
		j.dir = d
	}
	p := filepath.Join(j.dir, strings.NewReplacer("/", "_").Replace(name)+"-"+time.Now().Format("150405.000000000")+".atom")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	j.files = append(j.files, p)
}

// jingValidate validates every collected Atom document against RFC 4287's
// RELAX NG schema (compact syntax) with jing. Without jing the check is
// skipped, except in CI (CI set), where it fails.
func (j *jingBatch) validate(t *testing.T) {
	t.Helper()
	j.mu.Lock()
	files := j.files
	j.files = nil
	j.mu.Unlock()
	if len(files) == 0 {
		return
	}
	jing, err := exec.LookPath("jing")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("jing not found: CI must validate Atom against testdata/atom.rnc (apt-get install jing)")
		}
		t.Log("jing not found: Atom RELAX NG check skipped (install jing)")
		return
	}
	args := append([]string{"-c", "testdata/atom.rnc"}, files...)
	out, err := exec.Command(jing, args...).CombinedOutput()
	var errs []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.Contains(l, "[warning]") {
			errs = append(errs, l)
		}
	}
	if err != nil || len(errs) > 0 {
		t.Errorf("jing: %v\n%s", err, strings.Join(errs, "\n"))
	}
	for _, f := range files {
		os.Remove(f)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	for _, d := range []string{atomFiles.dir, jsonFiles.dir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}
