// Package feeds builds herald's syndication feeds — RSS 2.0, Atom 1.0
// (RFC 4287) and JSON Feed 1.1 — for the whole site, each section and each
// author, and delivers them two ways: a static writer (Writer) for
// `herald build` and an http.Handler with a byte-bounded cache and
// conditional GET for `herald serve`, each feed with RFC 5005 archive
// pages when Options.Archives is set. In the daemon one Refresher keeps
// both current: it reads the recorded changes once, builds each touched
// feed once, hands the bytes to the cache and the files, and pings the
// WebSub hubs.
//
// Data enters through the Source interface (implemented by the store):
// published articles, sections, authors and the recorded content changes.
// Every article passes through package sanitize before encoding, and is
// encoded once per format into fragments every feed of a run shares
// (item.go), or straight into the one document that holds it; encode.go
// lays out the documents. Data leaves as encoded bytes: files
// under an output directory, HTTP responses, and WebSub pings.
//
// Files: builder.go (feeds and their articles), run.go (one pass over
// many feeds: each article read, cleaned and encoded once while needed,
// the plan of author feeds), shared.go (what a run shares), item.go (an
// article's encoded entry), ids.go (Atom ids), encode.go (documents),
// escape.go and jsonenc.go (XML and JSON writing), archive.go,
// archive_serve.go and archive_write.go (RFC 5005 archive pages),
// handler.go (serving), conditional.go (validators, Accept-Encoding),
// cache.go (routes, lazy fill, eviction), lastmod.go (ETag and
// Last-Modified state), static.go and files.go (files, durable batches),
// tracker.go (recorded changes), refresh.go (the Refresher), websub.go
// (hub pings).
package feeds
