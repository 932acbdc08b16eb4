package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"github.com/heraldnews/herald/internal/model"
)

// archiveKey is an article's first-seen key: the later of its published_at
// and when herald first saw it published.
const archiveKey = `max(unixepoch(a.published_at), coalesce(v.seen_at, 0))`

// ArchiveBounds returns the last keys of feed's frozen archive pages,
// page 1 first. feed is 'all', 'section:<id>' or 'author:<id>'.
func (s *Store) ArchiveBounds(ctx context.Context, feed string) ([]model.ArchiveKey, error) {
	out, err := queryRows(ctx, s.R, `SELECT last_key, last_id FROM herald_archive_pages WHERE feed = ? ORDER BY page`,
		func(sc scanner) (model.ArchiveKey, error) {
			var k model.ArchiveKey
			return k, sc.Scan(&k.Key, &k.ID)
		}, feed)
	if err != nil {
		return nil, fmt.Errorf("store: archive pages of %s: %w", feed, err)
	}
	return out, nil
}

// FreezeArchivePages records pages first, first+1, … of feed as ending at
// bounds, keeping any page already recorded (a concurrent writer's), and
// returns every bound now recorded.
func (s *Store) FreezeArchivePages(ctx context.Context, feed string, first int, bounds []model.ArchiveKey) ([]model.ArchiveKey, error) {
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		for i, b := range bounds {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO herald_archive_pages (feed, page, last_key, last_id)
				VALUES (?, ?, ?, ?)`, feed, first+i, b.Key, b.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: freeze archive pages of %s: %w", feed, err)
	}
	return s.ArchiveBounds(ctx, feed)
}

// ArchiveKeys returns the keys of one feed's published, due articles in
// q's range, in first-seen order. The site's range is read through the
// published_at and seen_at indexes (a key is one or the other); a
// section's or an author's from its own articles.
func (s *Store) ArchiveKeys(ctx context.Context, q model.ArchiveQuery) ([]model.ArchiveKey, error) {
	now := s.Now().Unix()
	through := q.Through
	if through == (model.ArchiveKey{}) {
		through = model.ArchiveKey{Key: math.MaxInt64, ID: math.MaxInt64}
	}
	var query string
	var args []any
	switch {
	case q.SectionID != 0:
		query = `SELECT ` + archiveKey + ` AS k, a.id FROM articles a LEFT JOIN herald_article_visible v ON v.article_id = a.id
			WHERE a.section_id = ? AND ` + published
		args = []any{q.SectionID, now}
	case q.AuthorID != 0:
		query = `SELECT ` + archiveKey + ` AS k, a.id FROM article_authors aa JOIN articles a ON a.id = aa.article_id
			LEFT JOIN herald_article_visible v ON v.article_id = a.id
			WHERE aa.author_id = ? AND ` + published
		args = []any{q.AuthorID, now}
	default:
		// A key in [after, through] has its published_at or its seen_at
		// there: two index ranges instead of the whole table.
		query = `SELECT ` + archiveKey + ` AS k, a.id FROM articles a LEFT JOIN herald_article_visible v ON v.article_id = a.id
			WHERE ` + published + ` AND unixepoch(a.published_at) BETWEEN ? AND ?
			UNION
			SELECT ` + archiveKey + `, a.id FROM herald_article_visible v JOIN articles a ON a.id = v.article_id
			WHERE v.seen_at BETWEEN ? AND ? AND ` + published
		args = []any{now, q.After.Key, through.Key, q.After.Key, through.Key, now}
	}
	query = `SELECT k, id FROM (` + query + `) WHERE (k, id) > (?, ?) AND (k, id) <= (?, ?) ORDER BY k, id`
	args = append(args, q.After.Key, q.After.ID, through.Key, through.ID)
	out, err := queryRows(ctx, s.R, query, func(sc scanner) (model.ArchiveKey, error) {
		var k model.ArchiveKey
		return k, sc.Scan(&k.Key, &k.ID)
	}, args...)
	if err != nil {
		return nil, fmt.Errorf("store: archive keys: %w", err)
	}
	return out, nil
}
