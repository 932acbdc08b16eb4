package archive_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/heraldnews/herald/archive"
	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/token"
)

var (
	linkRE  = regexp.MustCompile(`https://read\.example\.com/archive/[^"\s<>]+`)
	tokenRE = regexp.MustCompile(`token=([A-Za-z0-9_.-]+)`)
)

// The archive page and the "view in browser" link of a sent edition carry
// no personal data: no name, address or token of any of its recipients,
// checked against every recipient of the edition (and a reader of another
// digest). The page holds the union of what they were sent.
func TestNoPersonalData(t *testing.T) {
	e := newEnv(t, "en")
	ctx := context.Background()
	readers := []model.Subscriber{
		e.reader("ada@example.com", "Ada Lovelace", "daily", "world"),
		e.reader("bob.roe@example.org", "Bob Roe", "daily", "sport"),
		e.reader("cat.poe@example.net", "Cat Poe", "daily"),
	}
	e.reader("insider@example.com", "Ivy Insider", "private")
	msgs := e.send("daily")
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	var secrets []string
	var links []string
	signer, _ := token.NewSigner([]byte(e.cfg.Secret), e.clock.Now)
	for _, r := range readers {
		local, _, _ := strings.Cut(string(r.Email), "@")
		secrets = append(secrets, string(r.Email), r.Name, local, strings.Fields(r.Name)[0],
			signer.Make(token.Manage, r.ID, 365*24*time.Hour))
		subs, _ := e.store.SubscriptionsOf(ctx, r.ID)
		for _, su := range subs {
			secrets = append(secrets, signer.Make(token.Unsubscribe, su.ID, 5*365*24*time.Hour))
		}
	}
	for _, m := range msgs {
		h, text, html := parts(t, m.Data)
		secrets = append(secrets, h.Get("Message-Id"))
		for _, s := range tokenRE.FindAllStringSubmatch(html+text+h.Get("List-Unsubscribe"), -1) {
			secrets = append(secrets, s[1])
		}
		found := linkRE.FindAllString(html, -1)
		if len(found) != 1 || !strings.Contains(text, found[0]) {
			t.Fatalf("view in browser: html %q, text has it: %v", found, strings.Contains(text, found[0]))
		}
		links = append(links, found[0])
	}
	for _, l := range links {
		if l != "https://read.example.com/archive/daily/2026-11-26" {
			t.Fatalf("view in browser link %q", l)
		}
	}
	ed, err := e.arch.Edition(ctx, "daily", "2026-11-26")
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.pages.Bytes("archive-edition", ed)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := e.arch.Index(ctx, "daily", 1)
	if err != nil {
		t.Fatal(err)
	}
	index, err := e.pages.Bytes("archive-index", ix)
	if err != nil {
		t.Fatal(err)
	}
	set, _, err := e.arch.Feed(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]string{"edition page": string(page), "index": string(index), "link": links[0],
		"rss": string(set[feeds.RSS]), "atom": string(set[feeds.Atom]), "json": string(set[feeds.JSON])}
	for what, body := range public {
		for _, s := range secrets {
			if s != "" && regexp.MustCompile(`(?i)\b`+regexp.QuoteMeta(s)+`\b`).MatchString(body) {
				t.Errorf("%s carries %q", what, s)
			}
		}
		if strings.Contains(body, "Ivy") || strings.Contains(body, "insider") {
			t.Errorf("%s carries another digest's reader", what)
		}
	}
	for _, title := range []string{"Summit ends with a pledge", "Floods along the Danube", "Late goal settles the derby", "World News", "Sport",
		`src="https://cdn.example.com/w1.jpg" alt="Summit ends with a pledge"`, "By Ann Lee", "Thursday 26 November 2026"} {
		if !strings.Contains(string(page), title) {
			t.Errorf("edition page lacks %q", title)
		}
	}
	if ed.Count != 3 || !strings.Contains(string(index), `href="/archive/daily/2026-11-26"`) {
		t.Errorf("count %d; index:\n%s", ed.Count, index)
	}
}

