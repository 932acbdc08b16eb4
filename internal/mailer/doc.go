// Package mailer turns composed messages (model.Message) into MIME mail and
// delivers them. It is the only package that imports github.com/wneessen/go-mail.
//
// Data enters as a *model.Message through [Mailer.Send] or [WriteMessage].
// Send hands the message to one of the mailer's own connections and
// returns; the connection reports the result through the caller's record
// func, one message at a time and in order, and ends its next message (the
// final dot) only after that func has returned: a caller whose record
// makes the result durable gets design.md's crash bound, at most one
// repeat per open connection (conn.go). Messages leave over SMTP through
// one or more relays (smtp.relays, or the single smtp.host keys) — each
// relay's max_connections connections, dialled lazily, reused, paced by
// its rate_per_second; spread by weight; a failing relay benched and its
// messages moved to the others (relay.go, classify.go) — or, with
// smtp.transport: file, as one .eml file per message in smtp.file_dir.
// Each message comes back as a model.SendResult: accepted, temporary or
// permanent, with the server's reply and the relay. The mailer retries a
// message on another relay only when a relay failed as a relay; results
// for the caller are never retried here: the outbox in package digest does.
//
// Composition: go-mail's composer is the reference (compose.go,
// WriteMessage). On the send path the hand assembler (assemble.go) writes
// the same bytes from templates whose quoted-printable encoding is shared
// by every message of an article set (qp.go); tests prove the two equal on
// thousands of hostile messages. Headers are built only from validated or
// encoded values: nothing a subscriber, editor or CMS wrote can add a
// header line. Messages can be DKIM-signed (see dkim.go). go-mail's SMTP
// client dials, greets, does STARTTLS and AUTH; transactions pipeline the
// envelope when the relay offers PIPELINING (pipeline.go). DATA is the
// assembled message itself, cut where its lines that start with "." begin
// (the quoted-printable encoder notes them) and a "." put in each cut: on
// a plain connection it goes out from the message's buffer in one writev
// with its end of data, into a stuffed copy under TLS.
package mailer
