package main

import (
	"io"
	"mime/quotedprintable"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The demo as a new user tries it: its digest shows pictures and a "view
// in browser" link that works; /archive/daily lists its edition; the feeds
// of editions answer with validators and 304s; build --out writes the
// archive as files.
func TestDemoArchive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	base, out, stop := runDemo(t, dir)
	defer stop()
	if !strings.Contains(out.String(), base+"/archive/daily") {
		t.Errorf("the demo does not print the archive:\n%s", out)
	}
	get := func(path string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, index := get("/archive/daily")
	page := regexp.MustCompile(`href="(/archive/daily/\d{4}-\d\d-\d\d)"`).FindStringSubmatch(index)
	if resp.StatusCode != 200 || page == nil || resp.Header.Get("Content-Language") != "en" {
		t.Fatalf("archive index: %d\n%s", resp.StatusCode, index)
	}
	// Every mail's view-in-browser link is that page.
	mails, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
	for _, m := range mails {
		raw, _ := os.ReadFile(m)
		body, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(raw))))
		if !strings.Contains(string(body), `href="`+base+page[1]+`"`) || !strings.Contains(string(body), `<img class="image" src="`+base+"/demo/images/") {
			t.Errorf("%s: no view-in-browser link to %s or no picture", filepath.Base(m), page[1])
		}
	}
	resp, edition := get(page[1])
	if resp.StatusCode != 200 || !strings.Contains(edition, "Putin accepts") || !strings.Contains(edition, `<img src="`+base+"/demo/images/") ||
		strings.Contains(resp.Header.Get("Content-Security-Policy"), "unsafe-inline") || strings.Contains(edition, "ada@example.com") {
		t.Fatalf("edition page: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), edition)
	}
	img := regexp.MustCompile(`<img src="` + regexp.QuoteMeta(base) + `(/demo/images/[^"]+)"`).FindStringSubmatch(edition)
	if resp, _ := get(img[1]); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("demo picture: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, feed := get("/archive/daily.atom")
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" || etag == "" ||
		!strings.Contains(feed, base+page[1]) {
		t.Fatalf("atom: %d %v\n%s", resp.StatusCode, resp.Header, feed)
	}
	if resp, _ := get("/archive/daily.atom", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d", resp.StatusCode)
	}
	for _, p := range []string{"/archive/nope", "/archive/daily/page/1", "/archive/daily/page/2", "/archive/daily/2001-01-01", "/archive/daily/x"} {
		if resp, _ := get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	// build --out: the archive as static files.
	public := t.TempDir()
	code, stdout, errs := runHeraldEnv(t, map[string]string{"HERALD_CONFIG": filepath.Join(dir, "herald.yaml")}, "build", "--out", public)
	if code != 0 || !strings.Contains(stdout, "archive:") {
		t.Fatalf("build: %d %q %q", code, stdout, errs)
	}
	for _, f := range []string{"archive/daily/index.html", strings.TrimPrefix(page[1], "/") + "/index.html", "archive/daily.rss",
		"archive/daily.atom", "archive/daily.json", "assets/reader.css"} {
		if _, err := os.Stat(filepath.Join(public, f)); err != nil {
			t.Error(err)
		}
	}
}
