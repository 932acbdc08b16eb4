package feeds

import (
	"context"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// Source is what the feeds need from the database. *store.Store implements
// it; the compile-time check lives in cmd/herald.
type Source interface {
	// Articles returns published, due articles, newest first (ties by id).
	Articles(ctx context.Context, q model.ArticleQuery) ([]model.Article, error)
	// ArticlesByID returns the published, due articles among ids.
	ArticlesByID(ctx context.Context, ids []int64) ([]model.Article, error)
	// ArticleRows is ArticlesByID with each byline author's ID only.
	ArticleRows(ctx context.Context, ids []int64) ([]model.Article, error)
	// FeedMembers says which articles every feed holds (limit each).
	FeedMembers(ctx context.Context, limit int) (model.FeedMembers, error)
	Sections(ctx context.Context) ([]model.Section, error)
	Authors(ctx context.Context) ([]model.Author, error)
	// ChangesSince collects the feeds touched by changes with id > after.
	ChangesSince(ctx context.Context, after int64) (model.ChangeSet, error)
	LastChangeID(ctx context.Context) (int64, error)
	// NextEmbargo is the earliest future published_at (zero when none).
	NextEmbargo(ctx context.Context) (time.Time, error)
}

// StateStore persists, per feed path, the hash of the feed's bytes and when
// they last changed, so Last-Modified survives restarts and never goes
// backwards. *store.Store implements it.
type StateStore interface {
	FeedState(ctx context.Context, path string) (sum string, modified time.Time, err error)
	SaveFeedState(ctx context.Context, path, sum string, modified time.Time) (time.Time, error)
}

// Kind says which articles a feed holds.
type Kind uint8

// Feed kinds.
const (
	KindAll Kind = iota
	KindSection
	KindAuthor
	// KindArchive is a digest's feed of editions (package archive): its
	// Slug is the digest's name. It is not among Builder.Feeds.
	KindArchive
)

// Format is an encoding of a feed.
type Format uint8

// Formats, in the order a Set holds them.
const (
	RSS Format = iota
	Atom
	JSON
	numFormats
)

// Formats lists every format.
var Formats = [numFormats]Format{RSS, Atom, JSON}

// Ext is the file extension of the format, without the dot.
func (f Format) Ext() string {
	switch f {
	case RSS:
		return "rss"
	case Atom:
		return "atom"
	}
	return "json"
}

// ContentType is the format's media type as design.md gives it.
func (f Format) ContentType() string {
	switch f {
	case RSS:
		return "application/rss+xml; charset=utf-8"
	case Atom:
		return "application/atom+xml; charset=utf-8"
	}
	return "application/feed+json; charset=utf-8"
}

// FeedID names one feed: the site, a section or an author.
type FeedID struct {
	Kind Kind
	ID   int64  // section or author id; 0 for KindAll
	Slug string // section or author slug; "" for KindAll
}

// SiteFeed is the whole-site feed.
var SiteFeed = FeedID{Kind: KindAll}

// Path is the feed's URL path (and path under an output directory) in
// format f, e.g. /feeds/sections/world-news.atom.
func (id FeedID) Path(f Format) string {
	switch id.Kind {
	case KindSection:
		return "/feeds/sections/" + id.Slug + "." + f.Ext()
	case KindAuthor:
		return "/feeds/authors/" + id.Slug + "." + f.Ext()
	case KindArchive:
		return "/archive/" + id.Slug + "." + f.Ext()
	}
	return "/feeds/all." + f.Ext()
}

// String names the feed for logs: all, section:world-news, author:jane.
func (id FeedID) String() string {
	switch id.Kind {
	case KindSection:
		return "section:" + id.Slug
	case KindAuthor:
		return "author:" + id.Slug
	case KindArchive:
		return "archive:" + id.Slug
	}
	return "all"
}

// ParsePath reads a feed URL path back into the kind, slug and format. It
// does not check that the slug exists; ok is false for any other path or a
// slug that breaks the slug rule.
func ParsePath(p string) (kind Kind, slug string, f Format, ok bool) {
	rest, found := strings.CutPrefix(p, "/feeds/")
	if !found {
		return 0, "", 0, false
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return 0, "", 0, false
	}
	switch rest[dot+1:] {
	case "rss":
		f = RSS
	case "atom":
		f = Atom
	case "json":
		f = JSON
	default:
		return 0, "", 0, false
	}
	name := rest[:dot]
	switch {
	case name == "all":
		return KindAll, "", f, true
	case strings.HasPrefix(name, "sections/"):
		kind, slug = KindSection, name[len("sections/"):]
	case strings.HasPrefix(name, "authors/"):
		kind, slug = KindAuthor, name[len("authors/"):]
	default:
		return 0, "", 0, false
	}
	if !model.ValidSlug(slug) {
		return 0, "", 0, false
	}
	return kind, slug, f, true
}
