// Package templates holds herald's default email and page templates,
// embedded in the binary, and the one loader every user of them goes
// through: a file of the same name in the config's templates_dir replaces
// the default, and a template that does not parse is an error at start
// naming its file. Package digest parses the digest templates, package
// subscription the confirmation email, internal/server/web the pages.
//
//   - digest.html.tmpl, digest.txt.tmpl: a digest's HTML part (html/template,
//     CSS inlined after rendering) and its plain-text part (text/template).
//     A digest whose template key is "weekly" uses weekly.html.tmpl and
//     weekly.txt.tmpl.
//   - confirm.html.tmpl, confirm.txt.tmpl: the double opt-in email.
//   - pages.html.tmpl: the pages behind /confirm, /unsubscribe and
//     /preferences (templates "confirm", "unsubscribe", "preferences",
//     "message").
//   - subscribe.html.tmpl: the subscribe form and its answer (templates
//     "subscribe.html" and "subscribed.html").
//   - admin.html.tmpl, admin-pages.html.tmpl, admin-send.html.tmpl,
//     admin-editions.html.tmpl, admin-subscribers.html.tmpl: the editors'
//     pages under /admin/ (templates "admin/login", "admin/dashboard", ...;
//     internal/server/web lists them). Their policy allows no inline style
//     or script: style with the classes of the admin's stylesheet.
package templates

import "embed"

// FS holds the default templates at its root.
//
//go:embed *.tmpl
var FS embed.FS
