package feeds

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
)

// Options configure the feeds of one site.
type Options struct {
	SiteName string
	SiteURL  string // absolute http(s) URL: the alternate link; relative article URLs resolve against it
	BaseURL  string // where /feeds/... is published, for self links and ids (default SiteURL)
	Language string
	Icon     string // small square image URL
	Logo     string // wide image URL
	Items    int    // entries per feed (default 50)
	XSL      string // optional stylesheet URL for an xml-stylesheet instruction in RSS and Atom
	Hubs     []string
	// Generator names the program in the feeds (default "herald").
	Generator string
	Logger    *slog.Logger
	// Now is the clock (default time.Now): embargoes and Last-Modified.
	Now func() time.Time

	// SectionURL and AuthorURL are URL templates with {slug}, absolute or
	// relative to SiteURL (site.section_url, site.author_url): the pages
	// of a section and an author, used as their feeds' alternate link and
	// as authors' uri (an author's own url column wins). Empty: SiteURL.
	SectionURL, AuthorURL string
	// Content is what entries carry: "full" (the default) or "summary"
	// (the summary, or the body's first paragraph, and never the body).
	Content string
	// SectionContent overrides Content for the articles of a section, by
	// slug, in every feed they appear in.
	SectionContent map[string]string
	// IDDate is the date in derived Atom ids, tag:HOST,IDDATE:GUID
	// (default "2026-01-01"; changing it changes those ids).
	IDDate string
	// Archives adds RFC 5005 archive pages of ArchivePageSize entries
	// (default 100) to every feed.
	Archives        bool
	ArchivePageSize int
	// Words words the feeds' own sentences in the site's language: the
	// byline joiner and the channel descriptions (nil: English).
	Words Words
}

// Words is the site's message catalogue (internal/i18n) as the feeds use
// it: the keys feed.site_description, feed.section_description and
// feed.author_description, and list joining.
type Words interface {
	List(names []string) string
	T(id string, data ...any) string
}

// describe words a channel description: key with data in the site's
// language, else english.
func (b *Builder) describe(key, english string, data map[string]string) string {
	if b.opt.Words == nil {
		return english
	}
	return b.opt.Words.T(key, data)
}

// ConfigOptions returns the Options config c describes. It sets neither
// Logger nor Now: the caller adds its own.
func ConfigOptions(c *config.Config) Options {
	opt := Options{
		SiteName: c.Site.Name, SiteURL: c.Site.URL, Language: c.Site.Language,
		Icon: c.Site.Icon, Logo: c.Site.Logo, Items: c.Feeds.Items,
		XSL: c.Feeds.XSL, Hubs: c.Feeds.WebSubHubs,
		SectionURL: c.Site.SectionURL, AuthorURL: c.Site.AuthorURL,
		Content: c.Feeds.Content, IDDate: c.Feeds.IDDate,
		Archives: c.Feeds.Archives, ArchivePageSize: c.Feeds.ArchivePageSize,
	}
	for slug, s := range c.Feeds.Sections {
		if s.Content != "" {
			if opt.SectionContent == nil {
				opt.SectionContent = map[string]string{}
			}
			opt.SectionContent[slug] = s.Content
		}
	}
	return opt
}

// Feed is one feed's channel-level data, cleaned: who it is about, not yet
// its articles.
type Feed struct {
	ID          FeedID
	Title       string // "Site", "Site — Section", "Site — Author"
	Description string
	Link        string         // the alternate (HTML) page
	Author      *model.Author  // the author of an author feed
	Section     *model.Section // the section of a section feed
}

// Set holds one feed's bytes in every format, indexed by Format.
type Set [numFormats][]byte

// Builder turns a Source's articles into encoded feeds. It is safe for
// concurrent use.
type Builder struct {
	src   Source
	opt   Options
	clean *sanitize.Cleaner
	site  *url.URL
	base  string // BaseURL without a trailing slash
	log   *slog.Logger
	ids   idRule
	arch  ArchiveStore // src, when it keeps archive pages
}

