package archive

import (
	"context"
	"html"
	"strings"
	"time"

	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/model"
)

// feedID names digest's feed of editions for package feeds.
func feedID(digest string) feeds.FeedID { return feeds.FeedID{Kind: feeds.KindArchive, Slug: digest} }

// Feed returns digest's feed of editions — its newest pages, each an
// entry whose content lists the edition's articles — in every format, and
// when it last changed (its newest page's).
func (s *Service) Feed(ctx context.Context, digest string) (feeds.Set, time.Time, error) {
	d, err := s.digest(digest)
	if err != nil {
		return feeds.Set{}, time.Time{}, err
	}
	ps, err := s.st.ArchivePages(ctx, d.Name, 0, max(1, min(s.cfg.Feeds.Items, 100)))
	if err != nil {
		return feeds.Set{}, time.Time{}, err
	}
	v := viewOf(d)
	names := map[string]string{"Site": s.feedsSite(), "Title": v.Title}
	f := feeds.Feed{ID: feedID(d.Name), Title: s.cat.T("archive.feed_title", names),
		Description: s.cat.T("archive.feed_description", names), Link: s.URL(d.Name, "")}
	if v.Description != "" {
		f.Description = v.Description
	}
	var (
		entries []model.Article
		mod     time.Time
	)
	for _, p := range ps {
		e, err := s.edition(ctx, p)
		if err != nil {
			return feeds.Set{}, time.Time{}, err
		}
		url := s.URL(d.Name, p.Slug())
		entries = append(entries, model.Article{
			GUID: url, URL: url, Title: s.cat.T("archive.entry_title", map[string]string{"Title": v.Title, "Date": e.Date}),
			Summary: html.EscapeString(s.cat.N("archive.articles", e.Count)), SummaryText: s.cat.N("archive.articles", e.Count),
			BodyHTML: entryHTML(e), PublishedAt: p.Published, UpdatedAt: p.Updated,
		})
		if p.Updated.After(mod) {
			mod = p.Updated
		}
	}
	set, err := s.feeds.Encode(f, entries)
	return set, mod, err
}

func (s *Service) feedsSite() string { return strings.TrimSpace(s.cfg.Site.Name) }

// entryHTML is an edition's articles as a feed entry's content: each
// section's titles, linked, with their summaries.
func entryHTML(e Edition) string {
	var b strings.Builder
	for _, sec := range e.Sections {
		b.WriteString("<h2>" + html.EscapeString(sec.Name) + "</h2>\n<ul>\n")
		for _, a := range sec.Articles {
			b.WriteString(`<li><a href="` + html.EscapeString(a.URL) + `">` + html.EscapeString(a.Title) + "</a>")
			if a.SummaryText != "" {
				b.WriteString(" — " + html.EscapeString(a.SummaryText))
			}
			b.WriteString("</li>\n")
		}
		b.WriteString("</ul>\n")
	}
	return b.String()
}
