package archive_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/reader"
	"github.com/heraldnews/herald/subscription"
)

// serve mounts the reader pages with this archive, as herald serve does,
// and returns the server's base URL.
func (e *env) serve() string {
	e.t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := mailer.New(e.cfg.SMTP, mailer.WithLogger(quiet))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { m.Close() })
	subs, err := subscription.New(subscription.Options{Config: e.cfg, Store: e.store, Content: e.store, Mailer: m, Log: quiet, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	h, err := reader.New(reader.Options{Config: e.cfg, Subscriptions: subs, Pages: e.pages, Archive: e.arch, Log: quiet, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return srv.URL
}

// archive_noindex: on, every page of the digest's archive — the index
// and its second page, an edition, the feeds of editions, a conditional GET's 304 — answers
// with X-Robots-Tag: noindex, and the HTML pages (served and written by
// build --out) carry <meta name="robots" content="noindex">; off, none
// of them carries either.
func TestArchiveNoindex(t *testing.T) {
	const meta = `<meta name="robots" content="noindex">`
	for _, on := range []bool{true, false} {
		name := map[bool]string{true: "on", false: "off"}[on]
		t.Run(name, func(t *testing.T) {
			e := newEnvTweak(t, "en", func(c *config.Config) { c.Digests[0].ArchiveNoindex = on })
			e.reader("ada@example.com", "Ada Lovelace", "daily")
			e.send("daily")
			e.olderPages(20)
			base := e.serve()
			for _, p := range []struct {
				path string
				html bool
			}{
				{"/archive/daily", true},
				{"/archive/daily/page/2", true},
				{"/archive/daily/2026-11-26", true},
				{"/archive/daily.rss", false},
				{"/archive/daily.atom", false},
				{"/archive/daily.json", false},
			} {
				resp, err := http.Get(base + p.path)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body := string(b)
				if resp.StatusCode != 200 || p.html != strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("%s: %d %s\n%s", p.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
				}
				if got := resp.Header.Values("X-Robots-Tag"); on && (len(got) != 1 || got[0] != "noindex") || !on && len(got) != 0 {
					t.Errorf("%s: X-Robots-Tag %q with archive_noindex %s", p.path, got, name)
				}
				if p.html && strings.Contains(body, meta) != on {
					t.Errorf("%s: robots meta %v with archive_noindex %s:\n%s", p.path, !on, name, body)
				}
				// A crawler coming back gets a 304 that says the same.
				req, _ := http.NewRequest("GET", base+p.path, nil)
				req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
				again, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				again.Body.Close()
				if again.StatusCode != http.StatusNotModified || (again.Header.Get("X-Robots-Tag") == "noindex") != on {
					t.Errorf("%s again: %d, X-Robots-Tag %q with archive_noindex %s", p.path, again.StatusCode, again.Header.Get("X-Robots-Tag"), name)
				}
			}
			// build --out's files cannot carry a header: the pages keep
			// the meta.
			dir := t.TempDir()
			if _, err := e.arch.WriteStatic(context.Background(), dir, e.pages, []byte("body{}")); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"archive/daily/index.html", "archive/daily/2026-11-26/index.html"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), meta) != on {
					t.Errorf("build --out %s: robots meta %v with archive_noindex %s", f, !on, name)
				}
			}
		})
	}
}

// olderPages gives daily n more archive pages, one a day in October 2026
// (older than the edition send wrote), each with a sent delivery copied
// from the first, so the index has a second page.
func (e *env) olderPages(n int) {
	e.t.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		ed, _, err := e.store.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual,
			Cutoff: e.clock.Now(), Since: e.clock.Now().Add(-time.Hour)})
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.store.AssignArchivePage(ctx, ed.ID, fmt.Sprintf("2026-10-%02d", i), false); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.store.W.Exec(`INSERT INTO deliveries (edition_id, subscriber_id, subscription_id, status, sent_at)
			SELECT ?, subscriber_id, subscription_id, 'sent', sent_at FROM deliveries ORDER BY id LIMIT 1`, ed.ID); err != nil {
			e.t.Fatal(err)
		}
	}
}
