package archive

import (
	"context"
	"strconv"

	"github.com/heraldnews/herald/internal/model"
)

// EditionLink is one edition in the index.
type EditionLink struct {
	Path, Date string
}

// Index is one page of a digest's list of editions (template
// "archive-index").
type Index struct {
	Page
	Editions           []EditionLink
	Number, Pages      int
	NewerURL, OlderURL string // paths; "" at either end
}

// IndexPath is the path of index page n (1: the archive's own).
func IndexPath(digest string, n int) string {
	if n <= 1 {
		return Path(digest, "")
	}
	return Path(digest, "page/"+strconv.Itoa(n))
}

// Index returns index page n (from 1) of digest's archive: ErrNotFound
// past the last (an empty archive has its first page).
func (s *Service) Index(ctx context.Context, digest string, n int) (Index, error) {
	d, err := s.digest(digest)
	if err != nil {
		return Index{}, err
	}
	total, err := s.st.ArchivePageCount(ctx, d.Name)
	if err != nil {
		return Index{}, err
	}
	pages := max(1, (total+PageSize-1)/PageSize)
	if n < 1 || n > pages {
		return Index{}, ErrNotFound
	}
	ps, err := s.st.ArchivePages(ctx, d.Name, (n-1)*PageSize, PageSize)
	if err != nil {
		return Index{}, err
	}
	ix := Index{Page: s.page(d), Number: n, Pages: pages}
	ix.Heading = s.cat.T("archive.heading", ix.Page)
	for _, p := range ps {
		ix.Editions = append(ix.Editions, EditionLink{Path: Path(d.Name, p.Slug()), Date: s.date(p.Day)})
	}
	if n > 1 {
		ix.NewerURL = IndexPath(d.Name, n-1)
	}
	if n < pages {
		ix.OlderURL = IndexPath(d.Name, n+1)
	}
	return ix, nil
}

// Edition is one edition's page (template "archive-edition").
type Edition struct {
	Page
	Slug, Date string
	Sections   []Section
	Count      int
	Withdrawn  bool // every article it carried has since been withdrawn
}

// Edition returns the page of digest's edition slug.
func (s *Service) Edition(ctx context.Context, digest, slug string) (Edition, error) {
	d, err := s.digest(digest)
	if err != nil {
		return Edition{}, err
	}
	day, seq, ok := model.ParseArchiveSlug(slug)
	if !ok {
		return Edition{}, ErrNotFound
	}
	p, err := s.st.ArchivePage(ctx, d.Name, day, seq)
	if model.ErrorCode(err) == model.ENOTFOUND {
		return Edition{}, ErrNotFound
	}
	if err != nil {
		return Edition{}, err
	}
	return s.edition(ctx, p)
}

func (s *Service) edition(ctx context.Context, p model.ArchivePage) (Edition, error) {
	d, err := s.digest(p.Digest)
	if err != nil {
		return Edition{}, err
	}
	e := Edition{Page: s.page(d), Slug: p.Slug(), Date: s.date(p.Day)}
	e.Heading = e.Title
	if e.Sections, e.Count, err = s.articles(ctx, p); err != nil {
		return Edition{}, err
	}
	e.Withdrawn = e.Count == 0
	return e, nil
}
