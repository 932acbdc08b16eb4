package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldnews/herald/internal/model"
)

// ArticleQuery is model.ArticleQuery (kept for callers of the store).
type ArticleQuery = model.ArticleQuery

// articleCols are the columns scanArticle reads, with the article's section
// from a LEFT JOIN (a CMS without foreign keys can leave it dangling).
const articleCols = `a.id, a.guid, a.url, a.title, a.summary, a.body_html, a.image_url,
	a.status, a.published_at, a.updated_at,
	s.id, s.slug, s.name, s.description`

// published is the condition every reader of articles shares: published,
// and published_at has passed (compared as an instant).
const published = `a.status = 'published' AND unixepoch(a.published_at) <= ?`

// Articles returns the published articles q selects, newest first (ties by
// id, newest id first), each with its section and its authors in byline
// order, in two queries whatever the count. Rows that cannot be read are
// skipped with a warning naming their guid; text is repaired to valid UTF-8.
func (s *Store) Articles(ctx context.Context, q ArticleQuery) ([]model.Article, error) {
	var (
		sb   strings.Builder
		args []any
	)
	now := s.Now().Unix()
	switch {
	case q.AuthorID != 0:
		// An author's newest articles are picked by id first, reading only
		// what the order needs, then read in full: ordering every article
		// of a prolific author with its body copies them all into the
		// sorter (8x slower on bench/'s 1M-article database).
		sb.WriteString(`SELECT ` + articleCols + ` FROM articles a
			LEFT JOIN sections s ON s.id = a.section_id
			WHERE a.id IN (SELECT a.id FROM article_authors aa
				JOIN articles a ON a.id = aa.article_id
				WHERE aa.author_id = ? AND ` + published)
		args = append(args, q.AuthorID, now)
		if q.SectionID != 0 {
			sb.WriteString(` AND a.section_id = ?`)
			args = append(args, q.SectionID)
		}
		sb.WriteString(` ORDER BY unixepoch(a.published_at) DESC, a.id DESC`)
		if q.Limit > 0 {
			sb.WriteString(` LIMIT ?`)
			args = append(args, q.Limit)
		}
		sb.WriteString(`)`)
	case q.SectionID != 0:
		sb.WriteString(`SELECT ` + articleCols + ` FROM articles a
			LEFT JOIN sections s ON s.id = a.section_id
			WHERE a.section_id = ? AND ` + published)
		args = append(args, q.SectionID, now)
	default:
		sb.WriteString(`SELECT ` + articleCols + ` FROM articles a
			LEFT JOIN sections s ON s.id = a.section_id
			WHERE ` + published)
		args = append(args, now)
	}
	sb.WriteString(` ORDER BY unixepoch(a.published_at) DESC, a.id DESC`)
	if q.Limit > 0 {
		sb.WriteString(` LIMIT ?`)
		args = append(args, q.Limit)
	}
	arts, err := s.queryArticles(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list articles: %w", err)
	}
	return arts, nil
}

// CandidateArticles returns the published articles whose visible-since time
// (the later of published_at and when herald first saw the row published)
// lies in (since, cutoff], newest first, with sections and authors.
func (s *Store) CandidateArticles(ctx context.Context, since, cutoff time.Time) ([]model.Article, error) {
	const q = `SELECT ` + articleCols + ` FROM articles a
		JOIN herald_article_visible v ON v.article_id = a.id
		LEFT JOIN sections s ON s.id = a.section_id
		WHERE a.status = 'published' AND unixepoch(a.published_at) <= ?
		  AND max(unixepoch(a.published_at), v.seen_at) > ?
		  AND max(unixepoch(a.published_at), v.seen_at) <= ?
		ORDER BY unixepoch(a.published_at) DESC, a.id DESC`
	c := cutoff.Unix()
	arts, err := s.queryArticles(ctx, q, c, since.Unix(), c)
	if err != nil {
		return nil, fmt.Errorf("store: candidate articles: %w", err)
	}
	return arts, nil
}

