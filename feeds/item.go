package feeds

import (
	"html"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
)

// item is one article ready for every feed it appears in: cleaned once and
// encoded once per format. Nothing in a fragment depends on the feed, so
// the site, section and author feeds (and their archive pages) share it.
//
// An article no other feed of the run needs is not encoded ahead: its item
// holds the article (src) and each document encodes it in place, sparing
// three buffers and a copy of each.
type item struct {
	id        int64
	published time.Time
	modified  time.Time
	frag      [numFormats][]byte
	src       *article // set instead of frag: encode in place
}

func (it *item) size() int { return len(it.frag[RSS]) + len(it.frag[Atom]) + len(it.frag[JSON]) + 96 }

// sizeHint is about the bytes the item takes in a document of format ft.
func (it *item) sizeHint(ft Format) int {
	if it.src == nil {
		return len(it.frag[ft])
	}
	n := len(it.src.BodyHTML) + len(it.src.Summary) + len(it.src.teaser) + 768
	return n + n/4
}

// inlineItem is an item encoded in place by each document holding it.
func inlineItem(a article) *item {
	return &item{id: a.ID, published: a.PublishedAt, modified: a.Modified(), src: &a}
}

// append appends the item's entry in format ft to dst.
func (b *Builder) appendItem(dst []byte, it *item, ft Format) []byte {
	if it.src == nil {
		return append(dst, it.frag[ft]...)
	}
	switch ft {
	case RSS:
		return b.rssItem(dst, *it.src)
	case Atom:
		return b.atomEntry(dst, *it.src)
	}
	return b.jsonItem(dst, *it.src)
}

// article is a cleaned article with what its fragments derive from it.
type article struct {
	*model.Article
	atomID string // RFC 4287 id: the guid when it is an IRI, else derived (ids.go)
	// summary: the article's section is in summary mode; teaser (HTML) and
	// teaserText stand in for the body, which no format carries.
	summary            bool
	teaser, teaserText string
}

// derive completes a (cleaned) for encoding; guid is the article's guid as
// stored, from which its Atom id derives.
func (b *Builder) derive(a *model.Article, guid string) article {
	if sanitize.Line(guid) == "" {
		guid = a.GUID // the urn:herald:article:ID stand-in
	}
	x := article{Article: a, atomID: b.ids.atomID(guid)}
	if b.summaryOnly(a.Section.Slug) {
		x.summary = true
		x.teaser, x.teaserText = a.Summary, a.SummaryText
		if x.teaser == "" {
			x.teaser = b.firstParagraph(a.BodyHTML)
			x.teaserText = b.clean.PlainText(x.teaser)
		}
	}
	return x
}

// teaserRunes bounds a teaser taken from a body: a summary-mode feed
// stands for a paywalled article, and a body written as one long
// paragraph must not go out whole.
const teaserRunes = 300

// firstParagraph is the first <p> element of a cleaned body when its text
// is short enough, else the text of that paragraph (or of the body, when
// it has none) cut to about teaserRunes characters, escaped.
func (b *Builder) firstParagraph(body string) string {
	for i := 0; ; {
		j := strings.Index(body[i:], "<p")
		if j < 0 {
			break
		}
		i += j
		if i+2 < len(body) && (body[i+2] == '>' || body[i+2] == ' ') {
			if end := strings.Index(body[i:], "</p>"); end >= 0 {
				p := body[i : i+end+len("</p>")]
				if utf8.RuneCountInString(b.clean.PlainText(p)) <= teaserRunes {
					return p
				}
				body = p
			}
			break
		}
		i += 2
	}
	text := []rune(b.clean.PlainText(body))
	if len(text) > teaserRunes {
		cut := teaserRunes
		for cut > teaserRunes*2/3 && text[cut] != ' ' {
			cut--
		}
		text = append(text[:cut], '…')
	}
	return html.EscapeString(string(text))
}

// newItem encodes a in every format.
func (b *Builder) newItem(a article) *item {
	it := &item{id: a.ID, published: a.PublishedAt, modified: a.Modified()}
	n := len(a.BodyHTML) + len(a.Summary) + 512
	if a.summary {
		n = len(a.teaser) + 1024
	}
	it.frag[RSS] = b.rssItem(make([]byte, 0, n), a)
	it.frag[Atom] = b.atomEntry(make([]byte, 0, n+n/4), a)
	it.frag[JSON] = b.jsonItem(make([]byte, 0, n+n/8), a)
	return it
}

