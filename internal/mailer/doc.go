// Package mailer turns composed messages (model.Message) into MIME mail and
// delivers them. It is the only package that imports github.com/wneessen/go-mail.
//
// Data enters as a *model.Message through [Mailer.Send] (the digest.Sender
// interface) or [WriteMessage]. It leaves either over SMTP — a pool of
// smtp.max_connections connections, one per outbox worker, dialled lazily and
// reused across messages, paced by smtp.rate_per_second — or, with
// smtp.transport: file, as one .eml file per message in smtp.file_dir.
// Each attempt comes back as a model.SendResult: accepted, temporary or
// permanent, with the server's reply. The mailer never retries; the outbox
// in package digest does.
//
// Headers are built only from validated or encoded values: nothing a
// subscriber, editor or CMS wrote can add a header line (see compose.go).
// Messages can be DKIM-signed (see dkim.go for the settings and why).
package mailer
