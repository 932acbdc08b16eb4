package main

import (
	"database/sql"
	"fmt"
	"os"
	"time"

	_ "modernc.org/sqlite"
)

func main() {
	db, err := sql.Open("sqlite", "file:"+os.Args[1]+"?_pragma=query_only(1)")
	if err != nil {
		panic(err)
	}
	var v string
	db.QueryRow("select sqlite_version()").Scan(&v)
	fmt.Println("version", v)
	for _, q := range os.Args[2:] {
		rows, err := db.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			fmt.Println(err)
			continue
		}
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			fmt.Println("  ", d)
		}
		rows.Close()
		start := time.Now()
		rows, err = db.Query(q)
		if err != nil {
			fmt.Println(err)
			continue
		}
		n := 0
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			rows.Scan(ptrs...)
			n++
		}
		rows.Close()
		fmt.Println("  rows", n, time.Since(start))
	}
}