// byline is the authors' names in order in the site's language: "A",
// "A and B", "A, B and C" in English.
func (b *Builder) byline(authors []model.Author) string {
	if b.opt.Words == nil {
		return byline(authors)
	}
	var names []string
	for _, au := range authors {
		if au.Name != "" {
			names = append(names, au.Name)
		}
	}
	return b.opt.Words.List(names)
}

// byline is the authors' names in order, in English.
func byline(authors []model.Author) string {
	var names []string
	for _, au := range authors {
		if au.Name != "" {
			names = append(names, au.Name)
		}
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func (b *Builder) rssItem(dst []byte, a article) []byte {
	const in = "      "
	dst = append(dst, "    <item>\n"...)
	dst = elem(dst, in, "title", a.Title)
	dst = elem(dst, in, "link", a.URL)
	if a.summary {
		dst = elem(dst, in, "description", a.teaser)
	} else {
		dst = elem(dst, in, "description", a.Summary)
		if a.BodyHTML != "" {
			dst = append(dst, in+"<content:encoded>"...)
			dst = appendCDATA(dst, a.BodyHTML)
			dst = append(dst, "</content:encoded>\n"...)
		}
	}
	if a.ImageURL != "" {
		// Media RSS, not <enclosure>: an image is not the item's one
		// downloadable attachment, and readers skip zero-length ones.
		dst = append(dst, in+"<media:content"...)
		dst = attr(dst, "url", a.ImageURL)
		dst = attr(dst, "medium", "image")
		if typ, ok := imageType(a.ImageURL); ok {
			dst = attr(dst, "type", typ)
		}
		dst = append(dst, "></media:content>\n"+in+"<media:thumbnail"...)
		dst = attr(dst, "url", a.ImageURL)
		dst = append(dst, "></media:thumbnail>\n"...)
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
	// One dc:creator with every co-author in byline order: readers that
	// show one creator show the last of several, losing the lead author.
	if by := b.byline(a.Authors); by != "" {
		dst = elem(dst, in, "dc:creator", by)
	}
	if a.Section.Name != "" {
		dst = elem(dst, in, "category", a.Section.Name)
	}
	return append(dst, "    </item>\n"...)
}

func (b *Builder) atomEntry(dst []byte, a article) []byte {
	const in = "    "
	dst = append(dst, "  <entry>\n"...)
	dst = elem(dst, in, "title", a.Title)
	dst = elem(dst, in, "updated", atomTime(a.Modified()))
	dst = elem(dst, in, "id", a.atomID)
	if !a.summary && a.BodyHTML != "" {
		dst = append(dst, in+`<content type="html">`...)
		dst = appendXML(dst, a.BodyHTML)
		dst = append(dst, "</content>\n"...)
	}
	dst = elem(dst, in, "published", atomTime(a.PublishedAt))
	dst = atomLink(dst, in, a.URL, "alternate", "text/html")
	if typ, ok := imageType(a.ImageURL); ok && a.ImageURL != "" {
		dst = atomLink(dst, in, a.ImageURL, "enclosure", typ)
	}
	summary := a.Summary
	if a.summary {
		summary = a.teaser
	}
	if summary != "" {
		dst = append(dst, in+`<summary type="html">`...)
		dst = appendXML(dst, summary)
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

func (b *Builder) jsonItem(dst []byte, a article) []byte {
	o := openObject(append(dst, "    "...), "      ")
	o.key("id")
	o.b = appendJSON(o.b, a.GUID)
	o.str("url", a.URL)
	o.str("title", a.Title)
	content, summary := a.BodyHTML, a.SummaryText
	if a.summary {
		content, summary = a.teaser, a.teaserText
	} else if content == "" {
		content = a.Summary
	}
	o.str("content_html", content)
	if content == "" {
		o.str("content_text", a.Title) // one of content_html and content_text is required
	}
	o.str("summary", summary)
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
