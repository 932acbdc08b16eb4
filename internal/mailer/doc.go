// Package mailer turns composed messages (model.Message) into MIME mail and
// delivers them. It is the only package that imports github.com/wneessen/go-mail.
//
// Data enters as a *model.Message through [Mailer.Send] or [WriteMessage].
// Send hands the message to one of the mailer's own connections and returns;
// the connection reports the result through the caller's record func and
// takes its next message only after that func returns. Messages leave either
// over SMTP — a pool of smtp.max_connections connections owned by the
// mailer, dialled lazily and reused across messages, paced by
// smtp.rate_per_second — or, with
// smtp.transport: file, as one .eml file per message in smtp.file_dir.
// Each attempt comes back as a model.SendResult: accepted, temporary or
// permanent, with the server's reply. The mailer never retries; the outbox
// in package digest does.
//
// Headers are built only from validated or encoded values: nothing a
// subscriber, editor or CMS wrote can add a header line (see compose.go).
// Messages can be DKIM-signed (see dkim.go for the settings and why).
package mailer
