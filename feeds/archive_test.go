package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func archiveOptions(e *testEnv, pageSize int) Options {
	opt := testOptions(e.clock)
	opt.Archives, opt.ArchivePageSize = true, pageSize
	return opt
}

// TestArchiveGolden pins an archive page's shape (fh:archive, current,
// prev-archive, next-archive; JSON Feed next_url) and the subscription
// document's link to the newest page.
func TestArchiveGolden(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql", "testdata/shapes.sql")
	b := NewBuilder(e.st, archiveOptions(e, 3))
	site := feedByPath(t, b, "/feeds/all.rss")
	r := b.newRun()
	arc, err := r.archive(ctx, site)
	if err != nil || arc.pages() != 3 || len(arc.bounds) != 2 {
		t.Fatalf("archive %+v %v: want 8 articles in pages of 3 (two frozen, one open)", arc, err)
	}
	set, err := r.buildPage(ctx, site, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, ft := range Formats {
		goldenFile(t, "archive-all-2."+ft.Ext(), set[ft])
	}
	sub, err := r.build(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	for ft, want := range map[Format]string{
		RSS:  `<atom:link href="https://news.example.com/feeds/all/archive/3.rss" rel="prev-archive"`,
		Atom: `<link href="https://news.example.com/feeds/all/archive/3.atom" rel="prev-archive"`,
		JSON: `"next_url": "https://news.example.com/feeds/all/archive/3.json"`,
	} {
		if !strings.Contains(string(sub[ft]), want) {
			t.Errorf("subscription %s lacks %s", ft.Ext(), want)
		}
	}
	if _, err := r.buildPage(ctx, site, 4); err != errNoPage {
		t.Errorf("page 4 of 3: %v", err)
	}
	atomFiles.add(t, "archive-2", set[Atom])
	jsonFiles.add(t, "archive-2", set[JSON])
	validateAll(t)
}

// archiveSite fills a database with n articles over two years in 6
// sections by 25 authors (1–3 per article, some none), a few retracted,
// drafts and embargoed, first seen when published.
//
// body, when set, gives each article's HTML (default a one-line paragraph).
func archiveSite(t testing.TB, e *testEnv, n int, body ...func(id int) string) {
	t.Helper()
	if len(body) == 0 {
		body = append(body, func(int) string { return "<p>Body.</p>" })
	}
	rnd := rand.New(rand.NewPCG(13, 5005))
	tx, err := e.st.W.Begin()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for s := 1; s <= 6; s++ {
		exec(`INSERT INTO sections (id, slug, name) VALUES (?, ?, ?)`, 100+s, fmt.Sprintf("s%d", s), fmt.Sprintf("Section %d", s))
	}
	for a := 1; a <= 25; a++ {
		exec(`INSERT INTO authors (id, slug, name) VALUES (?, ?, ?)`, 100+a, fmt.Sprintf("a%d", a), fmt.Sprintf("Author %d", a))
	}
	for i := 1; i <= n; i++ {
		id := 1000 + i
		pub := testNow.Add(-time.Duration(rnd.Int64N(int64(2 * 365 * 24 * time.Hour))))
		status := "published"
		switch r := rnd.IntN(100); {
		case r < 2:
			status = "retracted"
		case r < 3:
			status = "draft"
		case r < 4:
			pub = testNow.Add(time.Duration(1+rnd.IntN(48)) * time.Hour) // embargoed
		}
		guid := fmt.Sprint(id) // a bare number: the Atom id is derived
		if i%3 == 0 {
			guid = fmt.Sprintf("urn:test:%d", id)
		}
		exec(`INSERT INTO articles (id, guid, url, title, body_html, section_id, status, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, guid, fmt.Sprintf("/a/%d", id), fmt.Sprintf("Article %d", id), body[0](id), 101+rnd.IntN(6), status, pub.Format(time.RFC3339))
		for pos, n := 0, rnd.IntN(4); pos < n; pos++ {
			exec(`INSERT OR IGNORE INTO article_authors (article_id, author_id, position) VALUES (?, ?, ?)`, id, 101+rnd.IntN(25), pos)
		}
	}
	exec(`INSERT OR IGNORE INTO herald_article_visible (article_id, seen_at) SELECT id, 0 FROM articles WHERE status = 'published'`)
	exec(`UPDATE herald_article_visible SET seen_at = (SELECT unixepoch(published_at) FROM articles WHERE id = article_id)`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// feedGUIDs returns the guids of every published, due article of a feed.
func feedGUIDs(t *testing.T, e *testEnv, id FeedID) map[string]bool {
	t.Helper()
	q := `SELECT guid FROM articles a WHERE status = 'published' AND unixepoch(published_at) <= ?`
	args := []any{e.clock.Now().Unix()}
	switch id.Kind {
	case KindSection:
		q += ` AND section_id = ?`
		args = append(args, id.ID)
	case KindAuthor:
		q += ` AND id IN (SELECT article_id FROM article_authors WHERE author_id = ?)`
		args = append(args, id.ID)
	}
	rows, err := e.st.R.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			t.Fatal(err)
		}
		out[g] = true
	}
	return out
}

// walk follows the archive chain of one feed from its subscription
// document in format ft, through get, and returns the entry ids of each
// archive page, newest page first.
func walk(t *testing.T, b *Builder, get func(url string) []byte, f Feed, ft Format) [][]string {
	t.Helper()
	var pages [][]string
	u := b.URL(f.ID, ft)
	current := u
	for hop := 0; ; hop++ {
		data := get(u)
		var ids []string
		prev := ""
		switch ft {
		case Atom:
			var x xAtom
			if err := strictXML(data, &x); err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			rels := map[string]string{}
			for _, l := range x.Links {
				rels[l.Rel] = l.Href
			}
			prev = rels["prev-archive"]
			if hop > 0 && (rels["current"] != current || !strings.Contains(string(data), "<fh:archive></fh:archive>")) {
				t.Errorf("%s: current %q, fh:archive missing or wrong", u, rels["current"])
			}
			for _, en := range x.Entries {
				ids = append(ids, en.ID)
			}
			atomFiles.add(t, u, data)
		case JSON:
			var x struct {
				NextURL string `json:"next_url"`
				Items   []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			if err := json.Unmarshal(data, &x); err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			prev = x.NextURL
			for _, it := range x.Items {
				ids = append(ids, it.ID)
			}
			jsonFiles.add(t, u, data)
		default:
			var x xRSS
			if err := strictXML(data, &x); err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			for _, l := range x.Channel.AtomLinks {
				if l.Rel == "prev-archive" {
					prev = l.Href
				}
			}
			for _, it := range x.Channel.Items {
				ids = append(ids, it.GUID.Value)
			}
		}
		if hop > 0 {
			pages = append(pages, ids)
		}
		if prev == "" {
			return pages
		}
		if hop > 10000 {
			t.Fatalf("%s: an archive chain that does not end", f.ID)
		}
		u = prev
	}
}

// checkWalk: walking back from the subscription document sees every
// published article of the feed exactly once.
func checkWalk(t *testing.T, e *testEnv, b *Builder, get func(string) []byte, f Feed, ft Format) [][]string {
	t.Helper()
	pages := walk(t, b, get, f, ft)
	want := map[string]bool{}
	for g := range feedGUIDs(t, e, f.ID) {
		if ft == Atom {
			g = b.ids.atomID(g)
		}
		want[g] = true
	}
	seen := map[string]int{}
	for _, p := range pages {
		for _, id := range p {
			seen[id]++
		}
	}
	for id, n := range seen {
		if n != 1 || !want[id] {
			t.Errorf("%s %s: %s seen %d times (published: %v)", f.ID, ft.Ext(), id, n, want[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%s %s: the archive holds %d articles, the feed has %d", f.ID, ft.Ext(), len(seen), len(want))
	}
	return pages
}

func fileGetter(t *testing.T, b *Builder, dir string) func(string) []byte {
	return func(u string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(u, b.base)))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
}

// TestArchiveChainWalk builds a site of a few thousand articles, walks the
// archive chain of every feed in every format from the files and the site
// feed through the handler, and checks each article is seen exactly once;
// then a late-published article and a retraction leave the frozen pages'
// numbering alone, and a refresh rewrites only the pages a change touches.
func TestArchiveChainWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("a site of 3,000 articles")
	}
	ctx := context.Background()
	e := newEnv(t)
	archiveSite(t, e, 3000)
	b := NewBuilder(e.st, archiveOptions(e, 50))
	dir := t.TempDir()
	w := NewWriterMust(t, b, dir)
	if _, err := w.WriteAll(ctx); err != nil {
		t.Fatal(err)
	}
	feeds, err := b.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	get := fileGetter(t, b, dir)
	var sitePages [][]string
	for _, f := range feeds {
		for _, ft := range Formats {
			p := checkWalk(t, e, b, get, f, ft)
			if f.ID.Kind == KindAll && ft == RSS {
				sitePages = p
			}
		}
	}
	if len(sitePages) < 50 {
		t.Fatalf("site archive of %d pages, want about 58", len(sitePages))
	}
	validateAll(t)

	// Through the handler: the same chain, frozen pages cached for a day.
	h := newTestHandler(t, &testEnv{st: e.st, b: b, clock: e.clock}, 64<<20)
	hget := func(u string) []byte {
		w := do(t, h, "GET", strings.TrimPrefix(u, b.base))
		if w.Code != 200 {
			t.Fatalf("%s: %d", u, w.Code)
		}
		return w.Body.Bytes()
	}
	checkWalk(t, e, b, hget, feeds[0], Atom)
	checkWalk(t, e, b, hget, feeds[0], JSON)
	validateAll(t)
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range listFiles(t, dir) {
		if err := os.Chtimes(filepath.Join(dir, f), old, old); err != nil {
			t.Fatal(err)
		}
	}

	// A late-published article (an old date, seen now) and a retraction in
	// page 2: full pages keep their numbers, the article goes to the open
	// page, the retracted one leaves page 2 alone.
	r, err := NewRefresher(ctx, b, RefresherOptions{Writer: w})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAll(ctx); err != nil {
		t.Fatal(err)
	}
	e.exec(t, `INSERT INTO articles (id, guid, url, title, section_id, published_at) VALUES (9001, 'late', '/late', 'Late', 101, '2025-01-01T00:00:00Z')`)
	e.exec(t, `UPDATE herald_article_visible SET seen_at = ? WHERE article_id = 9001`, testNow.Add(-time.Hour).Unix())
	retracted := sitePages[len(sitePages)-2][3] // an article of page 2 (walked newest page first)
	e.exec(t, `UPDATE articles SET status = 'retracted' WHERE guid = ?`, retracted)
	res, err := r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	site := feeds[0]
	after := walk(t, b, get, site, RSS)
	n := len(sitePages)
	if len(after) != n {
		t.Fatalf("pages %d -> %d", n, len(after))
	}
	for p := 1; p < n; p++ { // the frozen pages, walked newest first
		was, is := sitePages[n-p], after[n-p]
		if p == 2 {
			if slices.Contains(is, retracted) || len(is) != len(was)-1 {
				t.Errorf("page 2 after the retraction: %v", is)
			}
			continue
		}
		if !slices.Equal(is, was) {
			t.Errorf("frozen page %d changed: %v -> %v", p, was, is)
		}
	}
	if !slices.Contains(after[0], "late") {
		t.Errorf("the late-published article is not in the newest page %v", after[0])
	}
	checkWalk(t, e, b, get, site, RSS)
	// Only the touched pages were rewritten: page 2 (the retraction), the
	// newest pages, and no other page of the site's archive.
	var rewritten []string
	for _, f := range listFiles(t, dir) {
		if strings.HasPrefix(f, "feeds/all/archive/") && !mtime(t, filepath.Join(dir, f)).Equal(old) {
			rewritten = append(rewritten, f)
		}
	}
	for _, f := range rewritten {
		n := 0
		fmt.Sscanf(strings.TrimPrefix(f, "feeds/all/archive/"), "%d", &n)
		if n != 2 && n < len(after)-1 {
			t.Errorf("%s rewritten by a change that does not touch it (pages %d, static %+v)", f, len(after), res.Static)
		}
	}
	if len(rewritten) == 0 {
		t.Error("no archive page rewritten")
	}
	validateAll(t)
}

// TestArchiveServe: frozen pages carry a day's Cache-Control and their own
// ETag (and 304), the open page the feed's; pages past the last are 404;
// every answer with a body carries nosniff.
func TestArchiveServe(t *testing.T) {
	e := newEnv(t, seedSQL, "testdata/golden.sql", "testdata/shapes.sql")
	e.b = NewBuilder(e.st, archiveOptions(e, 3))
	h := newTestHandler(t, e, 1<<20)
	w := do(t, h, "GET", "/feeds/all/archive/1.atom")
	if w.Code != 200 || w.Header().Get("Cache-Control") != frozenCacheControl || w.Header().Get("Etag") == "" ||
		w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("frozen page: %d %v", w.Code, w.Header())
	}
	if w2 := do(t, h, "GET", "/feeds/all/archive/1.atom", "If-None-Match", w.Header().Get("Etag")); w2.Code != http.StatusNotModified ||
		w2.Header().Get("Cache-Control") != frozenCacheControl || w2.Header().Get("Etag") != w.Header().Get("Etag") {
		t.Errorf("conditional GET of a frozen page: %d", w2.Code)
	}
	if w := do(t, h, "GET", "/feeds/all/archive/3.json"); w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("open page: %d %q", w.Code, w.Header().Get("Cache-Control"))
	}
	for _, p := range []string{"/feeds/all/archive/4.rss", "/feeds/all/archive/0.rss", "/feeds/all/archive/01.rss", "/feeds/sections/nope/archive/1.rss", "/feeds/all/archive/1.xml"} {
		if w := do(t, h, "GET", p); w.Code != 404 || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
	if w := do(t, h, "GET", "/feeds/sections/opinion/archive/1.rss"); w.Code != 200 || !strings.Contains(w.Body.String(), "<fh:archive>") {
		t.Errorf("section page: %d", w.Code)
	}
}

// TestNosniff: every feed answer with a body carries
// X-Content-Type-Options: nosniff, as the pages do — 200, 404, 405 and
// 500 — and a 304 only what RFC 9110 §15.4.5 lists (ETag, Vary,
// Cache-Control): a cache keeps the stored 200's nosniff.
func TestNosniff(t *testing.T) {
	e := newEnv(t, seedSQL)
	h := newTestHandler(t, e, 1<<20)
	w := do(t, h, "GET", "/feeds/all.rss")
	answers := []*httptest.ResponseRecorder{w,
		do(t, h, "GET", "/feeds/all.rss", "If-None-Match", w.Header().Get("Etag")),
		do(t, h, "GET", "/feeds/nope.rss"),
		do(t, h, "POST", "/feeds/all.rss"),
	}
	e.st.Close() // the next build fails: a 500
	answers = append(answers, do(t, h, "GET", "/feeds/authors/robert-overtone.json"))
	for i, w := range answers {
		if got := w.Header().Get("X-Content-Type-Options"); (got == "nosniff") != (w.Code != http.StatusNotModified) {
			t.Errorf("answer %d (%d): X-Content-Type-Options %q", i, w.Code, got)
		}
	}
	nm := answers[1].Header()
	if len(nm) != 3 || nm.Get("Etag") == "" || nm.Get("Vary") != "Accept-Encoding" || nm.Get("Cache-Control") == "" {
		t.Errorf("304 headers %v, want exactly ETag, Vary and Cache-Control", nm)
	}
	if got := []int{answers[0].Code, answers[1].Code, answers[2].Code, answers[3].Code, answers[4].Code}; !slices.Equal(got, []int{200, 304, 404, 405, 500}) {
		t.Errorf("codes %v", got)
	}
}
