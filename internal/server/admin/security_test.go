package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/server/web"
)

// pages are every GET page behind the session.
var pages = []string{"/admin/", "/admin/send", "/admin/preview", "/admin/editions", "/admin/editions/1",
	"/admin/editions/1/cancel", "/admin/subscribers", "/admin/subscribers/1", "/admin/subscribers/import",
	"/admin/subscribers/export", "/admin/audit", "/admin/account", "/admin/editors", "/admin/preview/frame?digest=daily&email=r0@example.com"}

// posts are every state-changing route.
var posts = []string{"/admin/logout", "/admin/send/check", "/admin/send/test", "/admin/send", "/admin/editions/1/cancel",
	"/admin/editions/1/resume", "/admin/subscribers/import", "/admin/account", "/admin/account/timezone", "/admin/editors", "/admin/editors/remove"}

// No admin page is reachable without a session: each redirects to the
// login page (and back after it); the progress stream answers 401.
func TestNoPageWithoutSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(1)
	b := e.browser()
	for _, p := range pages {
		code, body, h := b.get(p)
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/admin/login?next=") {
			t.Errorf("%s without a session: %d %s\n%.200s", p, code, h.Get("Location"), body)
		}
	}
	if code, _, _ := b.get("/admin/editions/1/events"); code != http.StatusUnauthorized {
		t.Errorf("events without a session: %d", code)
	}
	// A session cookie that names no session is none.
	u, _ := url.Parse(e.srv.URL + "/admin/")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "herald_admin", Value: "made-up-token", Path: "/admin/"}})
	if code, _, _ := b.get("/admin/"); code != http.StatusSeeOther {
		t.Errorf("made-up session: %d", code)
	}
	// After login, next brings the editor back to the page they asked for.
	_, page, _ := b.get("/admin/login?next=%2Fadmin%2Feditions")
	tok := tokenRE.FindStringSubmatch(page)[1]
	code, _, h := b.post("/admin/login", url.Values{"token": {tok}, "email": {adminEmail}, "password": {password}, "next": {"/admin/editions"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/admin/editions" {
		t.Errorf("login with next: %d %s", code, h.Get("Location"))
	}
	// ... but never off the site.
	b2 := e.browser()
	_, page, _ = b2.get("/admin/login")
	tok = tokenRE.FindStringSubmatch(page)[1]
	_, _, h = b2.post("/admin/login", url.Values{"token": {tok}, "email": {adminEmail}, "password": {password}, "next": {"//evil.example/admin/"}})
	if h.Get("Location") != "/admin/" {
		t.Errorf("open redirect: %s", h.Get("Location"))
	}
}

// Every POST without the session's CSRF token is refused with 403, with
// or without a session; with the token it goes through.
func TestEveryPostNeedsCSRF(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(1)
	anon := e.browser()
	b := e.browser().mustLogin(adminEmail)
	for _, p := range posts {
		for _, form := range []url.Values{{}, {"csrf": {"wrong"}}} {
			if code, body, _ := b.post(p, form); code != http.StatusForbidden {
				t.Errorf("%s with csrf %q: %d\n%.300s", p, form.Get("csrf"), code, body)
			}
		}
		if code, _, _ := anon.post(p, url.Values{"csrf": {b.csrf}}); code != http.StatusForbidden {
			t.Errorf("%s without a session: %d", p, code)
		}
	}
	// The login form, before any session, needs its double-submit token.
	if code, _, _ := anon.post("/admin/login", url.Values{"email": {adminEmail}, "password": {password}}); code != http.StatusForbidden {
		t.Errorf("login without its token: %d", code)
	}
	// A cross-site POST is refused even with the token
	// (net/http.CrossOriginProtection, the second layer).
	if code, _, _ := b.post("/admin/send/check", url.Values{"csrf": {b.csrf}, "digest": {"daily"}}, "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", code)
	}
	if code, body, _ := b.post("/admin/send/check", url.Values{"csrf": {b.csrf}, "digest": {"daily"}}); code != http.StatusOK {
		t.Errorf("check with the token: %d\n%.500s", code, body)
	}
}

