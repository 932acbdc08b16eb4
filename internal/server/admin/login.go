package admin

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
)

// loginCookie carries the login form's double-submit token: before a
// session exists, the form proves it came from herald by echoing it.
const loginCookie = "herald_login"

type loginPage struct {
	Page
	Email, Next, Token, Error string
}

// loginForm shows the login form (or the dashboard, when signed in).
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.session(r); ok {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	h.showLogin(w, r, http.StatusOK, "", "")
}

func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request, status int, email, problem string) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/admin/login", HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	next := r.FormValue("next")
	if !safeNext(next) {
		next = ""
	}
	p := h.pageOf(nil, "Log in", "")
	h.render(w, r, nil, status, "admin/login", loginPage{Page: p, Email: email, Next: next, Token: tok, Error: problem})
}

// safeNext accepts only a path inside /admin/ to return to after login.
func safeNext(s string) bool {
	return strings.HasPrefix(s, "/admin/") && !strings.HasPrefix(s, "//") && !strings.ContainsAny(s, "\\\r\n")
}

// login checks the form: its double-submit token, the rate limits (per
// client address, every attempt; per account, failures), then the
// password. An unknown address and a wrong password get one answer.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	c, err := r.Cookie(loginCookie)
	form := r.PostFormValue("token")
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		h.refuse(w, http.StatusForbidden, "This login form has expired or did not come from herald. Reload the page and try again.")
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	account := strings.ToLower(email)
	if len(account) > 254 {
		account = account[:254]
	}
	if !h.perAddr.Allow(web.ClientIP(r, h.opt.TrustedProxies)) || !h.perAcct.Allowed(account) {
		w.Header().Set("Retry-After", "3600")
		h.showLogin(w, r, http.StatusTooManyRequests, email, "Too many attempts. Wait a while, then try again.")
		return
	}
	ed, err := h.opt.Accounts.Authenticate(r.Context(), email, r.PostFormValue("password"), h.client(r))
	if err != nil {
		if model.ErrorCode(err) != model.EINVALID {
			h.fail(w, r, nil, err)
			return
		}
		h.perAcct.Hit(account)
		h.showLogin(w, r, http.StatusUnauthorized, email, model.ErrorMessage(err))
		return
	}
	if err := h.startSession(r, ed); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/admin/login", MaxAge: -1, Expires: time.Unix(1, 0)})
	next := r.PostFormValue("next")
	if !safeNext(next) {
		next = "/admin/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session in the database, not only in the browser.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, rq *request) {
	if err := h.sm.Destroy(r.Context()); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.opt.Accounts.Record(r.Context(), rq.actor(), "logout", string(rq.ed.Email), "")
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}
