package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/heraldnews/herald/feeds"
)

// Renderer renders a reader page's template into bytes (web.Pages.Bytes).
type Renderer interface {
	Bytes(name string, data any) ([]byte, error)
}

// Summary says what WriteStatic did.
type Summary struct {
	Written, Unchanged int
}

// WriteStatic writes the archive of every archived digest that has sent an
// edition under dir at its URL
// paths: archive/{digest}/index.html (and page/N/index.html),
// archive/{digest}/{edition}/index.html, archive/{digest}.{rss,atom,json},
// and the pages' stylesheet as assets/reader.css (none of it before a
// digest's first edition). A file is replaced
// atomically, and only when its bytes change; nothing is written outside
// dir.
func (s *Service) WriteStatic(ctx context.Context, dir string, r Renderer, css []byte) (Summary, error) {
	var sum Summary
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sum, fmt.Errorf("archive: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return sum, fmt.Errorf("archive: %w", err)
	}
	defer root.Close()
	write := func(name string, b []byte) error {
		changed, err := writeFile(root, name, b)
		if err != nil {
			return fmt.Errorf("archive: write %s: %w", name, err)
		}
		if changed {
			sum.Written++
		} else {
			sum.Unchanged++
		}
		return nil
	}
	page := func(name, tmpl string, data any) error {
		b, err := r.Bytes(tmpl, data)
		if err != nil {
			return err
		}
		return write(name, b)
	}
	archived := false
	for _, d := range s.cfg.Digests {
		if !d.Archived() {
			continue
		}
		if n, err := s.st.ArchivePageCount(ctx, d.Name); err != nil {
			return sum, err
		} else if n == 0 {
			continue // nothing sent yet: no files
		}
		archived = true
		for n := 1; ; n++ {
			ix, err := s.Index(ctx, d.Name, n)
			if err != nil {
				return sum, err
			}
			if err := page(IndexPath(d.Name, n)[1:]+"/index.html", "archive-index", ix); err != nil {
				return sum, err
			}
			for _, e := range ix.Editions {
				ed, err := s.Edition(ctx, d.Name, path.Base(e.Path))
				if err != nil {
					return sum, err
				}
				if err := page(e.Path[1:]+"/index.html", "archive-edition", ed); err != nil {
					return sum, err
				}
			}
			if n >= ix.Pages {
				break
			}
		}
		set, _, err := s.Feed(ctx, d.Name)
		if err != nil {
			return sum, err
		}
		for _, f := range feeds.Formats {
			if err := write(feedID(d.Name).Path(f)[1:], set[f]); err != nil {
				return sum, err
			}
		}
	}
	if archived {
		if err := write("assets/reader.css", css); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// writeFile writes b to name under root through a temporary file and a
// rename, unless name already holds b; it reports whether it wrote.
func writeFile(root *os.Root, name string, b []byte) (bool, error) {
	if old, err := root.ReadFile(name); err == nil && bytes.Equal(old, b) {
		return false, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return false, err
	}
	tmp := name + ".tmp"
	if err := root.WriteFile(tmp, b, 0o644); err != nil {
		return false, err
	}
	if err := root.Rename(tmp, name); err != nil {
		_ = root.Remove(tmp)
		return false, err
	}
	return true, nil
}

// ChangeStore says when content last changed (internal/store), so
// RunStatic rewrites the files only after a change.
type ChangeStore interface {
	LastChangeID(ctx context.Context) (int64, error)
}

// fingerprint is what the archive's files depend on beyond templates:
// each digest's pages (their number, the newest and when it last grew)
// and the content's last change.
func (s *Service) fingerprint(ctx context.Context, changes ChangeStore) (string, error) {
	last, err := changes.LastChangeID(ctx)
	if err != nil {
		return "", err
	}
	fp := fmt.Sprint(last)
	for _, d := range s.cfg.Digests {
		if !d.Archived() {
			continue
		}
		n, err := s.st.ArchivePageCount(ctx, d.Name)
		if err != nil {
			return "", err
		}
		ps, err := s.st.ArchivePages(ctx, d.Name, 0, 1)
		if err != nil {
			return "", err
		}
		fp += fmt.Sprint("|", d.Name, n)
		if len(ps) > 0 {
			fp += fmt.Sprint(ps[0].Slug(), ps[0].Updated.Unix(), len(ps[0].Editions))
		}
	}
	return fp, nil
}

// RunStatic keeps the archive's files under dir current until ctx ends
// (herald serve with feeds.output_dir): every interval it checks whether
// an edition was sent or the content changed, and if so rewrites what
// changed (a retracted article leaves the files at the next check).
func (s *Service) RunStatic(ctx context.Context, dir string, r Renderer, css []byte, changes ChangeStore, interval time.Duration) {
	last := ""
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if fp, err := s.fingerprint(ctx, changes); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("archive files not checked", "err", err)
			}
		} else if fp != last {
			if sum, err := s.WriteStatic(ctx, dir, r, css); err != nil {
				if ctx.Err() == nil {
					s.log.Warn("archive files not written", "dir", dir, "err", err)
				}
			} else {
				last = fp
				if sum.Written > 0 {
					s.log.Info("static archive written", "dir", dir, "written", sum.Written, "unchanged", sum.Unchanged)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
