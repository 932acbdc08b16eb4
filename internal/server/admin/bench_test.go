package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

// BenchmarkPages measures every admin page's server time (the handler,
// without the network) on generated databases of 1,000 and (with
// HERALD_BENCH_SIZES=1000,1000000, as bench/admin.sh sets) a million
// subscribers, each with a finished edition that reached all of them.
// bench/admin.sh prints each page's ratio; the bar is 2×.
func BenchmarkPages(b *testing.B) {
	sizes := []int{1000}
	if v := os.Getenv("HERALD_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 100 {
				b.Fatalf("HERALD_BENCH_SIZES: %q", v)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		db := benchDB(b, n)
		e := newEnv(b, envOptions{dbPath: db, yaml: "admin: { session_idle: 12h }"})
		cookie := e.browser().mustLogin(adminEmail).cookie()
		mid := strconv.Itoa(n / 2)
		for _, p := range []struct{ name, path string }{
			{"dashboard", "/admin/"},
			{"send", "/admin/send"},
			{"preview", "/admin/preview?digest=daily&mode=subscriber&email=reader" + mid + "%40example.com"},
			{"preview-search", "/admin/preview?digest=daily&mode=subscriber&email=reader" + mid},
			{"editions", "/admin/editions"},
			{"edition", "/admin/editions/1"},
			{"edition-sent", "/admin/editions/1?status=sent&after=" + mid},
			{"edition-failed", "/admin/editions/1?status=failed"},
			{"subscribers", "/admin/subscribers"},
			{"subscribers-deep", "/admin/subscribers?before=" + mid},
			{"subscribers-search", "/admin/subscribers?q=reader" + mid},
			{"subscribers-status", "/admin/subscribers?status=pending"},
			{"subscribers-digest", "/admin/subscribers?digest=daily&before=" + mid},
			{"subscriber", "/admin/subscribers/" + mid},
			{"audit", "/admin/audit"},
		} {
			b.Run(fmt.Sprintf("page=%s/subscribers=%d", p.name, n), func(b *testing.B) {
				req := httptest.NewRequest("GET", p.path, nil)
				req.AddCookie(&http.Cookie{Name: "herald_admin", Value: cookie})
				e.mux.ServeHTTP(httptest.NewRecorder(), req) // warm: caches, prepared statements
				for b.Loop() {
					rec := httptest.NewRecorder()
					e.mux.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: %d %s", p.path, rec.Code, rec.Header().Get("Location"))
					}
				}
			})
		}
	}
}

// benchDB returns a generated database of n subscribers (reader1@ ...),
// kept between runs in HERALD_BENCH_DIR (default: the temp dir): 1 in 20
// pending, 1 in 97 bounced; each subscribed to daily; edition 1 reached
// every one of them (finished a day ago; 1 in 500 failed), and 40 small
// editions and 2,000 audit entries follow.
func benchDB(b *testing.B, n int) string {
	b.Helper()
	dir := os.Getenv("HERALD_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "herald-admin-bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("admin-%d-v1.db", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	ctx := context.Background()
	tmp := path + ".tmp"
	os.Remove(tmp)
	st, err := store.Open(ctx, tmp, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	day := time.Now().Add(-24 * time.Hour).Unix()
	err = st.WriteContent(ctx, func(w *store.ContentWriter) error {
		sec, err := w.Section(model.Section{Slug: "world", Name: "World"})
		if err != nil {
			return err
		}
		au, err := w.Author(model.Author{Slug: "ann", Name: "Ann"})
		if err != nil {
			return err
		}
		for i := range 30 {
			if _, err := w.Article(model.Article{GUID: fmt.Sprintf("a%d", i), URL: fmt.Sprintf("/a%d", i), Title: fmt.Sprintf("Story %d", i),
				Section: model.Section{ID: sec}, Authors: []model.Author{{ID: au}}, PublishedAt: time.Now().Add(-time.Duration(i+1) * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		INSERT INTO subscribers (id, email, name, status, created_at, confirmed_at, updated_at)
		SELECT i, 'reader' || i || '@example.com', 'Reader ' || i,
		  CASE WHEN i %% 20 = 0 THEN 'pending' WHEN i %% 97 = 0 THEN 'bounced' ELSE 'active' END, %d, %d, %d FROM n`, n, day, day, day),
		fmt.Sprintf(`INSERT INTO subscriptions (id, subscriber_id, digest, status, created_at, updated_at)
		SELECT id, id, 'daily', 'active', %d, %d FROM subscribers`, day, day),
		fmt.Sprintf(`INSERT INTO editions (id, digest, kind, cutoff, since, status, created_at, finished_at)
		VALUES (1, 'daily', 'manual', %d, %d, 'done', %d, %d)`, day, day-86400, day, day+600),
		fmt.Sprintf(`INSERT INTO deliveries (edition_id, subscriber_id, subscription_id, status, attempts, last_reply, message_id, sent_at, article_ids)
		SELECT 1, id, id, CASE WHEN id %% 500 = 0 THEN 'failed' ELSE 'sent' END, 1,
		  CASE WHEN id %% 500 = 0 THEN '550 5.1.1 no such user' ELSE '250 2.0.0 Ok: queued' END,
		  '<1.' || id || '@news.example.com>', %d, '[1,2,3]' FROM subscribers WHERE status <> 'pending'`, day+60),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 41)
		INSERT INTO editions (id, digest, kind, slot, cutoff, since, status, created_at, finished_at)
		SELECT i, 'daily', 'scheduled', 'slot-' || i, %d, %d, 'done', %d + i, %d + i FROM n`, day, day-86400, day, day+600),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
		INSERT INTO audit_log (at, actor, action, target, detail, client)
		SELECT %d + i, 'chief@example.com', 'send_now', 'edition ' || i, 'digest=daily', '192.0.2.1' FROM n`, day),
		`ANALYZE`,
	} {
		if _, err := st.W.ExecContext(ctx, q); err != nil {
			b.Fatalf("generate %d subscribers: %v\n%s", n, err, q)
		}
	}
	st.Close()
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	os.Remove(tmp + "-wal")
	os.Remove(tmp + "-shm")
	b.Logf("generated %s in %s", path, time.Since(start).Round(time.Millisecond))
	return path
}
