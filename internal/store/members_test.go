package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// fillSite writes n articles over a year in 4 sections by 9 authors, with
// ids spaced by step (dense, or sparse enough for the other rank table).
func fillSite(t *testing.T, s *Store, n int, step int64) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	tx, err := s.W.Begin()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 4; i++ {
		exec(`INSERT INTO sections (id, slug, name) VALUES (?, ?, ?)`, i, fmt.Sprint("s", i), "S")
	}
	for i := 1; i <= 9; i++ {
		exec(`INSERT INTO authors (id, slug, name) VALUES (?, ?, ?)`, i, fmt.Sprint("a", i), "A")
	}
	for i := 1; i <= n; i++ {
		id := int64(i) * step
		pub := fixedNow.Add(-time.Duration(rnd.IntN(365*24)) * time.Hour)
		if i%50 == 0 {
			pub = fixedNow.Add(time.Hour) // embargoed
		}
		status := "published"
		if i%31 == 0 {
			status = "draft"
		}
		form := time.RFC3339
		if i%2 == 0 {
			form = "2006-01-02 15:04:05"
		}
		exec(`INSERT INTO articles (id, guid, url, title, section_id, status, published_at) VALUES (?, ?, '/x', 't', ?, ?, ?)`,
			id, fmt.Sprint("g", id), 1+rnd.IntN(4), status, pub.UTC().Format(form))
		for p := range rnd.IntN(3) {
			exec(`INSERT OR IGNORE INTO article_authors (article_id, author_id, position) VALUES (?, ?, ?)`, id, 1+rnd.IntN(9), p)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func ids(arts []model.Article) []int64 {
	out := []int64{}
	for _, a := range arts {
		out = append(out, a.ID)
	}
	return out
}

// FeedMembers says what Articles says, feed by feed, with dense and
// sparse ids.
func TestFeedMembersMatchArticles(t *testing.T) {
	for _, step := range []int64{1, 1 << 40} {
		t.Run(fmt.Sprint("step", step), func(t *testing.T) {
			ctx := context.Background()
			s, _ := MustOpen(t)
			fillSite(t, s, 600, step)
			m, err := s.FeedMembers(ctx, 20)
			if err != nil {
				t.Fatal(err)
			}
			check := func(name string, got []int64, q model.ArticleQuery) {
				t.Helper()
				q.Limit = 20
				arts, err := s.Articles(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if want := ids(arts); !slices.Equal(append([]int64{}, got...), want) {
					t.Errorf("%s: members %v, Articles %v", name, got, want)
				}
			}
			check("all", m.All, model.ArticleQuery{})
			for i := int64(1); i <= 4; i++ {
				check(fmt.Sprint("section ", i), m.Sections[i], model.ArticleQuery{SectionID: i})
			}
			for i := int64(1); i <= 9; i++ {
				check(fmt.Sprint("author ", i), m.Authors[i], model.ArticleQuery{AuthorID: i})
			}
		})
	}
}

// Archive keys, pages and change records.
func TestArchiveKeysAndPages(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	fillSite(t, s, 300, 1)
	// First seen when published, except a late one: an old date, seen later.
	if _, err := s.W.Exec(`UPDATE herald_article_visible SET seen_at = (SELECT unixepoch(published_at) FROM articles WHERE id = article_id)`); err != nil {
		t.Fatal(err)
	}
	late := fixedNow.Add(-time.Minute).Unix()
	if _, err := s.W.Exec(`UPDATE herald_article_visible SET seen_at = ? WHERE article_id = 7`, late); err != nil {
		t.Fatal(err)
	}
	for _, q := range []model.ArchiveQuery{{}, {SectionID: 2}, {AuthorID: 3}} {
		all, err := s.ArchiveKeys(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(all, func(a, b model.ArchiveKey) int {
			if a.Less(b) {
				return -1
			}
			return 1
		}) || len(all) < 10 {
			t.Fatalf("%+v: %d keys, unsorted or too few", q, len(all))
		}
		// Ranges tile the whole: (none, k5], (k5, k9], (k9, end].
		q1, q2, q3 := q, q, q
		q1.Through = all[5]
		q2.After, q2.Through = all[5], all[9]
		q3.After = all[9]
		var joined []model.ArchiveKey
		for _, r := range []model.ArchiveQuery{q1, q2, q3} {
			part, err := s.ArchiveKeys(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			joined = append(joined, part...)
		}
		if !reflect.DeepEqual(joined, all) {
			t.Errorf("%+v: ranges give %d keys, the whole %d", q, len(joined), len(all))
		}
		if q == (model.ArchiveQuery{}) && (all[len(all)-1].ID != 7 || all[len(all)-1].Key != late) {
			t.Errorf("the late article's key is not the last: %+v", all[len(all)-1])
		}
	}
	got, err := s.FreezeArchivePages(ctx, "all", 1, []model.ArchiveKey{{Key: 10, ID: 1}, {Key: 20, ID: 2}})
	if err != nil || len(got) != 2 {
		t.Fatal(got, err)
	}
	// A concurrent writer's page 2 is kept; page 3 is added.
	got, err = s.FreezeArchivePages(ctx, "all", 2, []model.ArchiveKey{{Key: 25, ID: 9}, {Key: 30, ID: 3}})
	if err != nil || !reflect.DeepEqual(got, []model.ArchiveKey{{Key: 10, ID: 1}, {Key: 20, ID: 2}, {Key: 30, ID: 3}}) {
		t.Errorf("bounds %v %v", got, err)
	}
	// An edit records its article's key; a rename every page.
	last, _ := s.LastChangeID(ctx)
	if _, err := s.W.Exec(`UPDATE articles SET title = 'x' WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.W.Exec(`UPDATE sections SET name = 'y' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	cs, err := s.ChangesSince(ctx, last)
	if err != nil || !cs.ArchiveKeys[late] || !cs.ArchiveAll {
		t.Errorf("changes %+v %v: want archive key %d and archive:*", cs, err, late)
	}
}

// ArticleRows holds what ArticlesByID holds, bylines as author ids in the
// same order.
func TestArticleRowsMatchArticlesByID(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	fillSite(t, s, 200, 1)
	var want []int64
	for i := int64(1); i <= 200; i += 3 {
		want = append(want, i)
	}
	full, err := s.ArticlesByID(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.ArticleRows(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]model.Article{}
	for _, a := range rows {
		byID[a.ID] = a
	}
	if len(rows) != len(full) {
		t.Fatalf("%d rows, ArticlesByID %d", len(rows), len(full))
	}
	for _, a := range full {
		r := byID[a.ID]
		var got, exp []int64
		for _, au := range r.Authors {
			got = append(got, au.ID)
		}
		for _, au := range a.Authors {
			exp = append(exp, au.ID)
		}
		if r.GUID != a.GUID || r.BodyHTML != a.BodyHTML || !r.PublishedAt.Equal(a.PublishedAt) || !slices.Equal(got, exp) {
			t.Errorf("article %d: rows %+v, by id %+v", a.ID, r, a)
		}
	}
}
