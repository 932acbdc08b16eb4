package digest

import (
	"slices"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// filter is a set of section and author slugs: an article matches when its
// section is among the sections or any of its authors among the authors.
type filter struct {
	sections, authors map[string]bool
}

func newFilter(sections, authors []string) filter {
	f := filter{}
	if len(sections) > 0 {
		f.sections = make(map[string]bool, len(sections))
		for _, s := range sections {
			f.sections[s] = true
		}
	}
	if len(authors) > 0 {
		f.authors = make(map[string]bool, len(authors))
		for _, a := range authors {
			f.authors[a] = true
		}
	}
	return f
}

// empty reports whether the filter lets everything through.
func (f filter) empty() bool { return len(f.sections) == 0 && len(f.authors) == 0 }

func (f filter) match(a *ArticleView) bool {
	if f.empty() {
		return true
	}
	if f.sections[a.SectionSlug] {
		return true
	}
	for _, slug := range a.AuthorSlugs {
		if f.authors[slug] {
			return true
		}
	}
	return false
}

// candidateFilter keeps the articles an edition of d may carry: those the
// digest's own section/author filter allows, and among them those the
// edition's send-now flags name.
func candidateFilter(d config.Digest, e model.Edition, arts []*ArticleView) []*ArticleView {
	df, ef := newFilter(d.Sections, d.Authors), newFilter(e.Sections, e.Authors)
	out := arts[:0:0]
	for _, a := range arts {
		if df.match(a) && ef.match(a) {
			out = append(out, a)
		}
	}
	return out
}

// eligible reports whether sub takes part in edition e: with send-now
// flags, only subscribers who follow everything or follow one of them.
func eligible(sub model.Subscription, e model.Edition) bool {
	if len(e.Sections) == 0 && len(e.Authors) == 0 {
		return true
	}
	if sub.FollowsAll() {
		return true
	}
	for _, s := range sub.Sections {
		if slices.Contains(e.Sections, s) {
			return true
		}
	}
	for _, a := range sub.Authors {
		if slices.Contains(e.Authors, a) {
			return true
		}
	}
	return false
}

// selectArticles is design.md's per-subscriber selection: among cands
// (newest first), those matching the subscription's follows (sections ∪
// authors; none means everything), minus those already received, capped at
// max. It returns their ids, newest first.
func selectArticles(cands []*ArticleView, sub model.Subscription, received map[int64]bool, max int) []int64 {
	return selectWindow(cands, sub, received, max, nil, 0)
}

// selectWindow is selectArticles where, with visible set (a local
// digest's reader), only the candidates visible after since (unix seconds)
// count: the reader's own window.
func selectWindow(cands []*ArticleView, sub model.Subscription, received map[int64]bool, max int, visible map[int64]int64, since int64) []int64 {
	f := newFilter(sub.Sections, sub.Authors)
	var ids []int64
	for _, a := range cands {
		if max > 0 && len(ids) >= max {
			break
		}
		if received[a.ID] || !f.match(a) || visible != nil && visible[a.ID] <= since {
			continue
		}
		ids = append(ids, a.ID)
	}
	return ids
}
