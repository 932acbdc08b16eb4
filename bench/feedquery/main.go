// Command feedquery times the store reads behind `herald build` alone —
// store.Articles for the site feed and for every section and author feed,
// feeds.items rows each — without cleaning, encoding or writing, so a
// change to those queries can be measured on bench/'s databases.
//
//	go run ./bench/feedquery -db bench.db [-items 50] [-authors N] [-sections N]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

func main() {
	db := flag.String("db", "", "database (required)")
	items := flag.Int("items", 50, "rows per feed (feeds.items)")
	nSec := flag.Int("sections", -1, "read only the first N sections' feeds (-1: all)")
	nAu := flag.Int("authors", -1, "read only the first N authors' feeds (-1: all)")
	flag.Parse()
	if *db == "" {
		fmt.Fprintln(os.Stderr, "feedquery: -db is required")
		os.Exit(2)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, *db, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "feedquery:", err)
		os.Exit(1)
	}
	defer st.Close()
	secs, err := st.Sections(ctx)
	if err != nil {
		panic(err)
	}
	auths, err := st.Authors(ctx)
	if err != nil {
		panic(err)
	}
	if *nSec >= 0 && *nSec < len(secs) {
		secs = secs[:*nSec]
	}
	if *nAu >= 0 && *nAu < len(auths) {
		auths = auths[:*nAu]
	}
	run := func(name string, qs []model.ArticleQuery) {
		start := time.Now()
		rows := 0
		for _, q := range qs {
			q.Limit = *items
			arts, err := st.Articles(ctx, q)
			if err != nil {
				panic(err)
			}
			rows += len(arts)
		}
		d := time.Since(start)
		fmt.Printf("%-8s %5d feeds %7d rows %8.3fs %7.2fms/feed\n", name, len(qs), rows, d.Seconds(),
			d.Seconds()*1000/float64(max(len(qs), 1)))
	}
	run("site", []model.ArticleQuery{{}})
	qs := make([]model.ArticleQuery, len(secs))
	for i, s := range secs {
		qs[i].SectionID = s.ID
	}
	run("sections", qs)
	qs = make([]model.ArticleQuery, len(auths))
	for i, a := range auths {
		qs[i].AuthorID = a.ID
	}
	run("authors", qs)
}
