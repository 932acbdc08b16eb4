package digest

import (
	htmltemplate "html/template"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/templates"
)

// AuthorView is one name in a byline.
type AuthorView struct {
	Name, URL string
}

// ArticleView is one cleaned article as templates see it: every URL is
// absolute, SummaryHTML is sanitised.
type ArticleView struct {
	ID          int64
	Title       string
	URL         string
	ImageURL    string
	Authors     []AuthorView
	Byline      string // every co-author: "A, B and C" (in the readers' language once rendered)
	SummaryHTML htmltemplate.HTML
	SummaryText string
	Published   time.Time
	Section     string // section name ("" for none: the renderer names it)
	SectionSlug string
	AuthorSlugs []string
}

// SectionView groups a digest's articles by section, in the order the
// newest article of each section appears.
type SectionView struct {
	Name     string
	Slug     string
	Articles []*ArticleView
}

// SubscriberView is the reader as templates see them.
type SubscriberView struct {
	Name, Email string
}

// DigestData is what a digest's HTML and text templates receive.
type DigestData struct {
	Site           templates.Site
	SiteName       string // Site.Name, for the catalogue's messages
	Title          string // the digest's title
	Subject        string
	Date           string // the edition's date in the digest's timezone
	Count          int
	Sections       []SectionView
	Subscriber     SubscriberView
	Email          string // Subscriber.Email, for the catalogue's messages
	Follows        string // what the subscription follows, "" for everything
	ManageURL      string
	UnsubscribeURL string
	// ArchiveURL is the "view in browser" link: the edition's public page
	// (the same for every reader: it names no one); "" when the digest's
	// archive is off.
	ArchiveURL string
	// Images says whether the digest shows articles' images (`images`).
	Images bool
}

// SubjectData is what a digest's subject template receives.
type SubjectData struct {
	Site, Title, Date string
	Count             int
	Top               string // the first article's title
}

// newArticleView builds the template view of a cleaned article.
func newArticleView(a model.Article) *ArticleView {
	v := &ArticleView{
		ID: a.ID, Title: a.Title, URL: a.URL, ImageURL: a.ImageURL,
		SummaryHTML: htmltemplate.HTML(a.Summary), SummaryText: a.SummaryText,
		Published: a.PublishedAt, Section: a.Section.Name, SectionSlug: a.Section.Slug,
	}
	names := make([]string, 0, len(a.Authors))
	for _, au := range a.Authors {
		if au.Name == "" {
			continue
		}
		v.Authors = append(v.Authors, AuthorView{Name: au.Name, URL: au.URL})
		names = append(names, au.Name)
	}
	for _, au := range a.Authors {
		v.AuthorSlugs = append(v.AuthorSlugs, au.Slug)
	}
	switch len(names) {
	case 0:
	case 1:
		v.Byline = names[0]
	default:
		v.Byline = strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	return v
}

// groupSections groups articles (newest first) by section.
func groupSections(arts []*ArticleView) []SectionView {
	var out []SectionView
	idx := map[string]int{}
	for _, a := range arts {
		key := a.SectionSlug + "\x00" + a.Section
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, SectionView{Name: a.Section, Slug: a.SectionSlug})
		}
		out[i].Articles = append(out[i].Articles, a)
	}
	return out
}
