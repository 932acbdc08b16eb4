package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"gopkg.in/yaml.v3"

	"github.com/heraldnews/herald/templates"
)

// builtIn returns the messages of a shipped catalogue by key.
func builtIn(t *testing.T, lang string) map[string]*goi18n.Message {
	t.Helper()
	b, err := fs.ReadFile(templates.FS, "i18n/"+lang+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := goi18n.ParseMessageBytes(b, yaml.Unmarshal)
	if err != nil {
		t.Fatalf("%s: %v", lang, err)
	}
	out := map[string]*goi18n.Message{}
	for _, m := range ms {
		out[m.ID] = m
	}
	return out
}

// Every shipped catalogue has every key English has, with the same plural
// forms, and none English lacks; no value is empty.
func TestCatalogueComplete(t *testing.T) {
	en := builtIn(t, Base)
	if len(en) < 100 {
		t.Fatalf("English has %d keys", len(en))
	}
	for _, lang := range Shipped[1:] {
		got := builtIn(t, lang)
		for id, m := range en {
			g, ok := got[id]
			if !ok {
				t.Errorf("%s catalogue lacks %q", lang, id)
				continue
			}
			if (m.One != "") != (g.One != "") || g.Other == "" {
				t.Errorf("%s %q: plural forms differ from English's", lang, id)
			}
		}
		for id := range got {
			if _, ok := en[id]; !ok {
				t.Errorf("%s catalogue has %q, which English lacks", lang, id)
			}
		}
	}
}

// Every key the code and templates name exists, and every key exists for
// a reason: each is named somewhere (or built from a prefix, as dates are).
func TestCatalogueKeysUsed(t *testing.T) {
	en := builtIn(t, Base)
	used := map[string]bool{}
	quoted := regexp.MustCompile(`"((?:date|list|digest|mail|page|problem|error|subscribe|confirm|unsubscribe|undo|prefs|erase|archive|feed)\.[a-z0-9_.]+)"`)
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".tmpl")) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range quoted.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".html") && !strings.HasSuffix(m[1], ".tmpl") {
				used[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range used {
		if _, ok := en[id]; !ok && !strings.HasSuffix(id, ".") {
			t.Errorf("%q is named in the code but not in the English catalogue", id)
		}
	}
	for id := range en {
		if !used[id] && !strings.HasPrefix(id, "date.") && !strings.HasPrefix(id, "list.") {
			t.Errorf("%q is in the catalogue but nothing uses it", id)
		}
	}
}

func TestDatesListsPlurals(t *testing.T) {
	day := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	for _, c := range []struct{ lang, date, list, one, many string }{
		{"en", "Thursday 26 November 2026", "Ann, Bob and Cat", "1 article", "3 articles"},
		{"en-GB", "Thursday 26 November 2026", "Ann, Bob and Cat", "1 article", "3 articles"},
		{"de", "Donnerstag, 26. November 2026", "Ann, Bob und Cat", "1 Artikel", "3 Artikel"},
		{"de-AT", "Donnerstag, 26. November 2026", "Ann, Bob und Cat", "1 Artikel", "3 Artikel"},
		{"es", "jueves, 26 de noviembre de 2026", "Ann, Bob y Cat", "1 artículo", "3 artículos"},
	} {
		cat, err := Load("", c.lang)
		if err != nil {
			t.Fatal(err)
		}
		if cat.Lang() != c.lang || cat.Fallback() {
			t.Errorf("%s: lang %q fallback %v", c.lang, cat.Lang(), cat.Fallback())
		}
		if got := cat.Date(day); got != c.date {
			t.Errorf("%s: date %q, want %q", c.lang, got, c.date)
		}
		if got := cat.List([]string{"Ann", "Bob", "Cat"}); got != c.list {
			t.Errorf("%s: list %q, want %q", c.lang, got, c.list)
		}
		if got := cat.N("archive.articles", 1); got != c.one {
			t.Errorf("%s: %q, want %q", c.lang, got, c.one)
		}
		if got := cat.N("archive.articles", 3); got != c.many {
			t.Errorf("%s: %q, want %q", c.lang, got, c.many)
		}
	}
}

// A language herald has no catalogue for falls back to English (and says
// so); templates_dir adds one, or overrides single keys, and a key English
// does not have is an error.
func TestOverrideAndFallback(t *testing.T) {
	cat, err := Load("", "fr")
	if err != nil || !cat.Fallback() || cat.Lang() != "en" || cat.T("digest.read_more") != "Read more" {
		t.Fatalf("fr: %v %+v", err, cat)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "i18n"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, "i18n", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("fr.yaml", "digest.read_more: Lire la suite\n")
	write("de.yaml", "digest.read_more: Mehr lesen\n")
	if cat, err = Load(dir, "fr"); err != nil || cat.Fallback() || cat.T("digest.read_more") != "Lire la suite" || cat.T("digest.unsubscribe") != "Unsubscribe" {
		t.Fatalf("fr from templates_dir: %v %q", err, cat.T("digest.read_more"))
	}
	if cat, err = Load(dir, "de"); err != nil || cat.T("digest.read_more") != "Mehr lesen" || cat.T("digest.unsubscribe") != "Abbestellen" {
		t.Fatalf("de override: %v %q %q", err, cat.T("digest.read_more"), cat.T("digest.unsubscribe"))
	}
	write("de.yaml", "digest.read_mroe: Mehr lesen\n")
	if _, err := Load(dir, "de"); err == nil || !strings.Contains(err.Error(), "read_mroe") {
		t.Fatalf("a typo in an override: %v", err)
	}
	if _, err := Load("", "not a tag!"); err == nil {
		t.Fatal("a bad tag loaded")
	}
	// In templates, an unknown key is an error.
	f := cat.FuncMap()["t"].(func(string, ...any) (string, error))
	if _, err := f("digest.nope"); err == nil {
		t.Fatal("unknown key in a template")
	}
	if !slices.Contains(Shipped, "de") {
		t.Fatal("de not shipped")
	}
}