// An unknown address and a wrong password get the same answer; both are
// rate limited, per account and per client address.
func TestLoginSameAnswerAndRateLimits(t *testing.T) {
	e := newEnv(t, envOptions{yaml: "admin: { login_per_hour: 3, login_per_address: 8 }"})
	strip := regexp.MustCompile(`value="[^"]*"`)
	b := e.browser()
	c1, wrong := b.login(adminEmail, "not the password at all")
	c2, unknown := b.login("nobody@example.com", "not the password at all")
	norm := func(s, email string) string { return strip.ReplaceAllString(strings.ReplaceAll(s, email, "EMAIL"), "") }
	if c1 != http.StatusUnauthorized || c1 != c2 || norm(wrong, adminEmail) != norm(unknown, "nobody@example.com") {
		t.Fatalf("answers differ: %d vs %d\n%s\n---\n%s", c1, c2, wrong, unknown)
	}
	// Per account: the third failure fills adminEmail's hour; even the
	// right password is refused now, from another address too.
	b.login(adminEmail, "still not the password")
	if code, _ := b.login(adminEmail, "nor this one either"); code != http.StatusUnauthorized {
		t.Fatalf("third failure: %d", code)
	}
	if code, body := e.browser().login(adminEmail, password); code != http.StatusTooManyRequests || !strings.Contains(body, "Too many attempts") {
		t.Fatalf("after 3 failures: %d", code)
	}
	// Another account is not limited by it.
	if code, _ := e.browser().login(editorEmail, password); code != http.StatusSeeOther {
		t.Fatalf("other account: %d", code)
	}
	// Per address: 8 attempts in the hour (all browsers here share 127.0.0.1).
	for i := 7; i <= 8; i++ {
		if code, _ := e.browser().login(editorEmail, password); code != http.StatusSeeOther {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	if code, _ := e.browser().login(editorEmail, password); code != http.StatusTooManyRequests {
		t.Fatalf("9th attempt from one address: %d", code)
	}
	e.clock.Add(61 * time.Minute)
	if code, _ := e.browser().login(adminEmail, password); code != http.StatusSeeOther {
		t.Fatalf("an hour later: %d", code)
	}
}

// The session cookie: HttpOnly, SameSite=Lax, path /admin/, Secure when
// http.base_url is https; a new token at login (no fixation), so a token
// planted before login never becomes a session.
func TestSessionCookie(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1", "https://news.example.com"} {
		e := newEnv(t, envOptions{baseURL: base})
		b := e.browser()
		_, page, _ := b.get("/admin/login")
		tok := tokenRE.FindStringSubmatch(page)[1]
		u, _ := url.Parse(e.srv.URL + "/admin/")
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "herald_admin", Value: "planted-by-an-attacker", Path: "/admin/"}})
		code, _, h := b.post("/admin/login", url.Values{"token": {tok}, "email": {adminEmail}, "password": {password}})
		if code != http.StatusSeeOther {
			t.Fatalf("%s: login %d", base, code)
		}
		var set string
		for _, c := range h.Values("Set-Cookie") {
			if strings.HasPrefix(c, "herald_admin=") {
				set = c
			}
		}
		if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") || !strings.Contains(set, "Path=/admin/") ||
			strings.Contains(set, "Secure") != strings.HasPrefix(base, "https") || strings.Contains(set, "planted-by-an-attacker") {
			t.Errorf("%s: cookie %q", base, set)
		}
		if strings.HasPrefix(base, "http:") {
			first := b.cookie()
			b2 := e.browser().mustLogin(adminEmail)
			if first == "" || first == b2.cookie() {
				t.Errorf("two logins share a token: %q", first)
			}
		}
	}
}

// Idle and absolute timeouts end a session (by the injected clock).
func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t, envOptions{yaml: "admin: { session_idle: 30m, session_lifetime: 2h }"})
	b := e.browser().mustLogin(editorEmail)
	e.clock.Add(29 * time.Minute)
	if code, _, _ := b.get("/admin/"); code != http.StatusOK {
		t.Fatalf("29 minutes idle: %d", code)
	}
	e.clock.Add(31 * time.Minute)
	if code, _, _ := b.get("/admin/"); code != http.StatusSeeOther {
		t.Fatalf("31 minutes idle: %d", code)
	}
	// Used every 20 minutes, it still ends 2 hours after login.
	b = e.browser().mustLogin(editorEmail)
	for i := 0; i < 5; i++ {
		e.clock.Add(20 * time.Minute)
		if code, _, _ := b.get("/admin/"); code != http.StatusOK {
			t.Fatalf("after %d min: %d", 20*(i+1), code)
		}
	}
	e.clock.Add(21 * time.Minute)
	if code, _, _ := b.get("/admin/"); code != http.StatusSeeOther {
		t.Fatalf("past the lifetime: %d", code)
	}
}

// Logout ends the session in the database: the old cookie, replayed,
// signs nobody in.
func TestLogoutEndsSessionServerSide(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser().mustLogin(editorEmail)
	token := b.cookie()
	var rows int
	if err := e.st.R.QueryRow(`SELECT count(*) FROM editor_sessions`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("sessions stored: %d %v", rows, err)
	}
	if code, _, h := b.post("/admin/logout", url.Values{"csrf": {b.csrf}}); code != http.StatusSeeOther || h.Get("Location") != "/admin/login" {
		t.Fatalf("logout: %d", code)
	}
	if err := e.st.R.QueryRow(`SELECT count(*) FROM editor_sessions`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("sessions left after logout: %d %v", rows, err)
	}
	replay := e.browser()
	u, _ := url.Parse(e.srv.URL + "/admin/")
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "herald_admin", Value: token, Path: "/admin/"}})
	if code, _, _ := replay.get("/admin/"); code != http.StatusSeeOther {
		t.Fatalf("replayed cookie after logout: %d", code)
	}
}

