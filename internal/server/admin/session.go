package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/templates"
)

// Session keys.
const (
	keyEditor = "editor" // int64: the editor's id
	keyGen    = "gen"    // int64: the editor's session generation at login
	keyCSRF   = "csrf"   // string: the token every POST carries
	keyLogin  = "login"  // int64: unix time of the login (absolute timeout)
	keySeen   = "seen"   // int64: unix time of the last request (idle timeout)
)

// request is a signed-in editor's request.
type request struct {
	ed     model.Editor
	csrf   string
	client string
}

// actor is the editor as the audit log names them.
func (rq *request) actor() editor.Actor { return editor.ActorOf(rq.ed, rq.client) }

type pageFunc func(w http.ResponseWriter, r *http.Request, rq *request)

// page wraps a page: a valid session or a redirect to the login page
// (a POST or the progress stream without one is refused), the CSRF token
// on every POST, and with adminOnly the admin role.
func (h *Handler) page(adminOnly bool, fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq, ok := h.session(r)
		if !ok {
			if r.Method != http.MethodGet {
				h.refuse(w, http.StatusForbidden, "Your session has ended. Log in again.")
				return
			}
			if strings.HasSuffix(r.URL.Path, "/events") {
				http.Error(w, "log in", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody(r))
			got := r.PostFormValue("csrf")
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(rq.csrf)) != 1 {
				h.refuse(w, http.StatusForbidden, "This form has expired or did not come from herald. Go back, reload the page and try again.")
				return
			}
		}
		if adminOnly && !rq.ed.IsAdmin() {
			h.render(w, r, rq, http.StatusForbidden, "admin/message", messagePage{Page: h.pageOf(rq, "Admins only", ""),
				Message: "Only an admin may manage subscribers and editor accounts."})
			return
		}
		fn(w, r, rq)
	})
}

// maxBody bounds a POST body: a CSV upload may be large, a form is small.
func maxBody(r *http.Request) int64 {
	if r.URL.Path == "/admin/subscribers/import" {
		return 64 << 20
	}
	return web.MaxFormBytes
}

// session returns the signed-in editor, ending a session that has gone
// idle, outlived its lifetime, lost its account or predates a password
// change.
func (h *Handler) session(r *http.Request) (*request, bool) {
	ctx := r.Context()
	id := h.sm.GetInt64(ctx, keyEditor)
	if id == 0 {
		return nil, false
	}
	now := h.now().Unix()
	end := func() (*request, bool) {
		_ = h.sm.Destroy(ctx)
		return nil, false
	}
	if now-h.sm.GetInt64(ctx, keyLogin) > int64(h.cfg.Admin.SessionLifetime.D().Seconds()) ||
		now-h.sm.GetInt64(ctx, keySeen) > int64(h.cfg.Admin.SessionIdle.D().Seconds()) {
		return end()
	}
	ed, err := h.opt.Accounts.Editor(ctx, id)
	if err != nil {
		if model.ErrorCode(err) != model.ENOTFOUND {
			h.log.Error("admin session: loading the editor failed", "editor", id, "err", err)
		}
		return end()
	}
	if ed.SessionGen != h.sm.GetInt64(ctx, keyGen) {
		return end()
	}
	h.sm.Put(ctx, keySeen, now)
	return &request{ed: ed, csrf: h.sm.GetString(ctx, keyCSRF), client: h.client(r)}, true
}

// stillSignedIn reports whether the session a long request (the progress
// stream) began with still stands: not logged out (its row is gone), not
// idle past admin.session_idle (watching a stream is not activity: the
// stream saves the session once, when it opens), not past its lifetime,
// its account not removed, and no password change since. It reads the
// store, not the request's copy of the session; a read that fails keeps
// the stream going.
func (h *Handler) stillSignedIn(r *http.Request, rq *request) bool {
	ctx := r.Context()
	// Load the session afresh: a context that carries none (Load keeps a
	// session already loaded), bounded like any request's read.
	fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stored, err := h.sm.Load(fctx, h.sm.Token(ctx))
	if err != nil {
		return true // the store could not say: the next reading asks again
	}
	if h.sm.GetInt64(stored, keyEditor) != rq.ed.ID { // logged out: the row is gone (or idle past session_idle)
		return false
	}
	if h.now().Unix()-h.sm.GetInt64(stored, keyLogin) > int64(h.cfg.Admin.SessionLifetime.D().Seconds()) {
		return false
	}
	ed, err := h.opt.Accounts.Editor(ctx, rq.ed.ID)
	if err != nil {
		return model.ErrorCode(err) != model.ENOTFOUND // an account removed ends it; a failed read does not
	}
	return ed.SessionGen == h.sm.GetInt64(stored, keyGen)
}

// startSession signs ed in on a new session token (no fixation: whatever
// token the browser had is replaced) with a new CSRF token.
func (h *Handler) startSession(r *http.Request, ed model.Editor) error {
	ctx := r.Context()
	if err := h.sm.RenewToken(ctx); err != nil {
		return err
	}
	now := h.now().Unix()
	h.sm.Put(ctx, keyEditor, ed.ID)
	h.sm.Put(ctx, keyGen, ed.SessionGen)
	h.sm.Put(ctx, keyCSRF, randomToken())
	h.sm.Put(ctx, keyLogin, now)
	h.sm.Put(ctx, keySeen, now)
	return nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Page is what every admin page's template receives (embedded in its data).
type Page struct {
	Site   templates.Site
	Title  string
	Nav    string // the menu entry to mark current
	Editor model.Editor
	CSRF   string
	Notice string // a line to show above the page
}

func (h *Handler) pageOf(rq *request, title, nav string) Page {
	p := Page{Site: h.opt.Pages.Site(), Title: title, Nav: nav}
	if rq != nil {
		p.Editor, p.CSRF = rq.ed, rq.csrf
	}
	return p
}

type messagePage struct {
	Page
	Message string
	Error   bool
}

// render writes an admin page.
func (h *Handler) render(w http.ResponseWriter, _ *http.Request, _ *request, status int, name string, data any) {
	h.opt.Pages.Render(w, status, name, data)
}

// fail shows err as a page: a domain error with its own words, anything
// else as a 500 whose details stay in the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	p := web.ProblemOf(err)
	if p.Status == http.StatusInternalServerError {
		h.log.Error("admin page failed", "path", r.URL.Path, "err", err)
	}
	h.render(w, r, rq, p.Status, "admin/message", messagePage{Page: h.pageOf(rq, p.Heading, ""), Message: p.Message, Error: true})
}

// refuse answers a request refused before any page could be rendered.
func (h *Handler) refuse(w http.ResponseWriter, status int, msg string) {
	h.opt.Pages.Render(w, status, "admin/message", messagePage{Page: h.pageOf(nil, http.StatusText(status), ""), Message: msg, Error: true})
}
