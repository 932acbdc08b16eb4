package feeds

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// tracker turns the changes the store records (and embargoed articles
// falling due, which change no row) into the set of feeds to rebuild. A
// Refresher keeps the one tracker, for both the cache and the static files.
type tracker struct {
	b *Builder

	mu      sync.Mutex
	last    int64     // highest change id applied
	embargo time.Time // next embargo instant; zero when none
	retry   Touched   // handed back by requeue, returned again by next
}

// requeue hands back feeds that could not be rebuilt: the next call to
// next returns them again along with whatever is new.
func (t *tracker) requeue(x Touched) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.retry = merge(t.retry, x)
}

func merge(a, b Touched) Touched {
	out := Touched{Everything: a.Everything || b.Everything}
	out.All = a.All || b.All
	out.LastID = max(a.LastID, b.LastID)
	out.Sections = map[int64]bool{}
	out.Authors = map[int64]bool{}
	for _, m := range []map[int64]bool{a.Sections, b.Sections} {
		for k := range m {
			out.Sections[k] = true
		}
	}
	for _, m := range []map[int64]bool{a.Authors, b.Authors} {
		for k := range m {
			out.Authors[k] = true
		}
	}
	out.ArchiveAll = a.ArchiveAll || b.ArchiveAll
	if len(a.ArchiveKeys)+len(b.ArchiveKeys) > 0 {
		out.ArchiveKeys = map[int64]bool{}
		for _, m := range []map[int64]bool{a.ArchiveKeys, b.ArchiveKeys} {
			for k := range m {
				out.ArchiveKeys[k] = true
			}
		}
	}
	return out
}

// newTracker starts tracking changes made from now on.
func newTracker(ctx context.Context, b *Builder) (*tracker, error) {
	t := &tracker{b: b}
	last, err := b.src.LastChangeID(ctx)
	if err != nil {
		return nil, fmt.Errorf("feeds: track changes: %w", err)
	}
	t.last = last
	if t.embargo, err = b.src.NextEmbargo(ctx); err != nil {
		return nil, fmt.Errorf("feeds: track changes: %w", err)
	}
	return t, nil
}

// Touched says which feeds changed.
type Touched struct {
	model.ChangeSet
	// Everything: rebuild every feed (many embargoed articles fell due at once).
	Everything bool
}

// Empty reports whether nothing changed.
func (t Touched) Empty() bool { return !t.Everything && t.ChangeSet.Empty() }

// Has reports whether feed id is touched.
func (t Touched) Has(id FeedID) bool {
	switch {
	case t.Everything:
		return true
	case id.Kind == KindAll:
		return t.All
	case id.Kind == KindSection:
		return t.Sections[id.ID]
	}
	return t.Authors[id.ID]
}

// add marks feed id touched.
func (t *Touched) add(id FeedID) {
	switch id.Kind {
	case KindAll:
		t.All = true
	case KindSection:
		if t.Sections == nil {
			t.Sections = map[int64]bool{}
		}
		t.Sections[id.ID] = true
	case KindAuthor:
		if t.Authors == nil {
			t.Authors = map[int64]bool{}
		}
		t.Authors[id.ID] = true
	}
}

// next returns the feeds touched since the previous call. On error nothing
// is consumed: the next call sees the same changes again.
func (t *tracker) next(ctx context.Context) (Touched, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs, err := t.b.src.ChangesSince(ctx, t.last)
	if err != nil {
		return Touched{}, fmt.Errorf("feeds: read changes: %w", err)
	}
	if cs.Sections == nil {
		cs.Sections = map[int64]bool{}
	}
	if cs.Authors == nil {
		cs.Authors = map[int64]bool{}
	}
	out := Touched{ChangeSet: cs}
	now := t.b.now()
	embargo := t.embargo
	if !embargo.IsZero() && !now.Before(embargo) {
		// Articles whose published_at has just passed: they are the newest
		// of the site feed. Touch their section and authors too.
		arts, err := t.b.src.Articles(ctx, model.ArticleQuery{Limit: t.b.opt.Items})
		if err != nil {
			return Touched{}, fmt.Errorf("feeds: embargoed articles: %w", err)
		}
		out.All = true
		due := 0
		for _, a := range arts {
			if a.PublishedAt.Before(embargo) {
				continue
			}
			due++
			out.Sections[a.Section.ID] = true
			for _, au := range a.Authors {
				out.Authors[au.ID] = true
			}
		}
		if due >= len(arts) && len(arts) >= t.b.opt.Items {
			out.Everything = true // more may have fallen due than one page shows
		}
	}
	next, err := t.b.src.NextEmbargo(ctx)
	if err != nil {
		return Touched{}, fmt.Errorf("feeds: next embargo: %w", err)
	}
	t.embargo = next
	t.last = cs.LastID
	out = merge(out, t.retry)
	t.retry = Touched{}
	return out, nil
}
