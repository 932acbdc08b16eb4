// Package admin is the editors' web UI under /admin/: login and logout,
// the dashboard, send-now with a check before anything goes out, previews
// of any digest for any reader, editions with live progress, subscribers
// with import and export, the audit log, an editor's own password and (for
// admins) the editor accounts. One file per page or action.
//
// Pages are server-rendered from the admin template set (web.LoadAdminPages,
// overridable from templates_dir) and work without JavaScript; the only
// script, static/admin.js, turns an edition's progress live through
// Server-Sent Events read from the database, so editions started by the
// CLI or the scheduler show too. The Content-Security-Policy allows no
// inline script or style (web.AdminCSP); a previewed mail is served by its
// own frame endpoint with its own policy (web.FrameCSP) into a sandboxed
// iframe.
//
// Sessions are github.com/alexedwards/scs/v2 backed by herald's database
// (store.Sessions): HttpOnly, SameSite=Lax, Secure when http.base_url is
// https, renewed at login, idle and absolute timeouts, ended server-side at
// logout and, for every session of an editor, when their password changes
// (the session's generation no longer matches the account's). Every POST
// carries the session's CSRF token, checked here, and
// net/http.CrossOriginProtection guards /admin/ as a second layer; the
// login form, before any session, carries a double-submit token. Logins
// are rate limited per client address and per account, and an unknown
// address gets the answer a wrong password gets.
//
// The rules live elsewhere, reached through the interfaces declared in
// admin.go: package digest (dry runs, send-now, previews, samples, resume,
// cancel), package editor (accounts, the audit log), package subscription
// (import, export) and internal/store (the pages' reads, keyset-paged so a
// page costs the same at a million subscribers as at a thousand).
package admin