// ArticlesByID returns the published articles among ids (any order in, newest
// first out). Missing, retracted or unpublished ids are left out.
func (s *Store) ArticlesByID(ctx context.Context, ids []int64) ([]model.Article, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, s.Now().Unix())
	for _, id := range ids {
		args = append(args, id)
	}
	q := `SELECT ` + articleCols + ` FROM articles a
		LEFT JOIN sections s ON s.id = a.section_id
		WHERE ` + published + ` AND a.id IN (` + placeholders(len(ids)) + `)
		ORDER BY unixepoch(a.published_at) DESC, a.id DESC`
	arts, err := s.queryArticles(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: articles by id: %w", err)
	}
	return arts, nil
}

// ArticleRows is ArticlesByID with each byline author's ID only, in
// byline order, and the articles in no particular order: for a caller
// that holds the authors already and orders by itself (a feed build), it
// spares reading an author row per byline and sorting rows with bodies.
func (s *Store) ArticleRows(ctx context.Context, ids []int64) ([]model.Article, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, s.Now().Unix())
	for _, id := range ids {
		args = append(args, id)
	}
	var arts []model.Article
	err := eachRow(ctx, s.R, `SELECT `+articleCols+` FROM articles a
		LEFT JOIN sections s ON s.id = a.section_id
		WHERE `+published+` AND a.id IN (`+placeholders(len(ids))+`)`, func(sc scanner) error {
		a, ok, err := s.scanArticle(sc)
		if ok {
			arts = append(arts, a)
		}
		return err
	}, args...)
	if err == nil {
		err = s.attachAuthorIDs(ctx, arts)
	}
	if err != nil {
		return nil, fmt.Errorf("store: article rows: %w", err)
	}
	return arts, nil
}

// attachAuthorIDs sets the bylines of arts as author ids, in byline order.
func (s *Store) attachAuthorIDs(ctx context.Context, arts []model.Article) error {
	if len(arts) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(arts))
	args := make([]any, 0, len(arts))
	for i := range arts {
		idx[arts[i].ID] = i
		args = append(args, arts[i].ID)
	}
	type byline struct{ art, au, pos int64 }
	var bs []byline
	err := eachRow(ctx, s.R, `SELECT article_id, author_id, position FROM article_authors
		WHERE article_id IN (`+placeholders(len(args))+`)`, func(sc scanner) error {
		var b byline
		if err := sc.Scan(&b.art, &b.au, &b.pos); err != nil {
			return err
		}
		bs = append(bs, b)
		return nil
	}, args...)
	if err != nil {
		return err
	}
	slices.SortFunc(bs, func(x, y byline) int { // byline order, as attachAuthors: position, then author id
		return cmp.Or(cmp.Compare(x.art, y.art), cmp.Compare(x.pos, y.pos), cmp.Compare(x.au, y.au))
	})
	for _, b := range bs {
		if i, ok := idx[b.art]; ok {
			arts[i].Authors = append(arts[i].Authors, model.Author{ID: b.au})
		}
	}
	return nil
}

func (s *Store) queryArticles(ctx context.Context, query string, args ...any) ([]model.Article, error) {
	var arts []model.Article
	err := eachRow(ctx, s.R, query, func(sc scanner) error {
		a, ok, err := s.scanArticle(sc)
		if ok {
			arts = append(arts, a)
		}
		return err
	}, args...)
	if err != nil {
		return nil, err
	}
	if err := s.attachAuthors(ctx, arts); err != nil {
		return nil, err
	}
	return arts, nil
}

