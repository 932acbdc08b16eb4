// Package archive is the public, non-personalised web copy of each
// digest's editions: a page per edition at /archive/{digest}/{edition},
// where {edition} is a permanent slug (the slot's date in the digest's
// time zone, then -2, -3 for a day's later editions), an index of them,
// newest first and paginated, and feeds of editions in RSS, Atom and JSON
// Feed (through package feeds' encoders). A page shows every article the
// edition's readers were sent — the union of what its sent messages
// carried, grouped by section — and nothing of any reader: no name, no
// address, no token. A `delivery: local` digest's zone-group editions of
// one day share one page.
//
// Data enters through the Store interface declared here (internal/store:
// the pages each edition got when it was sent, the union of its articles,
// the articles themselves, which are read again each time, so a retracted
// one is gone at the next refresh). It leaves as page views that the
// reader pages' templates render (internal/server/reader serves them,
// with a short cache), feed bytes, and static files (static.go): written
// by `herald build --out`, and kept current by RunStatic under `herald
// serve` with feeds.output_dir.
package archive
