package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/heraldnews/herald/internal/model"
)

// FeedMembers returns which articles every feed holds — the site's, each
// section's and each author's newest limit published articles, newest
// first (ties by id) — reading indexes only, never an article row: the
// site order from the published_at index, each section's from the
// (section, published_at) index, and the authors' from one pass over the
// byline index ranked by the site order. For a build of every feed this
// replaces one query per author that reads each of the author's article
// rows (their published_at sits past the body, on overflow pages).
func (s *Store) FeedMembers(ctx context.Context, limit int) (model.FeedMembers, error) {
	m := model.FeedMembers{Sections: map[int64][]int64{}, Authors: map[int64][]int64{}}
	now := s.Now().Unix()
	// The site order, every published article: its position is its rank.
	var n, maxID int64
	if err := s.R.QueryRowContext(ctx, `SELECT count(*), coalesce(max(a.id), 0) FROM articles a WHERE `+published, now).Scan(&n, &maxID); err != nil {
		return m, fmt.Errorf("store: feed members: %w", err)
	}
	rank := newRanks(n, maxID)
	var i int32
	err := eachRow(ctx, s.R, `SELECT a.id FROM articles a WHERE `+published+`
		ORDER BY unixepoch(a.published_at) DESC, a.id DESC`, func(sc scanner) error {
		var id int64
		if err := sc.Scan(&id); err != nil {
			return err
		}
		if len(m.All) < limit {
			m.All = append(m.All, id)
		}
		rank.set(id, i)
		i++
		return nil
	}, now)
	if err != nil {
		return m, fmt.Errorf("store: feed members: %w", err)
	}
	rank.done()

	secIDs, err := queryRows(ctx, s.R, `SELECT id FROM sections`, func(sc scanner) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	})
	if err != nil {
		return m, fmt.Errorf("store: feed members: %w", err)
	}
	for _, sec := range secIDs {
		ids, err := queryRows(ctx, s.R, `SELECT a.id FROM articles a WHERE a.section_id = ? AND `+published+`
			ORDER BY unixepoch(a.published_at) DESC, a.id DESC LIMIT ?`, func(sc scanner) (int64, error) {
			var id int64
			return id, sc.Scan(&id)
		}, sec, now, limit)
		if err != nil {
			return m, fmt.Errorf("store: feed members of section %d: %w", sec, err)
		}
		m.Sections[sec] = ids
	}

	// Bylines grouped by author; each author keeps its limit best ranks.
	type ranked struct {
		rank int32
		id   int64
	}
	var (
		cur   int64 = -1
		picks []ranked
	)
	flush := func() {
		if cur < 0 {
			return
		}
		slices.SortFunc(picks, func(a, b ranked) int { return cmp.Compare(a.rank, b.rank) })
		picks = slices.CompactFunc(picks, func(a, b ranked) bool { return a.rank == b.rank })
		ids := make([]int64, 0, min(limit, len(picks)))
		for _, p := range picks[:min(limit, len(picks))] {
			ids = append(ids, p.id)
		}
		m.Authors[cur] = ids
		picks = picks[:0]
	}
	err = eachRow(ctx, s.R, `SELECT author_id, article_id FROM article_authors ORDER BY author_id`, func(sc scanner) error {
		var au, art int64
		if err := sc.Scan(&au, &art); err != nil {
			return err
		}
		if au != cur {
			flush()
			cur = au
		}
		if r, ok := rank.of(art); ok {
			picks = append(picks, ranked{r, art})
		}
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("store: feed members of authors: %w", err)
	}
	flush()
	return m, nil
}

// ranks maps an article id to its position in the site order: a dense
// table by id (4 bytes an id) when ids are dense enough, else the ids
// sorted with their ranks beside.
type ranks struct {
	dense []int32 // rank+1 by id; 0: not published
	ids   []int64 // sparse: ids, sorted by done
	rank  []int32 // sparse: the rank of ids[i]
}

func newRanks(n, maxID int64) *ranks {
	if maxID < 4*n+1<<16 {
		return &ranks{dense: make([]int32, maxID+1)}
	}
	return &ranks{ids: make([]int64, 0, n), rank: make([]int32, 0, n)}
}

func (r *ranks) set(id int64, rank int32) {
	switch {
	case r.dense == nil:
		r.ids = append(r.ids, id)
		r.rank = append(r.rank, rank)
	case id >= 0 && id < int64(len(r.dense)):
		r.dense[id] = rank + 1
	}
}

// done sorts the sparse table for of.
func (r *ranks) done() {
	if r.dense != nil {
		return
	}
	idx := make([]int, len(r.ids))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(r.ids[a], r.ids[b]) })
	ids, rank := make([]int64, len(idx)), make([]int32, len(idx))
	for i, j := range idx {
		ids[i], rank[i] = r.ids[j], r.rank[j]
	}
	r.ids, r.rank = ids, rank
}

func (r *ranks) of(id int64) (int32, bool) {
	if r.dense != nil {
		if id < 0 || id >= int64(len(r.dense)) || r.dense[id] == 0 {
			return 0, false
		}
		return r.dense[id] - 1, true
	}
	i, ok := slices.BinarySearch(r.ids, id)
	if !ok {
		return 0, false
	}
	return r.rank[i], true
}
