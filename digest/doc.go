// Package digest plans and sends email digests: editions, per-subscriber
// article selection, rendering, the outbox and its send loop, and the
// subscriber pages behind the links in mail.
//
// Data enters as articles and subscriptions through the Store interface this
// package declares (implemented by internal/store) and leaves as composed
// model.Message values handed to a Sender (implemented by internal/mailer).
// Neither package is imported here; cmd/herald wires them together.
//
// # An edition
//
// SendNow, RunSlot and Resume work under the digest's lease (one row in
// edition_leases, renewed while working, taken over once expired or when
// its holder is a dead process on this host), so the daemon, send-now and
// the API never work one digest at once. An edition freezes its window
// (since, cutoff] when created. Planning pages through the active
// subscriptions by id (PageSize at a time): for each page it loads what
// those subscribers already received, selects their articles (follows are
// sections ∪ authors, none means everything; minus received; newest first;
// capped at max_articles; fewer than min_articles is a skipped delivery)
// and inserts the page's deliveries with INSERT OR IGNORE while moving the
// planning cursor, in one transaction. Memory is one page, whatever the
// number of subscribers, and a planner that stops resumes at its cursor.
// The edition is sent while it is planned (startPlan, planWatch; local
// planning too): the first pass takes each page once it is written and
// ends once planning has; the edition moves from planning to sending
// after its last page, and a page is refused once an editor cancelled it.
//
// # Delivery at each reader's local time
//
// A `delivery: local` digest's slots come per zone group (RunScheduled with
// a scheduler.Slot whose Zone is set): the readers of one timezone, plus,
// for the digest's own timezone, those of unknown zone. A group's edition
// records its Zone, takes the lease lease.Part(digest, zone) (groups run
// side by side; send-now's whole-digest lease excludes them all), resumes
// its own unfinished edition first, and is not made at all when nobody
// reads in the zone. Planning (local.go) walks the group zone by zone in
// subscriber id order and gives each reader their own window: from their
// cursor to the cutoff, at most the lookback back (readerWindow). A
// reader who moved from another group is passed by while their last
// scheduled digest is less than ZoneChangeGap old, and otherwise reaches
// back to it. A manual edition covers at least its usual window and moves
// every cursor too (unless it is filtered by --section or --author). The
// cursor moves in the transaction that records the delivery, and only if
// it is still what the planner read, so two groups racing over a reader
// who just moved plan them once.
//
// # Sending and the crash window
//
// A pass pages through the due deliveries; GOMAXPROCS renderers compose
// messages and hand them to the Mailer (internal/mailer), whose
// connections send them. Each connection reports a result through the
// record func the outbox gave it, on its own goroutine, and that func
// returns only once the result is recorded (marks.add: one write to the
// edition's journal; group commit: results that come meanwhile are
// recorded together). A delivery is marked sent, with its Message-ID,
// time, server reply, relay and the articles it carried (its article_ids,
// which selection reads), only after the server accepted it. The mailer
// sends a connection's next message only after the previous record
// returned; so at any instant a connection has at most one accepted
// message not yet recorded, and a
// crash (or SIGKILL) repeats at most one message per open connection,
// summed over relays: design.md's bound, checked by internal/proving's
// crash test. Those deliveries are still pending in the database; the next
// send-now resumes the edition and sends them again with the same
// Message-ID (derived from the edition and subscriber with an HMAC of the
// secret). Every other delivery is sent exactly once, except a message
// whose connection broke after its final dot (ambiguous: retried and
// counted). Temporary failures (4xx, network, ambiguous) are retried with
// backoff and jitter until smtp.max_attempts; permanent ones fail with the
// reply recorded, and a 5.1.x reply marks the subscriber bounced.
//
// # Rendering
//
// Templates (package templates, overridable from templates_dir) are parsed
// and executed once with sample data at New, so a broken one fails at
// start. A digest's HTML and text parts are rendered once per distinct
// article set (and named or unnamed reader) with placeholders for the
// recipient's name, address and tokens; the HTML's CSS is inlined then
// with go-premailer. The result is cut into a model.Template (runs of
// lines, interned, split at each article's URL, so article sets share
// their text) and cached in a byte-bounded LRU, whose bound drops to
// 256 KiB while readers' sets do not repeat (every entry would be dead
// weight). A message is the article set's templates with the reader's
// values (model.Body): the mailer encodes each template's text once and
// copies it into every message.
package digest