// scanArticle reads one row of articleCols. It reports false, with a
// warning naming the row, for a row herald skips (no guid, an unreadable
// published_at).
func (s *Store) scanArticle(sc scanner) (model.Article, bool, error) {
	var (
		a                               model.Article
		guid, url, title, summary, body sql.NullString
		image, status, pub, upd         sql.NullString
		secID                           sql.NullInt64
		secSlug, secName, secDesc       sql.NullString
	)
	if err := sc.Scan(&a.ID, &guid, &url, &title, &summary, &body, &image,
		&status, &pub, &upd, &secID, &secSlug, &secName, &secDesc); err != nil {
		return a, false, err
	}
	a.GUID = text(guid)
	if a.GUID == "" {
		s.Log.Warn("article skipped: empty guid", "article_id", a.ID)
		return a, false, nil
	}
	t, err := ParseTime(pub.String)
	if err != nil {
		s.Log.Warn("article skipped: unreadable published_at", "guid", a.GUID, "published_at", text(pub))
		return a, false, nil
	}
	a.PublishedAt = t
	if upd.Valid && strings.TrimSpace(upd.String) != "" {
		if t, err := ParseTime(upd.String); err == nil {
			a.UpdatedAt = t
		} else {
			s.Log.Warn("article updated_at ignored: unreadable", "guid", a.GUID, "updated_at", text(upd))
		}
	}
	a.URL, a.Title, a.Summary, a.BodyHTML = text(url), text(title), text(summary), text(body)
	a.ImageURL, a.Status = text(image), text(status)
	a.Section = model.Section{ID: secID.Int64, Slug: text(secSlug), Name: text(secName), Description: text(secDesc)}
	return a, true, nil
}

// attachAuthors loads the bylines of arts in one query per 500 articles.
func (s *Store) attachAuthors(ctx context.Context, arts []model.Article) error {
	const chunk = 500
	idx := make(map[int64]int, len(arts))
	for i := range arts {
		idx[arts[i].ID] = i
	}
	for start := 0; start < len(arts); start += chunk {
		end := min(start+chunk, len(arts))
		args := make([]any, 0, end-start)
		for _, a := range arts[start:end] {
			args = append(args, a.ID)
		}
		err := eachRow(ctx, s.R, `SELECT aa.article_id, au.id, au.slug, au.name, au.email, au.bio, au.url, au.avatar_url
			FROM article_authors aa JOIN authors au ON au.id = aa.author_id
			WHERE aa.article_id IN (`+placeholders(len(args))+`)
			ORDER BY aa.article_id, aa.position, au.id`, func(sc scanner) error {
			var (
				artID                               int64
				au                                  model.Author
				slug, name, email, bio, url, avatar sql.NullString
			)
			if err := sc.Scan(&artID, &au.ID, &slug, &name, &email, &bio, &url, &avatar); err != nil {
				return err
			}
			au.Slug, au.Name, au.Email, au.Bio, au.URL, au.AvatarURL = text(slug), text(name), text(email), text(bio), text(url), text(avatar)
			if i, ok := idx[artID]; ok {
				arts[i].Authors = append(arts[i].Authors, au)
			}
			return nil
		}, args...)
		if err != nil {
			return err
		}
	}
	return nil
}

// Sections returns every section, ordered by slug.
func (s *Store) Sections(ctx context.Context) ([]model.Section, error) {
	out, err := queryRows(ctx, s.R, `SELECT id, slug, name, description FROM sections ORDER BY slug, id`, scanSection)
	if err != nil {
		return nil, fmt.Errorf("store: list sections: %w", err)
	}
	return out, nil
}

func scanSection(sc scanner) (model.Section, error) {
	var sec model.Section
	var slug, name, desc sql.NullString
	if err := sc.Scan(&sec.ID, &slug, &name, &desc); err != nil {
		return sec, err
	}
	sec.Slug, sec.Name, sec.Description = text(slug), text(name), text(desc)
	return sec, nil
}

// Authors returns every author, ordered by slug.
func (s *Store) Authors(ctx context.Context) ([]model.Author, error) {
	out, err := queryRows(ctx, s.R, `SELECT id, slug, name, email, bio, url, avatar_url FROM authors ORDER BY slug, id`, scanAuthor)
	if err != nil {
		return nil, fmt.Errorf("store: list authors: %w", err)
	}
	return out, nil
}