// A day's second edition gets the -2 slug, the index lists both newest
// first, a retracted article is gone from the page at once (the page is
// read again), an unknown slug or a digest with archive: false has none,
// and its mail has no "view in browser" link.
func TestSlugsRetractionNoArchive(t *testing.T) {
	e := newEnv(t, "en")
	ctx := context.Background()
	e.reader("ada@example.com", "Ada Lovelace", "daily")
	e.reader("ivy@example.com", "Ivy", "private")
	e.send("daily")
	if err := e.store.ExecScript(ctx, `INSERT INTO articles (guid, url, title, section_id, published_at)
		VALUES ('w3', '/w3', 'Aid convoy arrives', 1, '2026-11-26T09:00:30Z')`); err != nil {
		t.Fatal(err)
	}
	e.seen()
	e.send("daily")
	ix, err := e.arch.Index(ctx, "daily", 1)
	if err != nil || len(ix.Editions) != 2 || ix.Editions[0].Path != "/archive/daily/2026-11-26-2" || ix.Editions[1].Path != "/archive/daily/2026-11-26" {
		t.Fatalf("index %+v %v", ix.Editions, err)
	}
	second, err := e.arch.Edition(ctx, "daily", "2026-11-26-2")
	if err != nil || second.Count != 1 || second.Sections[0].Articles[0].Title != "Aid convoy arrives" {
		t.Fatalf("second edition %+v %v", second, err)
	}
	if err := e.store.ExecScript(ctx, `UPDATE articles SET status = 'retracted' WHERE guid = 'w1'`); err != nil {
		t.Fatal(err)
	}
	first, err := e.arch.Edition(ctx, "daily", "2026-11-26")
	if err != nil || first.Count != 2 {
		t.Fatalf("after the retraction: %d articles, %v", first.Count, err)
	}
	for _, sec := range first.Sections {
		for _, a := range sec.Articles {
			if a.Title == "Summit ends with a pledge" {
				t.Fatal("a retracted article is still on the page")
			}
		}
	}
	for _, slug := range []string{"2026-11-27", "2026-11-26-1", "2026-11-26-02", "2026-11-26-+2", "nope", "2026-11-26-3"} {
		if _, err := e.arch.Edition(ctx, "daily", slug); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("slug %q: %v", slug, err)
		}
	}
	if _, err := e.arch.Index(ctx, "daily", 2); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("index page 2: %v", err)
	}
	msgs := e.send("private")
	if _, err := e.arch.Index(ctx, "private", 1); !errors.Is(err, archive.ErrNoArchive) {
		t.Errorf("private archive: %v", err)
	}
	if _, _, html := parts(t, msgs[0].Data); strings.Contains(html, "/archive/") || strings.Contains(html, "in your browser") {
		t.Error("a digest with archive: false links to an archive")
	}
}

// A local digest's zone-group editions of one day share one page; a manual
// edition that day gets its own.
func TestLocalDayShares(t *testing.T) {
	e := newEnv(t, "en")
	ctx := context.Background()
	var pages []model.ArchivePage
	for _, ed := range []model.Edition{
		{Digest: "daily", Kind: model.EditionScheduled, Slot: "2026-11-27T07:00 Pacific/Auckland", Zone: "Pacific/Auckland"},
		{Digest: "daily", Kind: model.EditionManual},
		{Digest: "daily", Kind: model.EditionScheduled, Slot: "2026-11-27T07:00 Europe/London", Zone: "Europe/London"},
		{Digest: "daily", Kind: model.EditionScheduled, Slot: "2026-11-28T07:00 Pacific/Auckland", Zone: "Pacific/Auckland"},
	} {
		ed.Cutoff, ed.Since = e.clock.Now(), e.clock.Now().Add(-time.Hour)
		got, _, err := e.store.CreateEdition(ctx, ed)
		if err != nil {
			t.Fatal(err)
		}
		day := "2026-11-27"
		if ed.Slot != "" {
			day = ed.Slot[:10]
		}
		p, err := e.store.AssignArchivePage(ctx, got.ID, day, ed.Zone != "")
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.store.AssignArchivePage(ctx, got.ID, "2030-01-01", false)
		if err != nil || again.Slug() != p.Slug() {
			t.Fatalf("a page changed: %s then %s (%v)", p.Slug(), again.Slug(), err)
		}
		pages = append(pages, p)
	}
	want := []string{"2026-11-27", "2026-11-27-2", "2026-11-27", "2026-11-28"}
	for i, p := range pages {
		if p.Slug() != want[i] {
			t.Errorf("edition %d: page %s, want %s", i+1, p.Slug(), want[i])
		}
	}
}

