// Command bareserver is the Go stack's ceiling for serving one feed: it
// holds a file's bytes in memory and answers GET with them (200) or, when
// If-None-Match carries their ETag, with 304. bench/serve.sh runs it side
// by side with herald serve and nginx.
//
//	go run ./bench/bareserver -file public/feeds/all.rss -listen 127.0.0.1:8091
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	file := flag.String("file", "", "the bytes to serve")
	listen := flag.String("listen", "127.0.0.1:8091", "address")
	ctype := flag.String("type", "application/rss+xml; charset=utf-8", "Content-Type")
	timeouts := flag.Bool("timeouts", false, "set herald serve's http.Server timeouts (read 15s, header 5s, write 60s, idle 120s)")
	flag.Parse()
	body, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	hETag, hType, hLen := []string{etag}, []string{*ctype}, []string{strconv.Itoa(len(body))}
	srv := &http.Server{Addr: *listen}
	if *timeouts {
		srv.ReadTimeout, srv.ReadHeaderTimeout, srv.WriteTimeout, srv.IdleTimeout = 15*time.Second, 5*time.Second, 60*time.Second, 120*time.Second
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Etag"] = hETag
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h["Content-Type"], h["Content-Length"] = hType, hLen
		_, _ = w.Write(body)
	})
	log.Fatal(srv.ListenAndServe())
}
