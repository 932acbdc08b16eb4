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
	var order []int64
	var maxID int64
	err := eachRow(ctx, s.R, `SELECT a.id FROM articles a WHERE `+published+`
		ORDER BY unixepoch(a.published_at) DESC, a.id DESC`, func(sc scanner) error {
		var id int64
		if err := sc.Scan(&id); err != nil {
			return err
		}
		order = append(order, id)
		maxID = max(maxID, id)
		return nil
	}, now)
	if err != nil {
		return m, fmt.Errorf("store: feed members: %w", err)
	}
	m.All = slices.Clone(order[:min(limit, len(order))]) // not a view that keeps the whole order alive
	rank := newRanks(order, maxID)

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
	var (
		cur   int64 = -1
		ranks []int32
	)
	flush := func() {
		if cur < 0 {
			return
		}
		slices.Sort(ranks)
		ranks = slices.Compact(ranks)
		ids := make([]int64, 0, min(limit, len(ranks)))
		for _, r := range ranks[:min(limit, len(ranks))] {
			ids = append(ids, order[r])
		}
		m.Authors[cur] = ids
		ranks = ranks[:0]
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
			ranks = append(ranks, r)
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
// table when ids are dense enough, else a search over the ids sorted.
type ranks struct {
	dense []int32 // rank+1 by id; 0: not published
	order []int64
	byID  []int32 // positions in order, sorted by id
}

func newRanks(order []int64, maxID int64) ranks {
	if maxID < int64(4*len(order))+1<<16 {
		d := make([]int32, maxID+1)
		for i, id := range order {
			if id >= 0 {
				d[id] = int32(i) + 1
			}
		}
		return ranks{dense: d}
	}
	byID := make([]int32, len(order))
	for i := range byID {
		byID[i] = int32(i)
	}
	slices.SortFunc(byID, func(a, b int32) int { return cmp.Compare(order[a], order[b]) })
	return ranks{order: order, byID: byID}
}

func (r ranks) of(id int64) (int32, bool) {
	if r.dense != nil {
		if id < 0 || id >= int64(len(r.dense)) || r.dense[id] == 0 {
			return 0, false
		}
		return r.dense[id] - 1, true
	}
	i, ok := slices.BinarySearchFunc(r.byID, id, func(p int32, id int64) int { return cmp.Compare(r.order[p], id) })
	if !ok {
		return 0, false
	}
	return r.byID[i], true
}
