package feeds

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// Archives (RFC 5005 §4, Options.Archives). Every feed's published
// articles, in first-seen order (their visible-since time, ties by id: a
// late-published article counts from when herald first saw it), are cut
// into pages of ArchivePageSize entries, page 1 the oldest. A full page is
// frozen by recording its last entry's key (ArchiveStore): no later
// article enters it, a retraction only empties a slot, and its number
// never changes. The entries after the last frozen page make the open
// page, which grows until it is full. The subscription document links the
// newest page (prev-archive; JSON Feed: next_url), and each page its
// neighbours, so walking back from the current feed reaches every
// published article of the feed exactly once.

// ArchiveStore is what archive pages need from the database; the Source
// given to NewBuilder must implement it when Options.Archives is set.
// *store.Store implements it.
type ArchiveStore interface {
	// ArchiveBounds returns the last keys of feed's frozen pages, page 1 first.
	ArchiveBounds(ctx context.Context, feed string) ([]model.ArchiveKey, error)
	// ArchiveKeys returns a range of a feed's first-seen order.
	ArchiveKeys(ctx context.Context, q model.ArchiveQuery) ([]model.ArchiveKey, error)
	// FreezeArchivePages records full pages from page first on (a page
	// already recorded is kept) and returns every bound now recorded.
	FreezeArchivePages(ctx context.Context, feed string, first int, bounds []model.ArchiveKey) ([]model.ArchiveKey, error)
}

const (
	// frozenCacheControl is sent with a full archive page: its entries
	// stay, but an edit or a retraction must still reach readers within a
	// day, so not immutable.
	frozenCacheControl = "public, max-age=86400"
	// freezeMargin keeps the newest entries out of a page being frozen: a
	// row committed late (its seen time set by the CMS's transaction) could
	// otherwise land inside a page already frozen.
	freezeMargin = 5 * time.Minute
	nsHistory    = "http://purl.org/syndication/history/1.0"
)

// archive is one feed's archive as last read: the frozen pages' bounds and
// the open page's keys.
type archive struct {
	bounds []model.ArchiveKey
	open   []model.ArchiveKey
}

// pages is how many archive pages the feed has: the frozen ones, and the
// open one when it holds an entry.
func (a *archive) pages() int {
	if len(a.open) > 0 {
		return len(a.bounds) + 1
	}
	return len(a.bounds)
}

func (a *archive) frozen(p int) bool { return p >= 1 && p <= len(a.bounds) }

// span is page p's key range: (after, through]; through is zero for the open page.
func (a *archive) span(p int) (after, through model.ArchiveKey) {
	if p >= 2 {
		after = a.bounds[p-2]
	}
	if a.frozen(p) {
		through = a.bounds[p-1]
	}
	return after, through
}

// pagesWith returns the pages whose range holds entries with key k.
func (a *archive) pagesWith(k int64) []int {
	var out []int
	for p := 1; p <= a.pages(); p++ {
		after, through := a.span(p)
		if (p == 1 || after.Key <= k) && (!a.frozen(p) || through.Key >= k) {
			out = append(out, p)
		}
	}
	return out
}

// archiveName is a feed's name in the archive tables (as in herald_changes).
func archiveName(id FeedID) string {
	switch id.Kind {
	case KindSection:
		return "section:" + strconv.FormatInt(id.ID, 10)
	case KindAuthor:
		return "author:" + strconv.FormatInt(id.ID, 10)
	}
	return "all"
}

func archiveQuery(id FeedID, after, through model.ArchiveKey) model.ArchiveQuery {
	q := model.ArchiveQuery{After: after, Through: through}
	switch id.Kind {
	case KindSection:
		q.SectionID = id.ID
	case KindAuthor:
		q.AuthorID = id.ID
	}
	return q
}

// readArchive reads feed f's archive and freezes the pages that have
// filled since. It returns nil without archives.
func (b *Builder) readArchive(ctx context.Context, f Feed) (*archive, error) {
	if !b.opt.Archives || b.arch == nil {
		return nil, nil
	}
	name := archiveName(f.ID)
	bounds, err := b.arch.ArchiveBounds(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("feeds: archive of %s: %w", f.ID, err)
	}
	var last model.ArchiveKey
	if len(bounds) > 0 {
		last = bounds[len(bounds)-1]
	}
	open, err := b.arch.ArchiveKeys(ctx, archiveQuery(f.ID, last, model.ArchiveKey{}))
	if err != nil {
		return nil, fmt.Errorf("feeds: archive of %s: %w", f.ID, err)
	}
	n := b.opt.ArchivePageSize
	cutoff := b.now().Add(-freezeMargin).Unix()
	var fresh []model.ArchiveKey
	for i := n - 1; i < len(open) && open[i].Key < cutoff; i += n {
		fresh = append(fresh, open[i])
	}
	if len(fresh) > 0 {
		if bounds, err = b.arch.FreezeArchivePages(ctx, name, len(bounds)+1, fresh); err != nil {
			return nil, fmt.Errorf("feeds: archive of %s: %w", f.ID, err)
		}
		last = bounds[len(bounds)-1]
		i, _ := slices.BinarySearchFunc(open, last, func(k, t model.ArchiveKey) int {
			if k.Less(t) {
				return -1
			}
			if t.Less(k) {
				return 1
			}
			return 0
		})
		for i < len(open) && !last.Less(open[i]) {
			i++
		}
		open = open[i:]
	}
	return &archive{bounds: bounds, open: open}, nil
}

// pageKeys returns the keys page p of a holds now.
func (b *Builder) pageKeys(ctx context.Context, f Feed, a *archive, p int) ([]model.ArchiveKey, error) {
	if !a.frozen(p) {
		return a.open, nil
	}
	after, through := a.span(p)
	keys, err := b.arch.ArchiveKeys(ctx, archiveQuery(f.ID, after, through))
	if err != nil {
		return nil, fmt.Errorf("feeds: archive page %d of %s: %w", p, f.ID, err)
	}
	return keys, nil
}

// ArchivePath is the URL path of archive page p of the feed in format f,
// e.g. /feeds/sections/world-news/archive/3.atom.
func (id FeedID) ArchivePath(p int, f Format) string {
	return strings.TrimSuffix(id.Path(f), "."+f.Ext()) + "/archive/" + strconv.Itoa(p) + "." + f.Ext()
}

// ParseArchivePath reads an archive page's URL path back into the feed's
// kind and slug, the page and the format.
func ParseArchivePath(p string) (kind Kind, slug string, page int, f Format, ok bool) {
	base, file, found := strings.Cut(p, "/archive/")
	if !found {
		return 0, "", 0, 0, false
	}
	num, ext, found := strings.Cut(file, ".")
	if !found || num == "" || num[0] == '0' || len(num) > 9 || strings.Trim(num, "0123456789") != "" {
		return 0, "", 0, 0, false
	}
	page, _ = strconv.Atoi(num)
	kind, slug, f, ok = ParsePath(base + "." + ext)
	return kind, slug, page, f, ok
}
