package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSubscribersImportExport(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, nil, 1)
	seed(t, filepath.Join(dir, "herald.db"), 0)
	csv := "email,name,digest,sections,authors,status\n" +
		"Ann@Example.COM,Ann,daily,world,ann,\n" +
		"not-an-address,,,,,\n" +
		"bob@example.com,Bob,weekly,,,\n" +
		"cat@example.com,,,nosuch,,\n" +
		"dan@example.com,,,,,maybe\n" +
		"fred@example.com,Fr\"ed,,,,\n" +
		"eve@example.com,Eve,,,,unsubscribed\n"
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runHerald(t, cfg, "subscribers", "import", in)
	if code != 1 || !strings.Contains(out, "imported 2 row(s), 5 bad") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	for _, want := range []string{
		`line 3: invalid email address "not-an-address"`,
		`line 4: unknown digest "weekly"`,
		`line 5: unknown section "nosuch"`,
		`line 6: unknown status "maybe"`,
		`line 7:`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	// Importing again is an upsert: still two subscribers.
	runHerald(t, cfg, "subscribers", "import", in)
	code, out, _ = runHerald(t, cfg, "subscribers", "export")
	want := "email,name,digest,sections,authors,status,timezone\n" +
		"Ann@example.com,Ann,daily,world,ann,active,\n" +
		"eve@example.com,Eve,daily,,,unsubscribed,\n"
	if code != 0 || out != want {
		t.Fatalf("export: %d\n%s\nwant\n%s", code, out, want)
	}
	if code, out, _ := runHerald(t, cfg, "subscribers", "add", "bad@", "--confirmed"); code != 1 {
		t.Fatalf("bad address accepted: %s", out)
	}
	if code, out, _ := runHerald(t, cfg, "subscribers", "add", "new@example.com"); code != 0 || !strings.Contains(out, "confirmation email sent") {
		t.Fatalf("add: %d %s", code, out)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml")); len(files) != 1 {
		t.Fatalf("want one confirmation .eml, got %v", files)
	}
	if code, out, _ := runHerald(t, cfg, "subscribers", "remove", "ANN@example.com"); code != 0 {
		t.Fatalf("remove: %s", out)
	}
	if _, out, _ := runHerald(t, cfg, "subscribers", "list"); !strings.Contains(out, "erased") {
		t.Fatalf("list: %s", out)
	}
}
