package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// AssignArchivePage gives edition id its page in the digest's archive, once
// and for good, and returns it: day is the slot's date (YYYY-MM-DD); the
// page is the day's next one, or — shared, for a local digest's zone-group
// edition — the page the day's other zone groups already have. An edition
// that has its page keeps it, whatever day says.
func (s *Store) AssignArchivePage(ctx context.Context, id int64, day string, shared bool) (model.ArchivePage, error) {
	p := model.ArchivePage{}
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		var curDay string
		var curSeq int
		if err := tx.QueryRowContext(ctx, `SELECT digest, archive_day, archive_seq FROM editions WHERE id = ?`, id).
			Scan(&p.Digest, &curDay, &curSeq); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if curDay != "" {
			p.Day, p.Seq = curDay, curSeq
			return nil
		}
		p.Day = day
		if shared {
			err := tx.QueryRowContext(ctx, `SELECT archive_seq FROM editions
				WHERE digest = ? AND archive_day = ? AND kind = 'scheduled' AND zone != '' LIMIT 1`, p.Digest, day).Scan(&p.Seq)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if p.Seq == 0 {
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(archive_seq), 0) + 1 FROM editions
				WHERE digest = ? AND archive_day = ?`, p.Digest, day).Scan(&p.Seq); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE editions SET archive_day = ?, archive_seq = ? WHERE id = ?`, p.Day, p.Seq, id)
		return err
	})
	if err != nil {
		return p, fmt.Errorf("store: archive page of edition %d: %w", id, err)
	}
	return p, nil
}

// archivePageQuery lists a digest's archive pages that at least one sent
// message belongs to, newest first.
const archivePageQuery = `SELECT archive_day, archive_seq, group_concat(id), MIN(created_at), MAX(COALESCE(finished_at, created_at))
	FROM editions e
	WHERE digest = ? AND archive_day != '' %s
	  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.edition_id = e.id AND d.status = 'sent')
	GROUP BY archive_day, archive_seq
	ORDER BY archive_day DESC, archive_seq DESC`

func scanArchivePage(digest string) func(sc scanner) (model.ArchivePage, error) {
	return func(sc scanner) (model.ArchivePage, error) {
		p := model.ArchivePage{Digest: digest}
		var ids string
		var pub, upd int64
		if err := sc.Scan(&p.Day, &p.Seq, &ids, &pub, &upd); err != nil {
			return p, err
		}
		for _, x := range strings.Split(ids, ",") {
			if id, err := strconv.ParseInt(x, 10, 64); err == nil {
				p.Editions = append(p.Editions, id)
			}
		}
		slices.Sort(p.Editions)
		p.Published, p.Updated = time.Unix(pub, 0).UTC(), time.Unix(upd, 0).UTC()
		return p, nil
	}
}

// ArchivePages returns a digest's archive pages, newest first, skipping
// offset and returning at most limit.
func (s *Store) ArchivePages(ctx context.Context, digest string, offset, limit int) ([]model.ArchivePage, error) {
	ps, err := queryRows(ctx, s.R, fmt.Sprintf(archivePageQuery, "")+` LIMIT ? OFFSET ?`, scanArchivePage(digest), digest, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("store: archive pages of %s: %w", digest, err)
	}
	return ps, nil
}

// ArchivePageCount is how many pages a digest's archive has.
func (s *Store) ArchivePageCount(ctx context.Context, digest string) (int, error) {
	var n int
	err := s.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+fmt.Sprintf(archivePageQuery, "")+`)`, digest).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: archive pages of %s: %w", digest, err)
	}
	return n, nil
}

// ArchivePage returns the page day/seq of a digest's archive, or
// ErrNotFound (no such page, or nothing of it sent yet).
func (s *Store) ArchivePage(ctx context.Context, digest, day string, seq int) (model.ArchivePage, error) {
	ps, err := queryRows(ctx, s.R, fmt.Sprintf(archivePageQuery, "AND archive_day = ? AND archive_seq = ?"), scanArchivePage(digest), digest, day, seq)
	if err != nil {
		return model.ArchivePage{}, fmt.Errorf("store: archive page %s of %s: %w", model.ArchiveSlug(day, seq), digest, err)
	}
	if len(ps) == 0 {
		return model.ArchivePage{}, ErrNotFound
	}
	return ps[0], nil
}

// ArchiveArticleIDs returns the union of the article ids the sent messages
// of editions carried. A finished edition's union is read from its
// deliveries once and kept (archive_articles); an unfinished one's is
// read each time, since it still grows.
func (s *Store) ArchiveArticleIDs(ctx context.Context, editions []int64) ([]int64, error) {
	seen := map[int64]bool{}
	for _, id := range editions {
		var kept sql.NullString
		var status string
		if err := s.R.QueryRowContext(ctx, `SELECT archive_articles, status FROM editions WHERE id = ?`, id).Scan(&kept, &status); err != nil {
			return nil, fmt.Errorf("store: archive articles of edition %d: %w", id, err)
		}
		var ids []int64
		if kept.Valid {
			_ = json.Unmarshal([]byte(kept.String), &ids)
		} else {
			var err error
			ids, err = queryRows(ctx, s.R, `SELECT DISTINCT j.value FROM deliveries d, json_each(d.article_ids) j
				WHERE d.edition_id = ? AND d.status = 'sent' ORDER BY j.value`, func(sc scanner) (int64, error) {
				var v int64
				return v, sc.Scan(&v)
			}, id)
			if err != nil {
				return nil, fmt.Errorf("store: archive articles of edition %d: %w", id, err)
			}
			if status == model.EditionDone || status == model.EditionCancelled {
				b, _ := json.Marshal(ids)
				if _, err := s.W.ExecContext(ctx, `UPDATE editions SET archive_articles = ? WHERE id = ? AND status IN ('done', 'cancelled')`,
					string(b), id); err != nil {
					return nil, fmt.Errorf("store: keep archive articles of edition %d: %w", id, err)
				}
			}
		}
		for _, a := range ids {
			seen[a] = true
		}
	}
	out := make([]int64, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	slices.Sort(out)
	return out, nil
}
