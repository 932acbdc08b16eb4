package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runHeraldEnv runs one command line through Main with the environment env
// and returns its exit status, stdout and stderr.
func runHeraldEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	m := NewMain()
	var out, errb bytes.Buffer
	m.Stdout, m.Stderr = &out, &errb
	m.Getenv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code := m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// The README's first steps, as a new user runs them: migrate, load the seed
// article, list it, build the feeds twice.
func TestMigrateArticlesBuild(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HERALD_DATABASE": filepath.Join(dir, "herald.db")}
	if code, out, errs := runHeraldEnv(t, env, "migrate"); code != 0 || !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate = %d %q %q", code, out, errs)
	}
	if code, _, _ := runHeraldEnv(t, env, "migrate"); code != 0 {
		t.Fatal("second migrate failed")
	}
	seedStore(t, env["HERALD_DATABASE"])
	code, out, errs := runHeraldEnv(t, env, "articles", "list")
	if code != 0 || !strings.Contains(out, "Putin accepts") || !strings.Contains(out, "Robert Overtone") || !strings.Contains(out, "world-news") {
		t.Fatalf("articles list = %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := runHeraldEnv(t, env, "articles", "list", "--section", "nope"); code != 1 || !strings.Contains(errs, `no section with slug "nope"`) {
		t.Errorf("unknown section: %d %q", code, errs)
	}

	pub := filepath.Join(dir, "public")
	code, out, errs = runHeraldEnv(t, env, "build", "--out", pub)
	if code != 0 || !strings.Contains(out, "9 written, 0 unchanged, 0 removed") {
		t.Fatalf("build = %d %q %q", code, out, errs)
	}
	var files []string
	filepath.Walk(pub, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if fi.Size() == 0 {
				t.Errorf("%s is empty", p)
			}
			rel, _ := filepath.Rel(pub, p)
			files = append(files, rel)
		}
		return nil
	})
	want := "feeds/all.atom feeds/all.json feeds/all.rss feeds/authors/robert-overtone.atom feeds/authors/robert-overtone.json feeds/authors/robert-overtone.rss feeds/sections/world-news.atom feeds/sections/world-news.json feeds/sections/world-news.rss"
	if got := strings.Join(files, " "); got != want {
		t.Errorf("files:\n got %s\nwant %s", got, want)
	}
	fi, _ := os.Stat(filepath.Join(pub, "feeds/all.rss"))
	time.Sleep(20 * time.Millisecond)
	code, out, _ = runHeraldEnv(t, env, "build", "--out", pub)
	if code != 0 || !strings.Contains(out, "0 written, 9 unchanged, 0 removed") {
		t.Errorf("second build = %d %q", code, out)
	}
	if fi2, _ := os.Stat(filepath.Join(pub, "feeds/all.rss")); !fi2.ModTime().Equal(fi.ModTime()) {
		t.Error("an unchanged feed was rewritten")
	}
	if code, _, errs := runHeraldEnv(t, env, "build"); code != 1 || !strings.Contains(errs, "--out") {
		t.Errorf("build without --out or feeds.output_dir = %d %q", code, errs)
	}
}

func TestBadConfigIsOneLineNamingTheKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "herald.yaml")
	os.WriteFile(p, []byte("smtp:\n  tls: maybe\n"), 0o600)
	code, _, errs := runHeraldEnv(t, nil, "--config", p, "migrate")
	if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "smtp.tls") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runHeraldEnv(t, map[string]string{"HERALD_FEEDS_ITEMS": "lots"}, "migrate")
	if code != 1 || !strings.Contains(errs, "feeds.items") || !strings.Contains(errs, "HERALD_FEEDS_ITEMS") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