// The feeds of editions parse, and validate: Atom against RFC 4287's RELAX
// NG schema (jing), JSON Feed against the JSON Feed 1.1 schema (ajv with
// the jsonfeed-schema package), like every other feed (.ci/e2e).
func TestFeedsValidate(t *testing.T) {
	e := newEnv(t, "de")
	e.reader("ada@example.com", "Ada Lovelace", "daily")
	e.send("daily")
	set, mod, err := e.arch.Feed(context.Background(), "daily")
	if err != nil || mod.IsZero() {
		t.Fatal(mod, err)
	}
	for _, f := range feeds.Formats {
		parsed, err := gofeed.NewParser().ParseString(string(set[f]))
		if err != nil || len(parsed.Items) != 1 || parsed.Items[0].Link != "https://read.example.com/archive/daily/2026-11-26" ||
			!strings.Contains(parsed.Items[0].Title, "Donnerstag, 26. November 2026") {
			t.Fatalf("%s: %v %+v", f.Ext(), err, parsed)
		}
	}
	if !strings.Contains(string(set[feeds.Atom]), `xml:lang="de"`) || !strings.Contains(string(set[feeds.Atom]), `href="https://read.example.com/archive/daily.atom"`) {
		t.Errorf("atom:\n%s", set[feeds.Atom])
	}
	dir := t.TempDir()
	for _, f := range feeds.Formats {
		if err := os.WriteFile(filepath.Join(dir, "daily."+f.Ext()), set[f], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("atom", func(t *testing.T) {
		jing := tool(t, "jing")
		if out, err := exec.Command(jing, "-c", "../feeds/testdata/atom.rnc", filepath.Join(dir, "daily.atom")).CombinedOutput(); err != nil {
			t.Fatalf("jing: %v\n%s", err, out)
		}
	})
	t.Run("json", func(t *testing.T) {
		ajv := tool(t, "ajv")
		schema := filepath.Join(filepath.Dir(filepath.Dir(ajv)), "jsonfeed-schema", "schema-v1.1.json")
		out, err := exec.Command(ajv, "validate", "--spec=draft7", "--strict=false", "-c", "ajv-formats", "-s", schema,
			"-d", filepath.Join(dir, "daily.json")).CombinedOutput()
		if err != nil {
			t.Fatalf("ajv: %v\n%s", err, out)
		}
	})
}

// build --out's files: the index, each edition, the feeds and the
// stylesheet, written once and then left alone; German throughout.
func TestWriteStatic(t *testing.T) {
	e := newEnv(t, "de")
	e.reader("ada@example.com", "Ada Lovelace", "daily")
	e.send("daily")
	dir := t.TempDir()
	sum, err := e.arch.WriteStatic(context.Background(), dir, e.pages, []byte("body{}"))
	if err != nil || sum.Written != 6 || sum.Unchanged != 0 {
		t.Fatalf("%+v %v", sum, err)
	}
	for _, f := range []string{"archive/daily/index.html", "archive/daily/2026-11-26/index.html", "archive/daily.rss",
		"archive/daily.atom", "archive/daily.json", "assets/reader.css"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "archive/private")); err == nil {
		t.Error("a digest with archive: false was written")
	}
	page, _ := os.ReadFile(filepath.Join(dir, "archive/daily/2026-11-26/index.html"))
	for _, want := range []string{`<html lang="de">`, "Donnerstag, 26. November 2026", "Von Ann Lee", "Alle Ausgaben"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if sum, err = e.arch.WriteStatic(context.Background(), dir, e.pages, []byte("body{}")); err != nil || sum.Written != 0 || sum.Unchanged != 6 {
		t.Fatalf("second run %+v %v", sum, err)
	}
}

// herald serve with feeds.output_dir: the archive's files follow what is
// sent and what is retracted, checked every interval.
func TestRunStatic(t *testing.T) {
	e := newEnv(t, "en")
	e.reader("ada@example.com", "Ada Lovelace", "daily")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		e.arch.RunStatic(ctx, dir, e.pages, []byte("body{}"), e.store, 20*time.Millisecond)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	page := filepath.Join(dir, "archive/daily/2026-11-26/index.html")
	waitFile := func(what string, ok func(string) bool) {
		t.Helper()
		for i := 0; i < 250; i++ {
			if b, err := os.ReadFile(page); err == nil && ok(string(b)) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("the archive's files never showed %s", what)
	}
	e.send("daily")
	waitFile("the edition", func(s string) bool { return strings.Contains(s, "Summit ends with a pledge") })
	if err := e.store.ExecScript(context.Background(), `UPDATE articles SET status = 'retracted' WHERE guid = 'w1'`); err != nil {
		t.Fatal(err)
	}
	waitFile("the retraction", func(s string) bool { return !strings.Contains(s, "Summit ends with a pledge") })
}
