// Package feeds builds herald's syndication feeds — RSS 2.0, Atom 1.0
// (RFC 4287) and JSON Feed 1.1 — for the whole site, each section and each
// author, and delivers them two ways: a static writer (Writer) for
// `herald build` and an http.Handler with a byte-bounded cache and
// conditional GET for `herald serve`.
//
// Data enters through the Source interface (implemented by the store):
// published articles, sections, authors and the recorded content changes.
// Every article passes through package sanitize before encoding. The
// encoders extend github.com/gorilla/feeds through its exported structs,
// filling the gaps listed in encode.go. Data leaves as encoded bytes: files
// under an output directory, or HTTP responses.
package feeds
