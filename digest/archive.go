package digest

import (
	"context"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// ArchiveStore gives an edition its page in the digest's public archive
// (internal/store; package archive serves the pages).
type ArchiveStore interface {
	// AssignArchivePage gives edition id its page, once: day's next one,
	// or — shared — the page the day's other zone groups have.
	AssignArchivePage(ctx context.Context, id int64, day string, shared bool) (model.ArchivePage, error)
}

// archiveDay is the day an edition's archive page is named after: its
// slot's date in the digest's time zone (a zone group's: in its zone), or
// a manual edition's cutoff's.
func archiveDay(d config.Digest, e model.Edition) string {
	if len(e.Slot) >= len(time.DateOnly) {
		if _, err := time.Parse(time.DateOnly, e.Slot[:len(time.DateOnly)]); err == nil {
			return e.Slot[:len(time.DateOnly)]
		}
	}
	return e.Cutoff.In(d.Location()).Format(time.DateOnly)
}

// archiveURL returns the "view in browser" link of edition e, giving it its
// archive page first: "" when the digest has no archive. A local digest's
// zone groups of one day share a page.
func (s *Service) archiveURL(ctx context.Context, d config.Digest, e model.Edition) (string, error) {
	if !d.Archived() || s.opt.Archive == nil {
		return "", nil
	}
	p, err := s.opt.Archive.AssignArchivePage(ctx, e.ID, archiveDay(d, e), e.Zone != "" && e.Kind == model.EditionScheduled)
	if err != nil {
		return "", err
	}
	return archiveIndex(s.cfg, d) + "/" + p.Slug(), nil
}

// archiveIndex is the digest's archive index URL ("" without an archive):
// what previews link to, having no edition of their own.
func archiveIndex(cfg *config.Config, d config.Digest) string {
	if !d.Archived() {
		return ""
	}
	return strings.TrimRight(cfg.HTTP.BaseURL, "/") + "/archive/" + d.Name
}
