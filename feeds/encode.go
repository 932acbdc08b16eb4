package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"path"
	"strings"
	"time"

	gf "github.com/gorilla/feeds"

	"github.com/heraldnews/herald/internal/model"
)

// The encoders start from github.com/gorilla/feeds v1.2.0 — a generic
// gf.Feed turned into its RssFeed, AtomFeed and JSONFeed structs — and then
// extend those structs with wrapper types (embedding them, shadowing the
// fields they get wrong) to fill its gaps:
//
//   - RSS: atom:link rel="self" (and rel="hub"), dc:creator for every
//     co-author (gorilla puts a name in <author>, which is for an email),
//     repeated <category>, <language>, <generator>; content:encoded stays
//     CDATA and encoding/xml splits any "]]>" inside it.
//   - Atom: the feed id is set (gorilla copies the link), rel="self" and
//     rel="alternate" links, xml:lang, <generator>, <published>, every
//     co-author with name and uri, categories, updated never empty, ids
//     always the article guid (gorilla makes a random urn:uuid without one).
//   - JSON Feed: "items" always present (gorilla omits an empty list), no
//     "banner_" key, feed_url, language, hubs, authors with name, url and
//     avatar, summary as plain text, tags.

const (
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsDC      = "http://purl.org/dc/elements/1.1/"
)

// doc is one feed ready to encode.
type doc struct {
	b         *Builder
	f         Feed
	arts      []model.Article
	updated   time.Time // newest entry's modified time; zero when empty
	published time.Time // newest entry's published time; zero when empty
}

func (b *Builder) doc(f Feed, arts []model.Article) *doc {
	d := &doc{b: b, f: f, arts: arts}
	for i := range arts {
		if m := arts[i].Modified(); m.After(d.updated) {
			d.updated = m
		}
		if p := arts[i].PublishedAt; p.After(d.published) {
			d.published = p
		}
	}
	return d
}

// feedAuthor is the feed-level author: the author of an author feed, else
// the site, so every Atom entry has an author (RFC 4287 §4.1.1).
func (d *doc) feedAuthor() model.Author {
	if d.f.Author != nil {
		return *d.f.Author
	}
	return model.Author{Name: d.b.opt.SiteName, URL: d.b.opt.SiteURL}
}

// gorilla is the generic gorilla feed the three encoders start from.
func (d *doc) gorilla() *gf.Feed {
	g := &gf.Feed{
		Title:       d.f.Title,
		Link:        &gf.Link{Href: d.f.Link},
		Description: d.f.Description,
		Updated:     d.updated,
		Created:     d.published,
	}
	if img := d.b.opt.Logo; img != "" || d.b.opt.Icon != "" {
		if img == "" {
			img = d.b.opt.Icon
		}
		g.Image = &gf.Image{Url: img, Title: d.f.Title, Link: d.f.Link}
	}
	g.Items = make([]*gf.Item, len(d.arts))
	for i := range d.arts {
		a := &d.arts[i]
		it := &gf.Item{
			Title:       a.Title,
			Link:        &gf.Link{Href: a.URL, Type: "text/html"},
			Description: a.Summary,
			Id:          a.GUID,
			IsPermaLink: "false",
			Created:     a.PublishedAt,
			Updated:     a.Modified(),
			Content:     a.BodyHTML,
		}
		if a.GUID == a.URL {
			it.IsPermaLink = "true"
		}
		if a.ImageURL != "" {
			it.Enclosure = &gf.Enclosure{Url: a.ImageURL, Type: imageType(a.ImageURL), Length: "0"}
		}
		g.Items[i] = it
	}
	return g
}

// imageType guesses an image URL's media type from its extension, from a
// fixed table so output does not depend on the machine's mime.types.
func imageType(u string) string {
	p := u
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".avif":
		return "image/avif"
	case ".svg":
		return "image/svg+xml"
	}
	return "image/jpeg"
}

