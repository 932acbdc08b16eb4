// Command gen fills a herald database with realistic synthetic content for
// benchmarks: sections, authors, articles with 3–6 KB bodies, co-bylines and
// dates spread over five years, and optionally subscribers with varied
// subscriptions. It opens the database through store.Open, so the schema is
// migrated first, and inserts everything in one transaction with prepared
// statements. Output is deterministic for a given -seed.
//
//	go run ./bench/gen -db bench.db -articles 100000 -sections 50 -authors 500 -subscribers 10000
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/store"
)

var words = strings.Fields(`the council budget minister election report city school health market river
bridge storm climate energy court police museum festival season team coach match league record
science study research hospital transport railway airport housing rent price inflation bank
trade export farm harvest water forest mountain coast island village street road park garden
music film theatre book author artist gallery concert history war peace treaty summit leader
president parliament vote campaign policy reform tax worker union strike factory company
startup software data network phone internet privacy security court judge law rights`)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	db := fs.String("db", "", "database file to create or extend (required)")
	nArticles := fs.Int("articles", 1000, "articles to add")
	nSections := fs.Int("sections", 10, "sections to add")
	nAuthors := fs.Int("authors", 50, "authors to add")
	nSubs := fs.Int("subscribers", 0, "subscribers to add")
	seed := fs.Uint64("seed", 1, "random seed")
	follows := fs.String("follows", "mixed", "subscribers' follows: mixed (half everything, half 0-3 sections and 0-2 authors) or distinct (each 2-5 sections and 3-8 authors: nearly every subscriber a different set)")
	end := fs.String("end", "2026-11-26T00:00:00Z", "newest article date (RFC 3339); dates span the 5 years before")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" {
		return fmt.Errorf("-db is required")
	}
	if *follows != "mixed" && *follows != "distinct" {
		return fmt.Errorf("-follows must be mixed or distinct, got %q", *follows)
	}
	if *nSections < 1 || *nAuthors < 1 {
		return fmt.Errorf("need at least one section and one author")
	}
	endAt, err := time.Parse(time.RFC3339, *end)
	if err != nil {
		return fmt.Errorf("-end: %w", err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(ctx, *db, store.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	g := &gen{rnd: rand.New(rand.NewPCG(*seed, 42)), end: endAt, distinct: *follows == "distinct"}
	err = st.Tx(ctx, func(tx *sql.Tx) error {
		return g.fill(ctx, tx, *nSections, *nAuthors, *nArticles, *nSubs)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: %d sections, %d authors, %d articles, %d subscribers in %s\n",
		*db, *nSections, *nAuthors, *nArticles, *nSubs, time.Since(start).Round(time.Millisecond))
	return nil
}

type gen struct {
	rnd      *rand.Rand
	distinct bool // subscribers follow many, nearly always different, sections and authors
	end      time.Time
}

func (g *gen) words(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = words[g.rnd.IntN(len(words))]
	}
	return strings.Join(ws, " ")
}

func (g *gen) sentence() string {
	s := g.words(8 + g.rnd.IntN(14))
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// body is 3–6 KB of HTML paragraphs with the odd link, emphasis and image.
func (g *gen) body(id int) string {
	target := 3000 + g.rnd.IntN(3000)
	var sb strings.Builder
	sb.Grow(target + 512)
	for sb.Len() < target {
		sb.WriteString("<p>")
		for range 3 + g.rnd.IntN(4) {
			sb.WriteString(g.sentence())
			sb.WriteByte(' ')
		}
		switch g.rnd.IntN(6) {
		case 0:
			fmt.Fprintf(&sb, `See <a href="/articles/%d">our earlier report</a>.`, 1+g.rnd.IntN(id))
		case 1:
			fmt.Fprintf(&sb, `<em>%s</em>`, g.sentence())
		case 2:
			fmt.Fprintf(&sb, `<img src="/img/%d-inline.jpg" alt="%s">`, id, g.words(3))
		}
		sb.WriteString("</p>\n")
	}
	return sb.String()
}

func (g *gen) fill(ctx context.Context, tx *sql.Tx, nSec, nAu, nArt, nSubs int) error {
	var base int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM sections`).Scan(&base); err != nil {
		return err
	}
	secStmt, err := tx.PrepareContext(ctx, `INSERT INTO sections (id, slug, name, description) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer secStmt.Close()
	secIDs := make([]int64, nSec)
	for i := range nSec {
		id := base + int64(i) + 1
		secIDs[i] = id
		if _, err := secStmt.ExecContext(ctx, id, fmt.Sprintf("section-%d", id), "Section "+g.words(2), g.sentence()); err != nil {
			return fmt.Errorf("section %d: %w", id, err)
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM authors`).Scan(&base); err != nil {
		return err
	}
	auStmt, err := tx.PrepareContext(ctx, `INSERT INTO authors (id, slug, name, email, bio, url, avatar_url) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer auStmt.Close()
	auIDs := make([]int64, nAu)
	for i := range nAu {
		id := base + int64(i) + 1
		auIDs[i] = id
		slug := fmt.Sprintf("author-%d", id)
		if _, err := auStmt.ExecContext(ctx, id, slug, "Author "+g.words(2), slug+"@news.example.com",
			g.sentence()+" "+g.sentence(), "/people/"+slug, fmt.Sprintf("/img/authors/%d.jpg", id)); err != nil {
			return fmt.Errorf("author %d: %w", id, err)
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM articles`).Scan(&base); err != nil {
		return err
	}
	artStmt, err := tx.PrepareContext(ctx, `INSERT INTO articles (id, guid, url, title, summary, body_html, image_url,
		section_id, status, published_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer artStmt.Close()
	byStmt, err := tx.PrepareContext(ctx, `INSERT INTO article_authors (article_id, author_id, position) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer byStmt.Close()
	span := int64(5 * 365 * 24 * time.Hour / time.Second)
	for i := range nArt {
		id := base + int64(i) + 1
		pub := g.end.Add(-time.Duration(g.rnd.Int64N(span)) * time.Second)
		var upd any
		if g.rnd.IntN(4) == 0 {
			upd = pub.Add(time.Duration(g.rnd.IntN(48*3600)) * time.Second).Format(time.RFC3339)
		}
		status := "published"
		switch r := g.rnd.IntN(100); {
		case r < 2:
			status = "draft"
		case r < 3:
			status = "retracted"
		}
		var img any
		if g.rnd.IntN(3) > 0 {
			img = fmt.Sprintf("/img/%d.jpg", id)
		}
		// Both accepted timestamp forms, as a CMS might mix them.
		pubText := pub.Format(time.RFC3339)
		if id%5 == 0 {
			pubText = pub.UTC().Format("2006-01-02 15:04:05")
		}
		title := g.sentence()
		if _, err := artStmt.ExecContext(ctx, id, fmt.Sprintf("urn:herald:bench:%d", id), fmt.Sprintf("/articles/%d", id),
			title[:len(title)-1], g.sentence()+" "+g.sentence(), g.body(int(id)), img,
			secIDs[g.rnd.IntN(len(secIDs))], status, pubText, upd); err != nil {
			return fmt.Errorf("article %d: %w", id, err)
		}
		// One to three authors (co-bylines), a few with none.
		n := 1
		switch r := g.rnd.IntN(100); {
		case r < 3:
			n = 0
		case r < 18:
			n = 2
		case r < 23:
			n = 3
		}
		seen := map[int64]bool{}
		for pos := 0; pos < n; pos++ {
			au := auIDs[g.rnd.IntN(len(auIDs))]
			if seen[au] {
				continue
			}
			seen[au] = true
			if _, err := byStmt.ExecContext(ctx, id, au, pos); err != nil {
				return fmt.Errorf("byline %d: %w", id, err)
			}
		}
	}
	return g.subscribers(ctx, tx, nSubs, len(secIDs), len(auIDs), secIDs[0], auIDs[0])
}

func (g *gen) subscribers(ctx context.Context, tx *sql.Tx, n, nSec, nAu int, firstSec, firstAu int64) error {
	if n == 0 {
		return nil
	}
	subStmt, err := tx.PrepareContext(ctx, `INSERT INTO subscribers (email, name, status, created_at, confirmed_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer subStmt.Close()
	scStmt, err := tx.PrepareContext(ctx, `INSERT INTO subscriptions (subscriber_id, digest, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer scStmt.Close()
	fStmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO subscription_follows (subscription_id, kind, slug) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer fStmt.Close()
	var first int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM subscribers`).Scan(&first); err != nil {
		return err
	}
	for i := range n {
		created := g.end.Add(-time.Duration(g.rnd.Int64N(int64(3*365*24*time.Hour/time.Second))) * time.Second).Unix()
		status, confirmed := "active", any(created+3600)
		switch r := g.rnd.IntN(100); {
		case r < 5:
			status, confirmed = "pending", nil
		case r < 7:
			status = "bounced"
		case r < 8:
			status = "erased"
		}
		res, err := subStmt.ExecContext(ctx, fmt.Sprintf("reader%d@example.org", first+int64(i)+1), "Reader "+g.words(1),
			status, created, confirmed, created)
		if err != nil {
			return fmt.Errorf("subscriber %d: %w", i, err)
		}
		sid, _ := res.LastInsertId()
		digests := []string{"daily"}
		if g.rnd.IntN(4) == 0 {
			digests = append(digests, "weekly")
		}
		for _, d := range digests {
			scStatus := "active"
			if g.rnd.IntN(20) == 0 {
				scStatus = "unsubscribed"
			}
			res, err := scStmt.ExecContext(ctx, sid, d, scStatus, created, created)
			if err != nil {
				return fmt.Errorf("subscription %d: %w", i, err)
			}
			scID, _ := res.LastInsertId()
			if g.distinct {
				if err := g.distinctFollows(ctx, fStmt, scID, nSec, nAu, firstSec, firstAu); err != nil {
					return err
				}
				continue
			}
			// Half follow everything; the rest a few sections and/or authors.
			if g.rnd.IntN(2) == 0 {
				continue
			}
			for range g.rnd.IntN(4) {
				if _, err := fStmt.ExecContext(ctx, scID, "section", fmt.Sprintf("section-%d", firstSec+int64(g.rnd.IntN(nSec)))); err != nil {
					return err
				}
			}
			for range g.rnd.IntN(3) {
				if _, err := fStmt.ExecContext(ctx, scID, "author", fmt.Sprintf("author-%d", firstAu+int64(g.rnd.IntN(nAu)))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// distinctFollows makes a subscription follow 2-5 sections and 3-8
// authors: with tens of sections and hundreds of authors nearly every
// subscriber follows a different set, the worst case for a render cache
// keyed by what a reader gets.
func (g *gen) distinctFollows(ctx context.Context, st *sql.Stmt, scID int64, nSec, nAu int, firstSec, firstAu int64) error {
	for range 2 + g.rnd.IntN(4) {
		if _, err := st.ExecContext(ctx, scID, "section", fmt.Sprintf("section-%d", firstSec+int64(g.rnd.IntN(nSec)))); err != nil {
			return err
		}
	}
	for range 3 + g.rnd.IntN(6) {
		if _, err := st.ExecContext(ctx, scID, "author", fmt.Sprintf("author-%d", firstAu+int64(g.rnd.IntN(nAu)))); err != nil {
			return err
		}
	}
	return nil
}