// NewBuilder returns a Builder reading src.
func NewBuilder(src Source, opt Options) *Builder {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Items <= 0 {
		opt.Items = 50
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Generator == "" {
		opt.Generator = "herald"
	}
	if opt.SiteName == "" {
		opt.SiteName = "News"
	}
	if opt.IDDate == "" {
		opt.IDDate = "2026-01-01"
	}
	if opt.ArchivePageSize <= 0 {
		opt.ArchivePageSize = 100
	}
	cl := sanitize.New(opt.SiteURL, opt.Logger)
	site := cl.SiteURL()
	opt.SiteURL = site.String()
	if opt.BaseURL == "" {
		opt.BaseURL = opt.SiteURL
	}
	opt.SiteName = sanitize.Line(opt.SiteName)
	opt.Icon = sanitize.Absolute(site, opt.Icon)
	opt.Logo = sanitize.Absolute(site, opt.Logo)
	opt.XSL = sanitize.Absolute(site, opt.XSL)
	b := &Builder{src: src, opt: opt, clean: cl, site: site,
		base: strings.TrimRight(opt.BaseURL, "/"), log: opt.Logger, ids: newIDRule(site.Hostname(), opt.IDDate)}
	b.arch, _ = src.(ArchiveStore)
	if opt.Archives && b.arch == nil {
		b.log.Warn("feed archives off: the source keeps no archive pages")
	}
	return b
}

func (b *Builder) now() time.Time { return b.opt.Now() }

// URL is the absolute URL of the feed's path in format f.
func (b *Builder) URL(id FeedID, f Format) string { return b.base + id.Path(f) }

// ArchiveURL is the absolute URL of archive page p of the feed in format f.
func (b *Builder) ArchiveURL(id FeedID, p int, f Format) string { return b.base + id.ArchivePath(p, f) }

// Feeds lists every feed the site has: the site feed, then each section
// and each author whose slug obeys the slug rule, by path. Others are
// logged and left out (their articles still appear in the other feeds).
func (b *Builder) Feeds(ctx context.Context) ([]Feed, error) {
	secs, err := b.src.Sections(ctx)
	if err != nil {
		return nil, fmt.Errorf("feeds: list sections: %w", err)
	}
	auths, err := b.src.Authors(ctx)
	if err != nil {
		return nil, fmt.Errorf("feeds: list authors: %w", err)
	}
	out := make([]Feed, 0, 1+len(secs)+len(auths))
	out = append(out, b.siteFeed())
	for _, s := range secs {
		if !model.ValidSlug(s.Slug) {
			b.log.Warn("section has no feed: invalid slug", "section_id", s.ID, "slug", sanitize.Line(s.Slug))
			continue
		}
		out = append(out, b.SectionFeed(s))
	}
	for _, a := range auths {
		if !model.ValidSlug(a.Slug) {
			b.log.Warn("author has no feed: invalid slug", "author_id", a.ID, "slug", sanitize.Line(a.Slug))
			continue
		}
		out = append(out, b.AuthorFeed(a))
	}
	sort.SliceStable(out[1:], func(i, j int) bool {
		return out[1+i].ID.Path(RSS) < out[1+j].ID.Path(RSS)
	})
	return out, nil
}

func (b *Builder) siteFeed() Feed {
	return Feed{ID: SiteFeed, Title: b.opt.SiteName,
		Description: b.describe("feed.site_description", "Latest articles from "+b.opt.SiteName, map[string]string{"Site": b.opt.SiteName}),
		Link:        b.opt.SiteURL}
}

// SectionFeed returns the feed of section s (s.Slug must be valid).
func (b *Builder) SectionFeed(s model.Section) Feed {
	s = b.clean.Section(s)
	name := s.Name
	if name == "" {
		name = s.Slug
	}
	f := Feed{ID: FeedID{Kind: KindSection, ID: s.ID, Slug: s.Slug}, Title: b.opt.SiteName + " — " + name,
		Description: s.Description, Link: b.page(b.opt.SectionURL, s.Slug), Section: &s}
	if f.Link == "" {
		f.Link = b.opt.SiteURL
	}
	if f.Description == "" {
		f.Description = b.describe("feed.section_description", "Latest articles in "+name+" from "+b.opt.SiteName,
			map[string]string{"Section": name, "Site": b.opt.SiteName})
	}
	return f
}

// AuthorFeed returns the feed of author a (a.Slug must be valid).
func (b *Builder) AuthorFeed(a model.Author) Feed {
	a = b.cleanAuthor(a)
	if a.Name == "" {
		a.Name = a.Slug
	}
	f := Feed{ID: FeedID{Kind: KindAuthor, ID: a.ID, Slug: a.Slug}, Title: b.opt.SiteName + " — " + a.Name,
		Description: a.Bio, Link: a.URL, Author: &a}
	if f.Link == "" {
		f.Link = b.opt.SiteURL
	}
	if f.Description == "" {
		f.Description = b.describe("feed.author_description", "Latest articles by "+a.Name+" from "+b.opt.SiteName,
			map[string]string{"Author": a.Name, "Site": b.opt.SiteName})
	}
	return f
}

// query is the store query for feed f's articles.
func (b *Builder) query(f Feed) model.ArticleQuery {
	q := model.ArticleQuery{Limit: b.opt.Items}
	switch f.ID.Kind {
	case KindSection:
		q.SectionID = f.ID.ID
	case KindAuthor:
		q.AuthorID = f.ID.ID
	}
	return q
}

// Articles returns the cleaned articles of feed f, newest first (ties by
// id, highest first), at most Options.Items.
func (b *Builder) Articles(ctx context.Context, f Feed) ([]model.Article, error) {
	raw, err := b.src.Articles(ctx, b.query(f))
	if err != nil {
		return nil, fmt.Errorf("feeds: articles of %s: %w", f.ID, err)
	}
	arts := make([]model.Article, 0, len(raw))
	for _, r := range raw {
		if a, ok := b.cleanArticle(r, nil); ok {
			arts = append(arts, a)
		}
	}
	sort.SliceStable(arts, func(i, j int) bool {
		if !arts[i].PublishedAt.Equal(arts[j].PublishedAt) {
			return arts[i].PublishedAt.After(arts[j].PublishedAt)
		}
		return arts[i].ID > arts[j].ID
	})
	return arts, nil
}

// cleanArticle cleans one article as read from the store (its section and
// authors through pc, cleaned once per run, when set); false for one no
// feed can carry.
func (b *Builder) cleanArticle(r model.Article, pc *people) (model.Article, bool) {
	var a model.Article
	var ok bool
	if pc == nil {
		a, ok = b.clean.Article(r)
	} else {
		a, ok = b.clean.Content(r)
		a.Section = pc.section(b, r.Section)
		a.Authors = make([]model.Author, len(r.Authors))
		for i, au := range r.Authors {
			a.Authors[i] = pc.author(b, au)
		}
	}
	if pc == nil {
		for i := range a.Authors {
			if a.Authors[i].URL == "" {
				a.Authors[i].URL = b.page(b.opt.AuthorURL, a.Authors[i].Slug)
			}
		}
	}
	if !ok {
		return a, false
	}
	if a.GUID == "" {
		a.GUID = fmt.Sprintf("urn:herald:article:%d", a.ID)
	}
	if a.URL == "" {
		a.URL = b.opt.SiteURL
	}
	a.PublishedAt = a.PublishedAt.UTC()
	a.UpdatedAt = a.UpdatedAt.UTC()
	return a, true
}

// Build reads feed f's articles and encodes them in every format.
func (b *Builder) Build(ctx context.Context, f Feed) (Set, error) {
	return b.newRun().build(ctx, f)
}

// Encode encodes arts (cleaned, in feed order) as feed f in every format.
func (b *Builder) Encode(f Feed, arts []model.Article) (Set, error) {
	items := make([]*item, len(arts))
	for i := range arts {
		items[i] = b.newItem(b.derive(&arts[i], arts[i].GUID))
	}
	return b.doc(f, items).encode(nil), nil
}

// emptyUpdated is the updated time of a feed with no entries: fixed, so an
// empty feed's bytes (and its Last-Modified) do not change on every build.
var emptyUpdated = time.Unix(0, 0).UTC()

// page fills a page URL template with slug, made absolute against the
// site; "" when there is no template or the slug breaks the slug rule.
func (b *Builder) page(template, slug string) string {
	if template == "" || !model.ValidSlug(slug) {
		return ""
	}
	return sanitize.Absolute(b.site, strings.ReplaceAll(template, "{slug}", slug))
}

// cleanAuthor cleans a; an author without a url of its own gets its page.
func (b *Builder) cleanAuthor(a model.Author) model.Author {
	a = b.clean.Author(a)
	if a.URL == "" {
		a.URL = b.page(b.opt.AuthorURL, a.Slug)
	}
	return a
}

// summaryOnly reports whether the articles of section slug are in summary
// mode: their entries carry the summary and never the body.
func (b *Builder) summaryOnly(slug string) bool {
	if m, ok := b.opt.SectionContent[slug]; ok && m != "" {
		return m == "summary"
	}
	return b.opt.Content == "summary"
}
