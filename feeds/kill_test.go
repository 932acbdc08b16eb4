package feeds

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

// slowSource slows every article read, so a build takes long enough to be
// killed in the middle.
type slowSource struct{ *store.Store }

func (s slowSource) ArticlesByID(ctx context.Context, ids []int64) ([]model.Article, error) {
	time.Sleep(3 * time.Millisecond)
	return s.Store.ArticlesByID(ctx, ids)
}

// TestKillChild is the child process of TestStaticSIGKILL: it writes every
// feed of HERALD_KILL_DB into HERALD_KILL_DIR, slowly, until killed.
func TestKillChild(t *testing.T) {
	db, dir := os.Getenv("HERALD_KILL_DB"), os.Getenv("HERALD_KILL_DIR")
	if db == "" || dir == "" {
		t.Skip("the child of TestStaticSIGKILL")
	}
	c := newClock()
	st, err := store.Open(context.Background(), db, store.Options{Now: c.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	opt := testOptions(c)
	opt.Archives, opt.ArchivePageSize = true, 20
	w := NewWriterMust(t, NewBuilder(slowSource{st}, opt), dir)
	w.batch = 64 << 10 // many batches: some committed, some pending when the kill comes
	w.Workers = 2
	_, _ = w.WriteAll(context.Background())
	time.Sleep(time.Minute) // killed before this ends
}

// TestStaticSIGKILL kills a writing process (SIGKILL, no chance to clean
// up) in the middle of a build: every feed file in the directory is then
// complete — exactly what a full build writes — and the temporary files
// left behind are swept by the next build.
func TestStaticSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("a child process and two builds")
	}
	ctx := context.Background()
	e := newEnv(t)
	archiveSite(t, e, 600)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v")
	cmd.Env = append(os.Environ(), "HERALD_KILL_DB="+e.st.Path(), "HERALD_KILL_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once some files are in place and others are still temporary.
	deadline := time.Now().Add(60 * time.Second)
	var files, temps int
	for time.Now().Before(deadline) {
		files, temps = countFiles(t, dir)
		if files >= 20 && temps > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	files, temps = countFiles(t, dir)
	t.Logf("killed with %d files in place and %d temporary", files, temps)
	if files == 0 {
		t.Fatal("the child wrote nothing before it was killed")
	}

	// What a full build writes, in a directory of its own.
	opt := archiveOptions(e, 20)
	b := NewBuilder(e.st, opt)
	full := t.TempDir()
	if _, err := NewWriterMust(t, b, full).WriteAll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range listFiles(t, dir) {
		if strings.Contains(f, tmpInfix) {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(full, f))
		if err != nil {
			t.Fatalf("%s: not a file a build writes: %v", f, err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: %d bytes, not the complete %d", f, len(got), len(want))
		}
		if strings.HasSuffix(f, ".json") && !json.Valid(got) {
			t.Errorf("%s: not JSON", f)
		} else if !strings.HasSuffix(f, ".json") && strictXML(got, new(struct{})) != nil {
			t.Errorf("%s: not well-formed XML", f)
		}
	}
	// The next build sweeps the dead writer's temporary files.
	if _, err := NewWriterMust(t, b, dir).WriteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, temps := countFiles(t, dir); temps != 0 {
		t.Errorf("%d temporary files left after the next build", temps)
	}
	if a, b := listFiles(t, dir), listFiles(t, full); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("after the next build the directory holds %d files, a full build %d", len(a), len(b))
	}
}

func countFiles(t *testing.T, dir string) (files, temps int) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if strings.Contains(d.Name(), tmpInfix) {
			temps++
		} else {
			files++
		}
		return nil
	})
	return files, temps
}
