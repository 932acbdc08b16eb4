package proving

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/server"
	"github.com/heraldnews/herald/internal/server/api"
)

// TestAdminTokenTiming is issue 7, item 8's timing check: a wrong admin
// token sharing all but its last byte with the real one must take as long
// to refuse as one sharing nothing. Medians of interleaved samples, three
// rounds; it fails only if every round shows a difference over 15%.
func TestAdminTokenTiming(t *testing.T) {
	const (
		admin   = "k3y-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP"
		samples = 3000
	)
	if testing.Short() {
		t.Skip("a timing measurement: run without -short")
	}
	h := server.New(server.Options{Routes: []server.Registrar{api.New(api.Options{AdminToken: admin, Log: quietLog()})}, Log: quietLog()}).Handler()
	prefix := admin[:len(admin)-1] + "!"            // all but the last byte
	none := "!" + strings.Repeat("~", len(admin)-1) // nothing in common, same length
	measure := func(tok string) time.Duration {
		req := httptest.NewRequest("GET", "/api/editions", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		t0 := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(t0)
		if rec.Code != http.StatusUnauthorized && rec.Code != http.StatusForbidden {
			t.Fatalf("wrong token answered %d", rec.Code)
		}
		return d
	}
	var ratios []float64
	leaky := 0
	for round := range 3 {
		var a, b []time.Duration
		for i := range samples {
			if i%2 == 0 {
				a = append(a, measure(prefix))
				b = append(b, measure(none))
			} else {
				b = append(b, measure(none))
				a = append(a, measure(prefix))
			}
		}
		ma, mb := percentile(a, 50), percentile(b, 50)
		r := float64(ma) / float64(mb)
		ratios = append(ratios, r)
		t.Logf("round %d: median refuse time, common prefix %s, no common prefix %s (ratio %.3f)", round, ma, mb, r)
		if r > 1.15 || r < 1/1.15 {
			leaky++
		}
	}
	if leaky == 3 {
		t.Errorf("refusing a token with a long common prefix takes a different time from one with none in every round: ratios %.3f", ratios)
	}
	figure(t, "median time to refuse a wrong admin token, %d-byte common prefix vs none (%d interleaved samples each, 3 rounds): ratios %.3f, %.3f, %.3f (1.0 = no difference; the check hashes both tokens with SHA-256 and compares the digests in constant time)",
		len(admin)-1, samples, ratios[0], ratios[1], ratios[2])
}

// TestStaticWriterHostileSlugs is issue 7, item 8's static-writer check:
// sections and authors written by the CMS with slugs that try to leave
// the output directory, NUL bytes and very long names.
func TestStaticWriterHostileSlugs(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	out := filepath.Join(base, "a", "b", "c", "out") // a ../ escape up to 4 levels lands inside base
	st := openStore(t, filepath.Join(base, "herald.db"))
	defer st.Close()
	hostile := []string{"../../etc/passwd", "..", ".", "a/../../b", "../../../../escaped", "x\x00y", "%2e%2e",
		"%2e%2e%2f%2e%2e%2fx", "/abs", "UPPER", "sp ace", "back\\slash", "..\\..\\win", strings.Repeat("a", 300), "ok-slug"}
	var script strings.Builder
	for i, s := range hostile {
		fmt.Fprintf(&script, "INSERT INTO sections (id, slug, name) VALUES (%d, %s, 'S%d');\n", i+1, sqlQuote(s), i)
		fmt.Fprintf(&script, "INSERT INTO authors (id, slug, name) VALUES (%d, %s, 'A%d');\n", i+1, sqlQuote(s), i)
		fmt.Fprintf(&script, "INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (%d, 'g%d', '/a/%d', 'T%d', %d, '2026-01-01T00:00:00Z');\n", i+1, i, i, i, i+1)
		fmt.Fprintf(&script, "INSERT INTO article_authors (article_id, author_id) VALUES (%d, %d);\n", i+1, i+1)
	}
	if err := st.ExecScript(ctx, script.String()); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	w, err := feeds.NewWriter(feeds.NewBuilder(st, feeds.ConfigOptions(cfg)), out)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := w.WriteAll(ctx)
	if err != nil {
		t.Fatalf("WriteAll with hostile slugs: %v", err)
	}
	valid := regexp.MustCompile(`^feeds/(all|(sections|authors)/[a-z0-9][a-z0-9._-]*)\.(rss|atom|json)$`)
	files := 0
	err = filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), "herald.db") {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		if strings.HasPrefix(rel, "..") {
			t.Errorf("a file outside the output directory: %s", p)
			return nil
		}
		if !valid.MatchString(filepath.ToSlash(rel)) {
			t.Errorf("an unexpected file name: %q", rel)
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"feeds/all.rss", "feeds/sections/ok-slug.atom", "feeds/authors/ok-slug.json"} {
		if _, err := os.Stat(filepath.Join(out, want)); err != nil {
			t.Errorf("%s: %v", want, err)
		}
	}
	figure(t, "%d hostile section and author slugs (traversal, NUL, encoded dots, 300 characters...): %d files written, all inside the output directory with valid names (%d written, %d unchanged)",
		len(hostile)-1, files, sum.Written, sum.Unchanged)
}

func sqlQuote(s string) string {
	if strings.Contains(s, "\x00") {
		a, b, _ := strings.Cut(s, "\x00")
		return "'" + a + "' || char(0) || '" + b + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
