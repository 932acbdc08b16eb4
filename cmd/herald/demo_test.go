package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/store"
)

// mustStore opens a database for a test to look into.
func mustStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// runDemo starts herald demo in-process and returns its base URL, its output
// and a stop function returning the exit status.
func runDemo(t *testing.T, dir string, extra ...string) (string, *bytes.Buffer, func() int) {
	t.Helper()
	return runDemoEnv(t, dir, nil, extra...)
}

// runDemoEnv is runDemo with environment variables (config overrides).
func runDemoEnv(t *testing.T, dir string, env map[string]string, extra ...string) (string, *bytes.Buffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := NewMain()
	out := &bytes.Buffer{}
	m.Stdout, m.Stderr = out, io.Discard
	m.Getenv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	ready := make(chan net.Addr, 1)
	m.OnListen = func(a net.Addr) { ready <- a }
	done := make(chan int, 1)
	args := append([]string{"demo", "--dir", dir, "--listen", "127.0.0.1:0"}, extra...)
	go func() { done <- m.Run(ctx, args) }()
	var base string
	select {
	case a := <-ready:
		base = "http://" + a.String()
	case code := <-done:
		t.Fatalf("demo exited %d: %s", code, out)
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not start")
	}
	return base, out, func() int { cancel(); return <-done }
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	base, out, stop := runDemo(t, dir)
	for _, path := range []string{"/feeds/all.rss", "/feeds/sections/world-news.atom", "/feeds/authors/robert-overtone.json", "/subscribe"} {
		resp, err := http.Get(base + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	resp, _ := http.Get(base + "/feeds/all.json")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(b), `"id":`); n < 50 {
		t.Errorf("all.json has %d items, want 50 (feeds.items)", n)
	}
	if !strings.Contains(string(b), "Putin accepts") {
		t.Error("the seed article is not in the feed")
	}
	mails, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
	if len(mails) != len(demoSubscribers()) {
		t.Errorf("%d .eml files after the demo edition, want %d", len(mails), len(demoSubscribers()))
	}
	if !strings.Contains(out.String(), base+"/feeds/all.rss") || !strings.Contains(out.String(), filepath.Join(dir, "mail")) {
		t.Errorf("the demo does not say what to open:\n%s", out)
	}
	// The demo's editor: a password printed once, that logs in.
	pw := regexp.MustCompile(`log in as editor@example.com with password (\S+) \(shown only now\)`).FindStringSubmatch(out.String())
	if pw == nil || !strings.Contains(out.String(), base+"/admin/") {
		t.Fatalf("the demo prints no editor login:\n%s", out)
	}
	if _, err := editor.New(mustStore(t, filepath.Join(dir, "herald.db")), nil, nil).Authenticate(context.Background(), demoEditorEmail, pw[1], "test"); err != nil {
		t.Errorf("the printed password does not log in: %v", err)
	}
	if code := stop(); code != 0 {
		t.Errorf("demo exited %d", code)
	}

	// A second run reuses the database: no new articles, nothing new to send.
	_, out2, stop2 := runDemo(t, dir)
	if code := stop2(); code != 0 {
		t.Errorf("second demo exited %d", code)
	}
	if strings.Contains(out2.String(), "with password") {
		t.Errorf("second run printed a password again:\n%s", out2)
	}
	if !strings.Contains(out2.String(), "this run sent 0") {
		t.Errorf("second run sent mail again:\n%s", out2)
	}
	if mails2, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml")); len(mails2) != len(mails) {
		t.Errorf("second run wrote %d more mails", len(mails2)-len(mails))
	}

	// --reset refuses a folder the demo did not make.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "precious.txt"), []byte("keep"), 0o600)
	code, _, errs := runHeraldEnv(t, nil, "demo", "--dir", other, "--reset", "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "refusing") {
		t.Errorf("reset of a foreign folder: %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(other, "precious.txt")); err != nil {
		t.Error("reset deleted a folder it did not make")
	}
}

func TestDemoBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, errs := runHeraldEnv(t, nil, "demo", "--dir", t.TempDir(), "--listen", ln.Addr().String())
	if code != 1 || !strings.Contains(errs, "--listen") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("busy port: exit %d, stderr %q", code, errs)
	}
}
