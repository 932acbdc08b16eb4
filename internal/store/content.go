package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/heraldnews/herald/internal/model"
)

// The content tables belong to the CMS; herald writes them only for the
// demo, tests and benchmark data, through these methods.

// ExecScript runs a SQL script (such as the seed article) in one transaction.
func (s *Store) ExecScript(ctx context.Context, script string) error {
	return s.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, script)
		return err
	})
}

// ContentWriter inserts content rows in one transaction.
type ContentWriter struct {
	tx                       *sql.Tx
	section, author, art, aa *sql.Stmt
}

// WriteContent runs fn with a ContentWriter inside one writer transaction.
func (s *Store) WriteContent(ctx context.Context, fn func(*ContentWriter) error) error {
	return s.Tx(ctx, func(tx *sql.Tx) error {
		w := &ContentWriter{tx: tx}
		var err error
		if w.section, err = tx.PrepareContext(ctx, `INSERT INTO sections (slug, name, description) VALUES (?, ?, ?)`); err != nil {
			return err
		}
		if w.author, err = tx.PrepareContext(ctx, `INSERT INTO authors (slug, name, email, bio, url, avatar_url) VALUES (?, ?, ?, ?, ?, ?)`); err != nil {
			return err
		}
		if w.art, err = tx.PrepareContext(ctx, `INSERT INTO articles (guid, url, title, summary, body_html, image_url, section_id, status, published_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
			return err
		}
		if w.aa, err = tx.PrepareContext(ctx, `INSERT INTO article_authors (article_id, author_id, position) VALUES (?, ?, ?)`); err != nil {
			return err
		}
		defer w.section.Close()
		defer w.author.Close()
		defer w.art.Close()
		defer w.aa.Close()
		return fn(w)
	})
}

// Section inserts a section and returns its id.
func (w *ContentWriter) Section(sec model.Section) (int64, error) {
	res, err := w.section.Exec(sec.Slug, sec.Name, sec.Description)
	if err != nil {
		return 0, fmt.Errorf("store: insert section %q: %w", sec.Slug, err)
	}
	return res.LastInsertId()
}

// Author inserts an author and returns its id.
func (w *ContentWriter) Author(a model.Author) (int64, error) {
	res, err := w.author.Exec(a.Slug, a.Name, nullStr(a.Email), a.Bio, nullStr(a.URL), nullStr(a.AvatarURL))
	if err != nil {
		return 0, fmt.Errorf("store: insert author %q: %w", a.Slug, err)
	}
	return res.LastInsertId()
}

// Article inserts an article with its bylines (a.Authors by ID, in order)
// and returns its id. Times are written in RFC 3339.
func (w *ContentWriter) Article(a model.Article) (int64, error) {
	status := a.Status
	if status == "" {
		status = model.StatusPublished
	}
	var upd any
	if !a.UpdatedAt.IsZero() {
		upd = FormatTime(a.UpdatedAt)
	}
	res, err := w.art.Exec(a.GUID, a.URL, a.Title, a.Summary, a.BodyHTML, nullStr(a.ImageURL), a.Section.ID, status,
		FormatTime(a.PublishedAt), upd)
	if err != nil {
		return 0, fmt.Errorf("store: insert article %q: %w", a.GUID, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	for i, au := range a.Authors {
		if _, err := w.aa.Exec(id, au.ID, i); err != nil {
			return 0, fmt.Errorf("store: insert byline of %q: %w", a.GUID, err)
		}
	}
	return id, nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}
