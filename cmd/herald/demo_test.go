package main

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/model"
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

// `curl -I` on a link from a demo digest changes nothing (issue 11, item
// 1): every unsubscribe and preferences link of every demo mail, and its
// List-Unsubscribe, fetched with HEAD and GET, leaves every demo reader
// subscribed.
func TestDemoLinksHeadChangeNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	base, _, stop := runDemo(t, dir)
	defer stop()
	mails, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
	var links []string
	for _, p := range mails {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if lu := msg.Header.Get("List-Unsubscribe"); lu != "" {
			links = append(links, linkRE.FindString(lu))
		}
		text, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		links = append(links, linkRE.FindAllString(string(text), -1)...)
	}
	if len(links) < 2*len(demoSubscribers()) {
		t.Fatalf("only %d links in %d demo mails", len(links), len(mails))
	}
	for _, u := range links {
		if !strings.HasPrefix(u, base+"/") {
			t.Fatalf("link %s is not on the demo's server %s", u, base)
		}
		for _, method := range []string{"HEAD", "GET"} {
			req, _ := http.NewRequest(method, u, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s %s: %d", method, u, resp.StatusCode)
			}
		}
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "herald.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, addr := range demoSubscribers() {
		sub, _, _ := st.FindSubscriber(context.Background(), model.Address(addr))
		subs, _ := st.SubscriptionsOf(context.Background(), sub.ID)
		if sub.Status != model.SubscriberActive || len(subs) != 1 || subs[0].Status != model.SubscriptionActive {
			t.Errorf("%s after HEAD and GET of its links: %s %+v", addr, sub.Status, subs)
		}
	}
	t.Logf("%d links fetched with HEAD and GET; every demo reader still subscribed", len(links))
}