func scanAuthor(sc scanner) (model.Author, error) {
	var au model.Author
	var slug, name, email, bio, url, avatar sql.NullString
	if err := sc.Scan(&au.ID, &slug, &name, &email, &bio, &url, &avatar); err != nil {
		return au, err
	}
	au.Slug, au.Name, au.Email, au.Bio, au.URL, au.AvatarURL = text(slug), text(name), text(email), text(bio), text(url), text(avatar)
	return au, nil
}

// SectionBySlug returns the section with that slug, or ErrNotFound.
func (s *Store) SectionBySlug(ctx context.Context, slug string) (model.Section, error) {
	var sec model.Section
	var name, desc sql.NullString
	err := s.R.QueryRowContext(ctx, `SELECT id, slug, name, description FROM sections WHERE slug = ?`, slug).
		Scan(&sec.ID, &sec.Slug, &name, &desc)
	if err == sql.ErrNoRows {
		return sec, fmt.Errorf("store: section %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return sec, fmt.Errorf("store: section %q: %w", slug, err)
	}
	sec.Name, sec.Description = text(name), text(desc)
	return sec, nil
}

// AuthorBySlug returns the author with that slug, or ErrNotFound.
func (s *Store) AuthorBySlug(ctx context.Context, slug string) (model.Author, error) {
	var au model.Author
	var name, email, bio, url, avatar sql.NullString
	err := s.R.QueryRowContext(ctx, `SELECT id, slug, name, email, bio, url, avatar_url FROM authors WHERE slug = ?`, slug).
		Scan(&au.ID, &au.Slug, &name, &email, &bio, &url, &avatar)
	if err == sql.ErrNoRows {
		return au, fmt.Errorf("store: author %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return au, fmt.Errorf("store: author %q: %w", slug, err)
	}
	au.Name, au.Email, au.Bio, au.URL, au.AvatarURL = text(name), text(email), text(bio), text(url), text(avatar)
	return au, nil
}

// Problem is a content row herald cannot use as written.
type Problem struct {
	Table  string // "articles", "sections", "authors"
	Key    string // guid or slug
	Reason string
}

// Audit lists content rows herald will skip or treat specially: published
// articles whose published_at is unreadable, and sections and authors whose
// slug breaks the slug rule (they get no feed of their own). Each is logged
// as a warning too.
func (s *Store) Audit(ctx context.Context) ([]Problem, error) {
	out, err := queryRows(ctx, s.R, `SELECT guid, published_at FROM articles
		WHERE status = 'published' AND unixepoch(published_at) IS NULL`, func(sc scanner) (Problem, error) {
		var guid, pub sql.NullString
		err := sc.Scan(&guid, &pub)
		return Problem{"articles", text(guid), fmt.Sprintf("unreadable published_at %q: article skipped", text(pub))}, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	secs, err := s.Sections(ctx)
	if err != nil {
		return nil, err
	}
	for _, sec := range secs {
		if !model.ValidSlug(sec.Slug) {
			out = append(out, Problem{"sections", sec.Slug, "slug breaks the rule ^[a-z0-9][a-z0-9._-]*$: no feed of its own"})
		}
	}
	auths, err := s.Authors(ctx)
	if err != nil {
		return nil, err
	}
	for _, au := range auths {
		if !model.ValidSlug(au.Slug) {
			out = append(out, Problem{"authors", au.Slug, "slug breaks the rule ^[a-z0-9][a-z0-9._-]*$: no feed of its own"})
		}
	}
	for _, p := range out {
		s.Log.Warn("content problem", "table", p.Table, "key", p.Key, "reason", p.Reason)
	}
	return out, nil
}

// text repairs a nullable column into valid UTF-8 (NULL is "").
func text(ns sql.NullString) string {
	if !ns.Valid {
		return ""
	}
	if utf8.ValidString(ns.String) {
		return ns.String
	}
	return strings.ToValidUTF8(ns.String, "\uFFFD")
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}
