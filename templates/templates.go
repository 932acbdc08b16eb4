// Package templates holds herald's default email and page templates,
// embedded in the binary, and the one loader every user of them goes
// through: a file of the same name in the config's templates_dir replaces
// the default, and a template that does not parse is an error at start
// naming its file. Package digest parses the digest templates, package
// subscription the confirmation email, internal/server/web the pages. The
// reader-facing templates call the site language's catalogue: {{t "key"}}.
//
//   - digest.html.tmpl, digest.txt.tmpl: a digest's HTML part (html/template,
//     CSS inlined after rendering) and its plain-text part (text/template).
//     A digest whose template key is "weekly" uses weekly.html.tmpl and
//     weekly.txt.tmpl.
//   - confirm.html.tmpl, confirm.txt.tmpl: the double opt-in email (also
//     for an active reader taking an unsubscribed digest again).
//   - manage.html.tmpl, manage.txt.tmpl: the link to the preferences page
//     a reader gets who asks to subscribe while already subscribed.
//   - pages.html.tmpl: the pages behind /confirm, /unsubscribe, /undo and
//     /preferences (templates "confirm", "unsubscribe", "undo",
//     "preferences", "erase", "message").
//   - subscribe.html.tmpl: the subscribe form and its answer (templates
//     "subscribe.html" and "subscribed.html").
//   - archive.html.tmpl: the digests' public archive (templates
//     "archive-index" and "archive-edition").
//   - reader.css: the reader pages' stylesheet, served as
//     /assets/reader.css (their policy allows no inline style).
//   - i18n/en.yaml, de.yaml, es.yaml: the message catalogues every
//     reader-facing sentence comes from (package internal/i18n); a file of
//     the same name under templates_dir/i18n/ overrides single keys.
//   - admin.html.tmpl, admin-pages.html.tmpl, admin-send.html.tmpl,
//     admin-editions.html.tmpl, admin-subscribers.html.tmpl: the editors'
//     pages under /admin/ (templates "admin/login", "admin/dashboard", ...;
//     internal/server/web lists them). Their policy allows no inline style
//     or script: style with the classes of the admin's stylesheet.
package templates

import "embed"

// FS holds the default templates at its root.
//
//go:embed *.tmpl *.css i18n/*.yaml
var FS embed.FS
