package feeds

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Archive pages under the output directory: DIR/feeds/all/archive/N.rss,
// DIR/feeds/sections/SLUG/archive/N.atom, … They are written with their
// feed: a full write writes every page (only changed bytes replace a
// file), a refresh the pages its changes touch (touchedPages).

// writeArchive writes archive pages of feed f (pages nil: every page) and
// removes the pages the feed no longer has.
func (wb *writeBatch) writeArchive(ctx context.Context, r *run, f Feed, pages []int) error {
	arc, err := r.archive(ctx, f)
	if err != nil || arc == nil {
		return err
	}
	n := arc.pages()
	if pages == nil {
		for p := 1; p <= n; p++ {
			pages = append(pages, p)
		}
	}
	for _, p := range pages {
		if p < 1 || p > n {
			continue
		}
		set, err := r.buildPage(ctx, f, p)
		if err != nil {
			return err
		}
		_, err = wb.put(f, p, set)
		r.release(set)
		if err != nil {
			return err
		}
	}
	wb.mu.Lock()
	old := wb.w.pages[f.ID]
	if wb.w.pages == nil {
		wb.w.pages = map[FeedID]int{}
	}
	wb.w.pages[f.ID] = n
	wb.mu.Unlock()
	for p := n + 1; p <= old; p++ {
		if err := wb.removePage(f.ID, p); err != nil {
			return err
		}
	}
	return nil
}

// knowsPages reports whether the writer has written f's archive before
// (else a refresh writes every page).
func (wb *writeBatch) knowsPages(f Feed) bool {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	_, ok := wb.w.pages[f.ID]
	return ok
}

// removePage removes archive page p of feed id in every format.
func (wb *writeBatch) removePage(id FeedID, p int) error {
	for _, ft := range Formats {
		name := strings.TrimPrefix(id.ArchivePath(p, ft), "/")
		err := wb.root.Remove(name)
		if err == nil {
			wb.mu.Lock()
			wb.sum.Removed++
			wb.mu.Unlock()
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("feeds: remove %s: %w", name, err)
		}
	}
	return nil
}

// finishArchives removes archive pages no feed of the full list has: with
// scan, every page file found in the archive directories (earlier runs'
// too) beyond its feed's pages; otherwise every page of the feeds gone
// since the last list.
func (wb *writeBatch) finishArchives(feeds []Feed, scan bool) error {
	pages := map[string]int{} // by the feed's RSS path
	for _, f := range feeds {
		pages[f.ID.Path(RSS)] = wb.w.pages[f.ID]
	}
	if !scan {
		for id, n := range wb.w.pages {
			if _, ok := pages[id.Path(RSS)]; ok {
				continue
			}
			for p := 1; p <= n; p++ {
				if err := wb.removePage(id, p); err != nil {
					return err
				}
			}
			delete(wb.w.pages, id)
		}
		return nil
	}
	dirs := []string{"feeds/all/archive"}
	for _, kind := range []string{"feeds/sections", "feeds/authors"} {
		names, err := readSubdirs(wb.root, kind)
		if err != nil {
			return err
		}
		for _, name := range names {
			dirs = append(dirs, kind+"/"+name+"/archive")
		}
	}
	for _, dir := range dirs {
		names, err := readDirNames(wb.root, dir)
		if err != nil {
			return err
		}
		for _, name := range names {
			kind, slug, p, _, ok := ParseArchivePath("/" + dir + "/" + name)
			switch {
			case isDeadTemp(name):
			case ok && p > pages[FeedID{Kind: kind, Slug: slug}.Path(RSS)]:
			default:
				continue // a page still in use, or a file that is not herald's
			}
			if err := wb.root.Remove(dir + "/" + name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("feeds: remove %s/%s: %w", dir, name, err)
			}
			if ok {
				wb.sum.Removed++
			}
		}
	}
	return nil
}

// touchedPages is which archive pages of feed f a refresh rebuilds: the
// open page and the one before it (its next-archive link, or a page just
// frozen), the pages the feed gained since it last had before pages, the
// pages holding a changed article's key; nil (every page) when t renames
// a section or an author.
func touchedPages(arc *archive, before int, t Touched) []int {
	if arc == nil {
		return []int{}
	}
	if t.ArchiveAll {
		return nil
	}
	n := arc.pages()
	out := []int{n, n - 1}
	for p := min(before, n) - 1; p <= n; p++ {
		out = append(out, p)
	}
	for k := range t.ArchiveKeys {
		out = append(out, arc.pagesWith(k)...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	for len(out) > 0 && out[0] < 1 {
		out = out[1:]
	}
	return out
}
