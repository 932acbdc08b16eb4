package feeds

import (
	"path"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// A document is a feed's header, its items' shared fragments (item.go) and
// a footer. The layout is what encoding/xml and encoding/json write with a
// two-space indent. Beyond the bare formats it carries:
//
//   - RSS: atom:link rel="self" (and rel="hub"), dc:creator for bylines
//     (<author> is for an email), <category>, <language>, <generator>;
//     content:encoded is CDATA with any "]]>" inside it split.
//   - Atom: the feed id is the self URL, rel="self" and rel="alternate"
//     links, xml:lang, <generator>, <published>, every co-author with name
//     and uri, categories, updated never empty.
//   - JSON Feed: "items" always present, feed_url, language, hubs,
//     authors with name, url and avatar, summary as plain text, tags.

const (
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	nsMedia   = "http://search.yahoo.com/mrss/"
)

// doc is one document ready to encode: a feed and its items in order.
type doc struct {
	b         *Builder
	f         Feed
	items     []*item
	updated   time.Time // newest entry's modified time; zero when empty
	published time.Time // newest entry's published time; zero when empty
	// Archives: page is this archive page's number (0: the subscription
	// document); pages is how many the feed has (0: none or archives off).
	page, pages int
}

// self is the document's own URL in format ft.
func (d *doc) self(ft Format) string {
	if d.page > 0 {
		return d.b.ArchiveURL(d.f.ID, d.page, ft)
	}
	return d.b.URL(d.f.ID, ft)
}

// archiveLinks are the RFC 5005 links of the document in format ft, as
// rel → href: the subscription document's prev-archive to the newest page;
// a page's current, prev-archive and next-archive.
func (d *doc) archiveLinks(ft Format) [][2]string {
	if d.page == 0 {
		if d.pages == 0 {
			return nil
		}
		return [][2]string{{"prev-archive", d.b.ArchiveURL(d.f.ID, d.pages, ft)}}
	}
	out := [][2]string{{"current", d.b.URL(d.f.ID, ft)}}
	if d.page > 1 {
		out = append(out, [2]string{"prev-archive", d.b.ArchiveURL(d.f.ID, d.page-1, ft)})
	}
	if d.page < d.pages {
		out = append(out, [2]string{"next-archive", d.b.ArchiveURL(d.f.ID, d.page+1, ft)})
	}
	return out
}

func (b *Builder) doc(f Feed, items []*item) *doc {
	d := &doc{b: b, f: f, items: items}
	for _, it := range items {
		if it.modified.After(d.updated) {
			d.updated = it.modified
		}
		if it.published.After(d.published) {
			d.published = it.published
		}
	}
	return d
}

// encode writes the document in every format, into buffers from get
// (nil: new ones).
func (d *doc) encode(get func(n int) []byte) Set {
	var s Set
	for _, ft := range Formats {
		n := 2048
		for _, it := range d.items {
			n += it.sizeHint(ft) + 2
		}
		var buf []byte
		if get != nil {
			buf = get(n)
		} else {
			buf = make([]byte, 0, n)
		}
		switch ft {
		case RSS:
			s[ft] = d.rss(buf)
		case Atom:
			s[ft] = d.atom(buf)
		default:
			s[ft] = d.json(buf)
		}
	}
	return s
}

// feedAuthor is the feed-level author: the author of an author feed, else
// the site, so every Atom entry has an author (RFC 4287 §4.1.1).
func (d *doc) feedAuthor() model.Author {
	if d.f.Author != nil {
		return *d.f.Author
	}
	return model.Author{Name: d.b.opt.SiteName, URL: d.b.opt.SiteURL}
}

// imageType is an image URL's media type by its extension, from a fixed
// table (output must not depend on the machine's mime.types); false when
// the extension says nothing.
func imageType(u string) (string, bool) {
	p := u
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".jpg", ".jpeg":
		return "image/jpeg", true
	case ".png":
		return "image/png", true
	case ".gif":
		return "image/gif", true
	case ".webp":
		return "image/webp", true
	case ".avif":
		return "image/avif", true
	case ".svg":
		return "image/svg+xml", true
	}
	return "", false
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// prolog is the XML declaration and the optional stylesheet instruction.
func (d *doc) prolog(dst []byte) []byte {
	dst = append(dst, xmlHeader...)
	if xsl := d.b.opt.XSL; xsl != "" {
		dst = append(dst, `<?xml-stylesheet type="text/xsl" href="`...)
		dst = appendXML(dst, xsl)
		dst = append(dst, "\"?>\n"...)
	}
	return dst
}

func (d *doc) rss(dst []byte) []byte {
	const in = "    "
	dst = d.prolog(dst)
	dst = append(dst, `<rss version="2.0"`...)
	dst = attr(dst, "xmlns:content", nsContent)
	dst = attr(dst, "xmlns:dc", nsDC)
	dst = attr(dst, "xmlns:atom", nsAtom)
	dst = attr(dst, "xmlns:media", nsMedia)
	if d.page > 0 {
		dst = attr(dst, "xmlns:fh", nsHistory)
	}
	dst = append(dst, ">\n  <channel>\n"...)
	dst = elem(dst, in, "title", d.f.Title)
	dst = elem(dst, in, "link", d.f.Link)
	dst = elem(dst, in, "description", d.f.Description)
	if d.b.opt.Language != "" {
		dst = elem(dst, in, "language", d.b.opt.Language)
	}
	pub := d.published
	if pub.IsZero() {
		pub = d.updated
	}
	if !pub.IsZero() {
		dst = elem(dst, in, "pubDate", pub.Format(time.RFC1123Z))
	}
	if !d.updated.IsZero() {
		dst = elem(dst, in, "lastBuildDate", d.updated.Format(time.RFC1123Z))
	}
	dst = elem(dst, in, "generator", d.b.opt.Generator)
	dst = elem(dst, in, "docs", "https://www.rssboard.org/rss-specification")
	if img := d.image(); img != "" {
		dst = append(dst, in+"<image>\n"...)
		dst = elem(dst, in+"  ", "url", img)
		dst = elem(dst, in+"  ", "title", d.f.Title)
		dst = elem(dst, in+"  ", "link", d.f.Link)
		dst = append(dst, in+"</image>\n"...)
	}
	dst = rssAtomLink(dst, d.self(RSS), "self", "application/rss+xml")
	for _, h := range d.b.opt.Hubs {
		dst = rssAtomLink(dst, h, "hub", "")
	}
	for _, l := range d.archiveLinks(RSS) {
		dst = rssAtomLink(dst, l[1], l[0], "application/rss+xml")
	}
	if d.page > 0 {
		dst = append(dst, "    <fh:archive></fh:archive>\n"...)
	}
	for _, it := range d.items {
		dst = d.b.appendItem(dst, it, RSS)
	}
	return append(dst, "  </channel>\n</rss>\n"...)
}

// image is the channel image: the logo, else the icon.
func (d *doc) image() string {
	if d.b.opt.Logo != "" {
		return d.b.opt.Logo
	}
	return d.b.opt.Icon
}

func rssAtomLink(dst []byte, href, rel, typ string) []byte {
	dst = append(dst, "    <atom:link"...)
	dst = attr(dst, "href", href)
	dst = attr(dst, "rel", rel)
	if typ != "" {
		dst = attr(dst, "type", typ)
	}
	return append(dst, "></atom:link>\n"...)
}

func (d *doc) atom(dst []byte) []byte {
	const in = "  "
	dst = d.prolog(dst)
	dst = append(dst, `<feed`...)
	dst = attr(dst, "xmlns", nsAtom)
	if d.page > 0 {
		dst = attr(dst, "xmlns:fh", nsHistory)
	}
	if d.b.opt.Language != "" {
		dst = attr(dst, "xml:lang", d.b.opt.Language)
	}
	dst = append(dst, ">\n"...)
	dst = elem(dst, in, "title", d.f.Title)
	dst = elem(dst, in, "id", d.b.ids.atomID(d.b.URL(d.f.ID, Atom))) // an archive page's too: one logical feed
	updated := d.updated
	if updated.IsZero() {
		updated = emptyUpdated
	}
	dst = elem(dst, in, "updated", atomTime(updated))
	if d.b.opt.Icon != "" {
		dst = elem(dst, in, "icon", d.b.opt.Icon)
	}
	if d.b.opt.Logo != "" {
		dst = elem(dst, in, "logo", d.b.opt.Logo)
	}
	if d.f.Description != "" {
		dst = elem(dst, in, "subtitle", d.f.Description)
	}
	dst = atomPerson(dst, in, d.feedAuthor())
	dst = atomLink(dst, in, d.f.Link, "alternate", "text/html")
	dst = atomLink(dst, in, d.self(Atom), "self", "application/atom+xml")
	for _, h := range d.b.opt.Hubs {
		dst = atomLink(dst, in, h, "hub", "")
	}
	for _, l := range d.archiveLinks(Atom) {
		dst = atomLink(dst, in, l[1], l[0], "application/atom+xml")
	}
	dst = elem(dst, in, "generator", d.b.opt.Generator)
	if d.page > 0 {
		dst = append(dst, in+"<fh:archive></fh:archive>\n"...)
	}
	for _, it := range d.items {
		dst = d.b.appendItem(dst, it, Atom)
	}
	return append(dst, "</feed>\n"...)
}

func (d *doc) json(dst []byte) []byte {
	o := openObject(dst, "  ")
	o.key("version")
	o.b = appendJSON(o.b, "https://jsonfeed.org/version/1.1")
	o.key("title")
	o.b = appendJSON(o.b, d.f.Title)
	o.str("language", d.b.opt.Language)
	o.str("home_page_url", d.f.Link)
	o.str("feed_url", d.b.URL(d.f.ID, JSON))
	o.str("description", d.f.Description)
	// next_url leads to older items: from the current feed to the newest
	// archive page, and from each page to the one before it.
	switch {
	case d.page == 0 && d.pages > 0:
		o.str("next_url", d.b.ArchiveURL(d.f.ID, d.pages, JSON))
	case d.page > 1:
		o.str("next_url", d.b.ArchiveURL(d.f.ID, d.page-1, JSON))
	}
	o.str("icon", d.image())
	o.str("favicon", d.b.opt.Icon)
	o.objects("authors", 1, func(_ int, p *jsonObject) { jsonPerson(p, d.feedAuthor()) })
	hubs := d.b.opt.Hubs
	o.objects("hubs", len(hubs), func(i int, p *jsonObject) {
		p.key("type")
		p.b = appendJSON(p.b, "WebSub")
		p.key("url")
		p.b = appendJSON(p.b, hubs[i])
	})
	o.key("items")
	o.b = append(o.b, '[')
	for i, it := range d.items {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, '\n')
		o.b = d.b.appendItem(o.b, it, JSON)
	}
	if len(d.items) > 0 {
		o.b = append(o.b, "\n  "...)
	}
	o.b = append(o.b, ']')
	return append(o.close(), '\n')
}
