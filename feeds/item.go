package feeds

import (
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// item is one article ready for every feed it appears in: cleaned once and
// encoded once per format. Nothing in a fragment depends on the feed, so
// the site, section and author feeds (and their archive pages) share it.
type item struct {
	id        int64
	published time.Time
	modified  time.Time
	frag      [numFormats][]byte
}

func (it *item) size() int { return len(it.frag[RSS]) + len(it.frag[Atom]) + len(it.frag[JSON]) + 96 }

// newItem encodes a (cleaned) in every format.
func (b *Builder) newItem(a *model.Article) *item {
	it := &item{id: a.ID, published: a.PublishedAt, modified: a.Modified()}
	n := len(a.BodyHTML) + len(a.Summary) + 512
	it.frag[RSS] = b.rssItem(make([]byte, 0, n), a)
	it.frag[Atom] = b.atomEntry(make([]byte, 0, n+n/4), a)
	it.frag[JSON] = b.jsonItem(make([]byte, 0, n+n/8), a)
	return it
}

func (b *Builder) rssItem(dst []byte, a *model.Article) []byte {
	const in = "      "
	dst = append(dst, "    <item>\n"...)
	dst = elem(dst, in, "title", a.Title)
	dst = elem(dst, in, "link", a.URL)
	dst = elem(dst, in, "description", a.Summary)
	if a.BodyHTML != "" {
		dst = append(dst, in+"<content:encoded>"...)
		dst = appendCDATA(dst, a.BodyHTML)
		dst = append(dst, "</content:encoded>\n"...)
	}
	if a.ImageURL != "" {
		dst = append(dst, in+"<enclosure"...)
		dst = attr(dst, "url", a.ImageURL)
		dst = attr(dst, "length", "0")
		dst = attr(dst, "type", imageType(a.ImageURL))
		dst = append(dst, "></enclosure>\n"...)
	}
	perma := "false"
	if a.GUID == a.URL {
		perma = "true"
	}
	dst = append(dst, in+`<guid isPermaLink="`...)
	dst = append(dst, perma...)
	dst = append(dst, `">`...)
	dst = appendXML(dst, a.GUID)
	dst = append(dst, "</guid>\n"...)
	dst = append(dst, in+"<pubDate>"...)
	dst = a.PublishedAt.AppendFormat(dst, time.RFC1123Z)
	dst = append(dst, "</pubDate>\n"...)
	for _, au := range a.Authors {
		if au.Name != "" {
			dst = elem(dst, in, "dc:creator", au.Name)
		}
	}
	if a.Section.Name != "" {
		dst = elem(dst, in, "category", a.Section.Name)
	}
	return append(dst, "    </item>\n"...)
}

func (b *Builder) atomEntry(dst []byte, a *model.Article) []byte {
	const in = "    "
	dst = append(dst, "  <entry>\n"...)
	dst = elem(dst, in, "title", a.Title)
	dst = elem(dst, in, "updated", atomTime(a.Modified()))
	dst = elem(dst, in, "id", a.GUID)
	if a.BodyHTML != "" {
		dst = append(dst, in+`<content type="html">`...)
		dst = appendXML(dst, a.BodyHTML)
		dst = append(dst, "</content>\n"...)
	}
	dst = elem(dst, in, "published", atomTime(a.PublishedAt))
	dst = atomLink(dst, in, a.URL, "alternate", "text/html")
	if a.ImageURL != "" {
		dst = append(dst, in+"<link"...)
		dst = attr(dst, "href", a.ImageURL)
		dst = attr(dst, "rel", "enclosure")
		dst = attr(dst, "type", imageType(a.ImageURL))
		dst = attr(dst, "length", "0")
		dst = append(dst, "></link>\n"...)
	}
	if a.Summary != "" {
		dst = append(dst, in+`<summary type="html">`...)
		dst = appendXML(dst, a.Summary)
		dst = append(dst, "</summary>\n"...)
	}
	for _, au := range a.Authors {
		if au.Name != "" {
			dst = atomPerson(dst, in, au)
		}
	}
	if a.Section.Slug != "" {
		dst = append(dst, in+"<category"...)
		dst = attr(dst, "term", a.Section.Slug)
		dst = attr(dst, "scheme", b.opt.SiteURL)
		if a.Section.Name != "" {
			dst = attr(dst, "label", a.Section.Name)
		}
		dst = append(dst, "></category>\n"...)
	}
	return append(dst, "  </entry>\n"...)
}

// atomLink appends <link href rel type></link>; empty rel and type are left out.
func atomLink(dst []byte, indent, href, rel, typ string) []byte {
	dst = append(dst, indent...)
	dst = append(dst, "<link"...)
	dst = attr(dst, "href", href)
	if rel != "" {
		dst = attr(dst, "rel", rel)
	}
	if typ != "" {
		dst = attr(dst, "type", typ)
	}
	return append(dst, "></link>\n"...)
}

// atomPerson appends an <author> with its name and uri.
func atomPerson(dst []byte, indent string, a model.Author) []byte {
	dst = append(dst, indent...)
	dst = append(dst, "<author>\n"...)
	if a.Name != "" {
		dst = elem(dst, indent+"  ", "name", a.Name)
	}
	if a.URL != "" {
		dst = elem(dst, indent+"  ", "uri", a.URL)
	}
	dst = append(dst, indent...)
	return append(dst, "</author>\n"...)
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (b *Builder) jsonItem(dst []byte, a *model.Article) []byte {
	o := openObject(append(dst, "    "...), "      ")
	o.key("id")
	o.b = appendJSON(o.b, a.GUID)
	o.str("url", a.URL)
	o.str("title", a.Title)
	content, text := a.BodyHTML, ""
	if content == "" {
		content = a.Summary
	}
	if content == "" {
		text = a.Title // one of content_html and content_text is required
	}
	o.str("content_html", content)
	o.str("content_text", text)
	o.str("summary", a.SummaryText)
	o.str("image", a.ImageURL)
	o.key("date_published")
	o.b = jsonTime(o.b, a.PublishedAt)
	o.key("date_modified")
	o.b = jsonTime(o.b, a.Modified())
	var authors []model.Author
	for _, au := range a.Authors {
		if au.Name != "" {
			authors = append(authors, au)
		}
	}
	o.objects("authors", len(authors), func(i int, p *jsonObject) { jsonPerson(p, authors[i]) })
	if a.Section.Name != "" {
		o.strings("tags", []string{a.Section.Name})
	}
	return o.close()
}

func jsonPerson(p *jsonObject, a model.Author) {
	p.str("name", a.Name)
	p.str("url", a.URL)
	p.str("avatar", a.AvatarURL)
}

func jsonTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}