// --- RSS 2.0 ---

type rssRoot struct {
	XMLName   xml.Name    `xml:"rss"`
	Version   string      `xml:"version,attr"`
	NSContent string      `xml:"xmlns:content,attr"`
	NSDC      string      `xml:"xmlns:dc,attr"`
	NSAtom    string      `xml:"xmlns:atom,attr"`
	Channel   *rssChannel `xml:"channel"`
}

type rssChannel struct {
	*gf.RssFeed
	AtomLinks []rssAtomLink `xml:"atom:link"`
	Items     []*rssItem    `xml:"item"` // shadows gf.RssFeed.Items
}

type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	*gf.RssItem
	Creators   []string      `xml:"dc:creator"`
	Categories []rssCategory `xml:"category"` // shadows gf.RssItem.Category
}

type rssCategory struct {
	Domain string `xml:"domain,attr,omitempty"`
	Name   string `xml:",chardata"`
}

func encodeRSS(d *doc) ([]byte, error) {
	g := d.gorilla()
	ch := (&gf.Rss{Feed: g}).RssFeed()
	ch.Language = d.b.opt.Language
	ch.Generator = d.b.opt.Generator
	ch.Docs = "https://www.rssboard.org/rss-specification"
	c := &rssChannel{RssFeed: ch, Items: make([]*rssItem, len(ch.Items))}
	c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: d.b.URL(d.f.ID, RSS), Rel: "self", Type: "application/rss+xml"})
	for _, h := range d.b.opt.Hubs {
		c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: h, Rel: "hub"})
	}
	for i, it := range ch.Items {
		a := &d.arts[i]
		it.Author = "" // <author> is for an email address; bylines go in dc:creator
		ri := &rssItem{RssItem: it}
		for _, au := range a.Authors {
			if au.Name != "" {
				ri.Creators = append(ri.Creators, au.Name)
			}
		}
		if a.Section.Name != "" {
			ri.Categories = []rssCategory{{Name: a.Section.Name}}
		}
		c.Items[i] = ri
	}
	ch.Items = nil
	return writeXML(&rssRoot{Version: "2.0", NSContent: nsContent, NSDC: nsDC, NSAtom: nsAtom, Channel: c}, d.b.opt.XSL)
}

// --- Atom 1.0 ---

type atomFeed struct {
	*gf.AtomFeed
	Lang      string         `xml:"xml:lang,attr,omitempty"`
	Links     []gf.AtomLink  `xml:"link"` // shadows gf.AtomFeed.Link
	Generator *atomGenerator `xml:"generator"`
	Entries   []*atomEntry   `xml:"entry"` // shadows gf.AtomFeed.Entries
}

type atomGenerator struct {
	URI  string `xml:"uri,attr,omitempty"`
	Name string `xml:",chardata"`
}

type atomEntry struct {
	*gf.AtomEntry
	Authors    []gf.AtomAuthor `xml:"author"`   // shadows gf.AtomEntry.Author
	Categories []atomCategory  `xml:"category"` // shadows gf.AtomEntry.Category
}

type atomCategory struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
	Label  string `xml:"label,attr,omitempty"`
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func atomPerson(a model.Author) gf.AtomPerson {
	return gf.AtomPerson{Name: a.Name, Uri: a.URL}
}

