package archive

import (
	"context"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"strings"
	"time"

	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/i18n"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/templates"
)

// Store is what the archive reads.
type Store interface {
	// ArchivePages lists a digest's pages with at least one message sent,
	// newest first.
	ArchivePages(ctx context.Context, digest string, offset, limit int) ([]model.ArchivePage, error)
	ArchivePageCount(ctx context.Context, digest string) (int, error)
	// ArchivePage is one of them (ENOTFOUND when there is no such page).
	ArchivePage(ctx context.Context, digest, day string, seq int) (model.ArchivePage, error)
	// ArchiveArticleIDs is the union of what the editions' sent messages carried.
	ArchiveArticleIDs(ctx context.Context, editions []int64) ([]int64, error)
	// ArticlesByID returns the published ones among ids, newest first.
	ArticlesByID(ctx context.Context, ids []int64) ([]model.Article, error)
}

// PageSize is how many editions one index page lists.
const PageSize = 20

// ErrNotFound: no such digest archive, index page or edition.
var ErrNotFound = &model.Error{Code: model.ENOTFOUND, Message: "There is no such edition in this archive."}

// ErrNoArchive: the digest's `archive` is false.
var ErrNoArchive = &model.Error{Code: model.ENOTFOUND, Message: "This newsletter has no public archive."}

// Options configure a Service.
type Options struct {
	Config  *config.Config // required
	Store   Store          // required
	Catalog *i18n.Catalog  // required: dates, titles
	Log     *slog.Logger
}

// Service builds the archive's pages and feeds.
type Service struct {
	cfg   *config.Config
	st    Store
	cat   *i18n.Catalog
	clean *sanitize.Cleaner
	feeds *feeds.Builder
	base  string // http.base_url without a trailing slash
	log   *slog.Logger
}

// New returns a Service.
func New(opt Options) (*Service, error) {
	if opt.Config == nil || opt.Store == nil || opt.Catalog == nil {
		return nil, fmt.Errorf("archive: New needs a config, a store and a catalogue")
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	fo := feeds.ConfigOptions(opt.Config)
	fo.BaseURL, fo.Language, fo.Logger = opt.Config.HTTP.BaseURL, opt.Catalog.Lang(), opt.Log
	return &Service{cfg: opt.Config, st: opt.Store, cat: opt.Catalog, clean: sanitize.New(opt.Config.Site.URL, opt.Log),
		feeds: feeds.NewBuilder(nil, fo), base: strings.TrimRight(opt.Config.HTTP.BaseURL, "/"), log: opt.Log}, nil
}

// Digest is a digest as the archive's pages show it.
type Digest struct {
	Name, Title, Description string
	NoIndex                  bool
}

// digest returns the archived digest called name.
func (s *Service) digest(name string) (config.Digest, error) {
	d, ok := s.cfg.Digest(name)
	if !ok || name == "" {
		return d, ErrNotFound
	}
	if !d.Archived() {
		return d, ErrNoArchive
	}
	return d, nil
}

func viewOf(d config.Digest) Digest {
	return Digest{Name: d.Name, Title: sanitize.Line(d.Title), Description: sanitize.Line(d.Description), NoIndex: d.ArchiveNoindex}
}

// Path is the URL path of digest's archive page slug ("" for its index).
func Path(digest, slug string) string {
	if slug == "" {
		return "/archive/" + digest
	}
	return "/archive/" + digest + "/" + slug
}

// URL is the absolute URL of an edition's page: a digest's "view in
// browser" link.
func (s *Service) URL(digest, slug string) string { return s.base + Path(digest, slug) }

// date is a page's day in the catalogue's words.
func (s *Service) date(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return s.cat.Date(t)
}

// Article is one article on an edition's page.
type Article struct {
	Title, URL, ImageURL string
	Byline               string
	SummaryHTML          htmltemplate.HTML
	SummaryText          string
}

// Section is a part of an edition's page.
type Section struct {
	Name     string
	Articles []Article
}

// articles returns the sections of what page's editions sent, read now:
// withdrawn articles are gone.
func (s *Service) articles(ctx context.Context, p model.ArchivePage) ([]Section, int, error) {
	ids, err := s.st.ArchiveArticleIDs(ctx, p.Editions)
	if err != nil {
		return nil, 0, err
	}
	raw, err := s.st.ArticlesByID(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	var out []Section
	idx := map[string]int{}
	n := 0
	for _, r := range raw {
		a, ok := s.clean.Article(r)
		if !ok {
			continue
		}
		name := a.Section.Name
		if name == "" {
			name = s.cat.T("digest.section_default")
		}
		var names []string
		for _, au := range a.Authors {
			if au.Name != "" {
				names = append(names, au.Name)
			}
		}
		i, seen := idx[name]
		if !seen {
			i = len(out)
			idx[name] = i
			out = append(out, Section{Name: name})
		}
		out[i].Articles = append(out[i].Articles, Article{Title: a.Title, URL: a.URL, ImageURL: a.ImageURL, Byline: s.cat.List(names),
			SummaryHTML: htmltemplate.HTML(a.Summary), SummaryText: a.SummaryText})
		n++
	}
	return out, n, nil
}

// Page is what every archive page's template receives.
type Page struct {
	Site     templates.Site
	SiteName string
	Heading  string
	Digest   Digest
	Title    string // the digest's title, for the catalogue's messages
	IndexURL string // the archive's index (a path)
	Feeds    []FeedLink
}

// FeedLink is one of the archive's feeds.
type FeedLink struct {
	Path, Type, Name string
}

func (s *Service) page(d config.Digest) Page {
	v := viewOf(d)
	p := Page{Site: templates.SiteOf(s.cfg.Site), Digest: v, Title: v.Title, IndexURL: Path(d.Name, "")}
	p.Site.Language = s.cat.Lang()
	p.SiteName = p.Site.Name
	for _, f := range feeds.Formats {
		p.Feeds = append(p.Feeds, FeedLink{Path: feedID(d.Name).Path(f), Type: strings.Split(f.ContentType(), ";")[0], Name: feedNames[f]})
	}
	return p
}

var feedNames = map[feeds.Format]string{feeds.RSS: "RSS", feeds.Atom: "Atom", feeds.JSON: "JSON Feed"}
