package feeds

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func mtime(t *testing.T, p string) time.Time {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

func TestWriterSeedArticle(t *testing.T) {
	e := newEnv(t, seedSQL)
	dir := filepath.Join(t.TempDir(), "public")
	w, err := NewWriter(e.b, dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := w.WriteAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Written: 9}) {
		t.Errorf("summary %+v, want 9 written", sum)
	}
	files := listFiles(t, dir)
	want := []string{"feeds/all.atom", "feeds/all.json", "feeds/all.rss",
		"feeds/authors/robert-overtone.atom", "feeds/authors/robert-overtone.json", "feeds/authors/robert-overtone.rss",
		"feeds/sections/world-news.atom", "feeds/sections/world-news.json", "feeds/sections/world-news.rss"}
	if !equalStrings(files, want) {
		t.Fatalf("files %q", files)
	}
	for _, f := range files {
		if fi, _ := os.Stat(filepath.Join(dir, f)); fi.Size() == 0 {
			t.Errorf("%s is empty", f)
		}
	}
}

func TestWriterUnchangedRemovedIncremental(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	dir := t.TempDir()
	w, err := NewWriter(e.b, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := w.WriteAll(ctx); err != nil || sum != (Summary{Written: 21}) {
		t.Fatalf("first build %+v %v", sum, err)
	}
	// Age every file so a rewrite would show in its mtime.
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range listFiles(t, dir) {
		if err := os.Chtimes(filepath.Join(dir, f), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A stranger's file in the output directory is left alone.
	if err := os.WriteFile(filepath.Join(dir, "feeds", "sections", "README.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A second builder (a second `herald build`) writes nothing. This one
	// is the daemon's: its Refresher tracks changes from before WriteAll.
	w2, _ := NewWriter(e.b, dir)
	r, err := NewRefresher(ctx, e.b, RefresherOptions{Writer: w2})
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := w2.WriteAll(ctx); err != nil || sum != (Summary{Unchanged: 21}) {
		t.Fatalf("rebuild %+v %v", sum, err)
	}
	for _, f := range listFiles(t, dir) {
		if !strings.HasSuffix(f, ".txt") && !mtime(t, filepath.Join(dir, f)).Equal(old) {
			t.Errorf("%s rewritten although unchanged", f)
		}
	}

	// One article changes: Refresh rewrites only the feeds it touches.
	e.exec(t, `UPDATE articles SET title = 'Renamed' WHERE id = 103`) // world-news, robert-overtone
	res, err := r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := res.Static
	if sum.Written != 9 || sum.Removed != 0 {
		t.Errorf("refresh %+v, want 9 written (all, world-news, robert-overtone)", sum)
	}
	for _, f := range []string{"feeds/sections/technology.rss", "feeds/authors/ana-lima.atom", "feeds/sections/quiet.json"} {
		if !mtime(t, filepath.Join(dir, f)).Equal(old) {
			t.Errorf("%s rewritten by an unrelated change", f)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "feeds/sections/world-news.rss")); !strings.Contains(string(b), "Renamed") {
		t.Error("world-news.rss not rewritten")
	}

	// A deleted author and a renamed section lose their files on Refresh.
	e.exec(t, `DELETE FROM authors WHERE slug = 'ned-quiet'`)
	e.exec(t, `UPDATE sections SET slug = 'calm' WHERE slug = 'quiet'`)
	res, err = r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum = res.Static
	if sum.Removed != 6 {
		t.Errorf("refresh after deletes %+v, want 6 removed", sum)
	}
	// And a full build removes a feed deleted behind its back.
	e.exec(t, `DELETE FROM sections WHERE slug = 'calm'`)
	sum, err = NewWriterMust(t, e.b, dir).WriteAll(ctx)
	if err != nil || sum.Removed != 3 {
		t.Errorf("build after delete %+v %v", sum, err)
	}
	files := listFiles(t, dir)
	for _, f := range files {
		if strings.Contains(f, "quiet") || strings.Contains(f, "calm") || strings.Contains(f, ".tmp-") {
			t.Errorf("left behind: %s", f)
		}
	}
	if len(files) != 16 { // 5 feeds x 3 + README.txt
		t.Errorf("files %q", files)
	}
}

func NewWriterMust(t *testing.T, b *Builder, dir string) *Writer {
	t.Helper()
	w, err := NewWriter(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestWriterStaysInside: hostile slugs get no file, and a symlink planted
// in the output directory cannot lead a write outside it.
func TestWriterStaysInside(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL)
	for _, slug := range []string{"../escape", "..", "a/../../b", "/abs", ".hidden", "UPPER", "a\\b", "x\x00y"} {
		e.exec(t, `INSERT INTO sections (slug, name) VALUES (?, 'bad')`, slug)
		e.exec(t, `INSERT INTO authors (slug, name) VALUES (?, 'bad')`, slug)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if _, err := NewWriterMust(t, e.b, dir).WriteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := listFiles(t, parent); len(got) != 9 {
		t.Errorf("files %q, want the 9 valid feeds only", got)
	}
	for _, f := range listFiles(t, parent) {
		if !strings.HasPrefix(f, "out/feeds/") {
			t.Errorf("written outside: %s", f)
		}
	}

	outside := t.TempDir()
	dir2 := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(filepath.Join(dir2, "feeds"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir2, "feeds", "sections")); err != nil {
		t.Skip("no symlinks:", err)
	}
	_, err := NewWriterMust(t, e.b, dir2).WriteAll(ctx)
	if err == nil {
		t.Error("a write through a symlink leading outside succeeded")
	}
	if got := listFiles(t, outside); len(got) != 0 {
		t.Errorf("written outside through a symlink: %q", got)
	}
}