func encodeAtom(d *doc) ([]byte, error) {
	g := d.gorilla()
	af := (&gf.Atom{Feed: g}).AtomFeed()
	self := d.b.URL(d.f.ID, Atom)
	af.Id = self // gorilla uses the alternate link, shared by every feed of the site
	updated := d.updated
	if updated.IsZero() {
		updated = emptyUpdated
	}
	af.Updated = atomTime(updated)
	af.Icon, af.Logo = d.b.opt.Icon, d.b.opt.Logo
	af.Author = &gf.AtomAuthor{AtomPerson: atomPerson(d.feedAuthor())}
	out := &atomFeed{AtomFeed: af, Lang: d.b.opt.Language,
		Generator: &atomGenerator{Name: d.b.opt.Generator},
		Links: []gf.AtomLink{
			{Href: d.f.Link, Rel: "alternate", Type: "text/html"},
			{Href: self, Rel: "self", Type: "application/atom+xml"},
		},
		Entries: make([]*atomEntry, len(af.Entries)),
	}
	for _, h := range d.b.opt.Hubs {
		out.Links = append(out.Links, gf.AtomLink{Href: h, Rel: "hub"})
	}
	af.Link = nil
	for i, e := range af.Entries {
		a := &d.arts[i]
		e.Id = a.GUID
		e.Updated = atomTime(a.Modified())
		e.Published = atomTime(a.PublishedAt)
		ae := &atomEntry{AtomEntry: e}
		for _, au := range a.Authors {
			if au.Name != "" {
				ae.Authors = append(ae.Authors, gf.AtomAuthor{AtomPerson: atomPerson(au)})
			}
		}
		if a.Section.Slug != "" {
			ae.Categories = []atomCategory{{Term: a.Section.Slug, Label: a.Section.Name, Scheme: d.b.opt.SiteURL}}
		}
		out.Entries[i] = ae
	}
	af.Entries = nil
	return writeXML(out, d.b.opt.XSL)
}

// --- JSON Feed 1.1 ---

type jsonFeed struct {
	*gf.JSONFeed
	Items []*jsonItem `json:"items"` // shadows gf.JSONFeed.Items: always present
}

type jsonItem struct {
	*gf.JSONItem
	BannerImage string `json:"banner_image,omitempty"` // shadows gorilla's misspelt "banner_"
}

func jsonAuthor(a model.Author) *gf.JSONAuthor {
	return &gf.JSONAuthor{Name: a.Name, Url: a.URL, Avatar: a.AvatarURL}
}

func encodeJSON(d *doc) ([]byte, error) {
	g := d.gorilla()
	jf := (&gf.JSON{Feed: g}).JSONFeed()
	jf.Language = d.b.opt.Language
	jf.FeedUrl = d.b.URL(d.f.ID, JSON)
	jf.Icon, jf.Favicon = d.b.opt.Logo, d.b.opt.Icon
	if jf.Icon == "" {
		jf.Icon = d.b.opt.Icon
	}
	jf.Author = nil // JSON Feed 1.0's field; 1.1 has authors
	jf.Authors = []*gf.JSONAuthor{jsonAuthor(d.feedAuthor())}
	for _, h := range d.b.opt.Hubs {
		jf.Hubs = append(jf.Hubs, &gf.JSONHub{Type: "WebSub", Url: h})
	}
	out := &jsonFeed{JSONFeed: jf, Items: make([]*jsonItem, len(jf.Items))}
	for i, it := range jf.Items {
		a := &d.arts[i]
		it.Summary = a.SummaryText
		it.ContentHTML = a.BodyHTML
		if it.ContentHTML == "" {
			it.ContentHTML = a.Summary
		}
		if it.ContentHTML == "" {
			it.ContentText = a.Title // one of content_html and content_text is required
		}
		it.Image = a.ImageURL
		it.Author = nil
		for _, au := range a.Authors {
			if au.Name != "" {
				it.Authors = append(it.Authors, jsonAuthor(au))
			}
		}
		if a.Section.Name != "" {
			it.Tags = []string{a.Section.Name}
		}
		out.Items[i] = &jsonItem{JSONItem: it}
	}
	jf.Items = nil
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeXML(v any, xsl string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if xsl != "" {
		buf.WriteString(`<?xml-stylesheet type="text/xsl" href="`)
		if err := xml.EscapeText(&buf, []byte(xsl)); err != nil {
			return nil, err
		}
		buf.WriteString("\"?>\n")
	}
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