// A password change ends every session of that editor: from the CLI, and
// from the account page (whose own session carries on under a new token).
func TestPasswordChangeEndsSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	a, b := e.browser().mustLogin(editorEmail), e.browser().mustLogin(editorEmail)
	other := e.browser().mustLogin(adminEmail)
	if _, err := e.eds.SetPassword(ctx, editorEmail, "another long password", editor.CLI); err != nil {
		t.Fatal(err)
	}
	for i, x := range []*browser{a, b} {
		if code, _, _ := x.get("/admin/"); code != http.StatusSeeOther {
			t.Errorf("session %d after the CLI's passwd: %d", i, code)
		}
	}
	if code, _, _ := other.get("/admin/"); code != http.StatusOK {
		t.Errorf("another editor's session: %d", code)
	}
	a.login(editorEmail, "another long password")
	b.login(editorEmail, "another long password")
	before := a.cookie()
	code, body, _ := a.post("/admin/account", url.Values{"csrf": {a.csrf}, "current": {"another long password"},
		"password": {password}, "repeat": {password}})
	if code != http.StatusOK || !strings.Contains(body, "Your password is changed") || a.cookie() == before {
		t.Fatalf("change on the page: %d %q→%q\n%.400s", code, before, a.cookie(), body)
	}
	if code, _, _ := a.get("/admin/"); code != http.StatusOK {
		t.Errorf("the changing session: %d", code)
	}
	if code, _, _ := b.get("/admin/"); code != http.StatusSeeOther {
		t.Errorf("the other session: %d", code)
	}
	// A wrong current password changes nothing.
	if code, _, _ := a.post("/admin/account", url.Values{"csrf": {a.csrf}, "current": {"wrong wrong wrong"},
		"password": {"yet another password"}, "repeat": {"yet another password"}}); code != http.StatusBadRequest {
		t.Errorf("wrong current password: %d", code)
	}
}

// Admin pages carry the strict policy; the preview frame its own.
func TestPolicies(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(1)
	b := e.browser()
	_, _, h := b.get("/admin/login")
	if h.Get("Content-Security-Policy") != web.AdminCSP || h.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("login page headers: %v", h)
	}
	if strings.Contains(web.AdminCSP, "unsafe-inline") || !strings.Contains(web.AdminCSP, "frame-ancestors 'none'") {
		t.Fatalf("admin policy: %s", web.AdminCSP)
	}
	b.mustLogin(editorEmail)
	for _, p := range []string{"/admin/", "/admin/send", "/admin/editions", "/admin/preview?digest=daily&email=r0@example.com"} {
		code, body, h := b.get(p)
		if code != http.StatusOK || h.Get("Content-Security-Policy") != web.AdminCSP {
			t.Errorf("%s: %d %s", p, code, h.Get("Content-Security-Policy"))
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
			t.Errorf("%s has inline script or style", p)
		}
	}
	code, body, h := b.get("/admin/preview/frame?digest=daily&email=r0@example.com")
	if code != http.StatusOK || h.Get("Content-Security-Policy") != web.FrameCSP || !strings.Contains(body, "Breaking") {
		t.Fatalf("frame: %d %s", code, h.Get("Content-Security-Policy"))
	}
	for _, want := range []string{"frame-ancestors 'self'", "sandbox", "img-src https:", "style-src 'unsafe-inline'"} {
		if !strings.Contains(web.FrameCSP, want) {
			t.Errorf("frame policy lacks %s", want)
		}
	}
	if _, body, _ := b.get("/admin/preview?digest=daily&email=r0@example.com"); !strings.Contains(body, `<iframe class="mail" sandbox src="/admin/preview/frame?`) {
		t.Errorf("the preview is not in a sandboxed frame")
	}
}

// An editor may send, an admin also manage subscribers and editors.
func TestRoles(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(1)
	ed := e.browser().mustLogin(editorEmail)
	ad := e.browser().mustLogin(adminEmail)
	for _, p := range []string{"/admin/subscribers", "/admin/subscribers/1", "/admin/subscribers/export", "/admin/editors"} {
		if code, _, _ := ed.get(p); code != http.StatusForbidden {
			t.Errorf("editor on %s: %d", p, code)
		}
		if code, _, _ := ad.get(p); code != http.StatusOK {
			t.Errorf("admin on %s: %d", p, code)
		}
	}
	if code, _, _ := ed.post("/admin/editors", url.Values{"csrf": {ed.csrf}, "email": {"x@example.com"}, "password": {password}}); code != http.StatusForbidden {
		t.Errorf("editor adding an editor: %d", code)
	}
	if _, body, _ := ed.get("/admin/"); strings.Contains(body, `href="/admin/subscribers"`) {
		t.Errorf("an editor's menu offers subscribers")
	}
}
