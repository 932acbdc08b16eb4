// Package web is what every herald HTTP package shares: the page template
// sets (reader pages and editors' pages, loaded through package templates,
// so templates_dir overrides them) with one set of security headers (each
// set with its Content-Security-Policy), the one mapping from
// domain error codes (model.Error) to HTTP statuses and pages, JSON
// answers, form limits, the client's address behind trusted proxies, and
// the per-client rate limiter.
//
// Handlers in internal/server/reader, internal/server/admin and
// internal/server/api use it;
// internal/server mounts them.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/templates"
)

// MaxFormBytes bounds a form or JSON request body.
const MaxFormBytes = 16 << 10

// CSP is the Content-Security-Policy of the reader pages: nothing loads
// from anywhere, forms post only to herald, no page can be framed.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"

// AdminCSP is the stricter policy of the editors' pages: no inline script
// or style at all (their CSS and JavaScript are files under /admin/static/),
// connections (the progress stream) and frames (the preview) only to
// herald, never framed themselves.
const AdminCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// FrameCSP is the policy of a previewed mail inside the admin's preview
// frame: the mail's inlined styles, images over https only, no script, a
// sandbox, and framed only by herald's own pages.
const FrameCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; font-src https:; " +
	"form-action 'none'; base-uri 'none'; sandbox; frame-ancestors 'self'"

// setSecurityHeaders sets the headers every HTML answer carries, with its
// policy.
func setSecurityHeaders(h http.Header, csp string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
	if strings.Contains(csp, "frame-ancestors 'self'") {
		h.Set("X-Frame-Options", "SAMEORIGIN")
	} else {
		h.Set("X-Frame-Options", "DENY")
	}
}

// SetPageHeaders sets the headers every reader page carries.
func SetPageHeaders(h http.Header) { setSecurityHeaders(h, CSP) }

// SetAdminHeaders sets the headers every editors' page carries.
func SetAdminHeaders(h http.Header) { setSecurityHeaders(h, AdminCSP) }

// SetFrameHeaders sets the headers of a previewed mail shown in a frame.
func SetFrameHeaders(h http.Header) { setSecurityHeaders(h, FrameCSP) }

// Pages renders a set of herald's HTML pages from one template set, with
// that set's security headers.
type Pages struct {
	t       *template.Template
	site    templates.Site
	log     *slog.Logger
	headers func(http.Header)
}

// pageFiles are the template files of the reader pages, parsed into one set.
var pageFiles = []string{"pages.html.tmpl", "subscribe.html.tmpl"}

// pageNames are the templates the handlers render; each must be defined.
var pageNames = []string{"confirm", "unsubscribe", "preferences", "message", "subscribe.html", "subscribed.html"}

// adminFiles are the template files of the editors' pages, one set.
var adminFiles = []string{"admin.html.tmpl", "admin-pages.html.tmpl", "admin-send.html.tmpl",
	"admin-editions.html.tmpl", "admin-subscribers.html.tmpl"}

// adminNames are the editors' pages; each must be defined.
var adminNames = []string{"admin/login", "admin/message", "admin/dashboard", "admin/send", "admin/send-check",
	"admin/preview", "admin/editions", "admin/edition", "admin/confirm", "admin/subscribers", "admin/subscriber",
	"admin/import", "admin/audit", "admin/account", "admin/editors"}

// LoadPages parses the reader page templates (built in, or from
// templates_dir) and checks every page is defined, so a broken override is
// an error at start naming its file.
func LoadPages(cfg *config.Config, log *slog.Logger) (*Pages, error) {
	return load(cfg, log, pageFiles, pageNames, SetPageHeaders)
}

// LoadAdminPages is LoadPages for the editors' pages, which carry the
// stricter AdminCSP.
func LoadAdminPages(cfg *config.Config, log *slog.Logger) (*Pages, error) {
	return load(cfg, log, adminFiles, adminNames, SetAdminHeaders)
}

func load(cfg *config.Config, log *slog.Logger, files, names []string, headers func(http.Header)) (*Pages, error) {
	if log == nil {
		log = slog.Default()
	}
	t, err := templates.ParseHTML(cfg.TemplatesDir, files...)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if t.Lookup(name) == nil {
			srcs := make([]string, len(files))
			for i, f := range files {
				srcs[i] = templates.Source(cfg.TemplatesDir, f)
			}
			return nil, errors.New("templates: " + strings.Join(srcs, " or ") + ": no template " + `"` + name + `"` + " defined")
		}
	}
	return &Pages{t: t, site: templates.SiteOf(cfg.Site), log: log, headers: headers}, nil
}

// Site is the site as the page templates see it.
func (p *Pages) Site() templates.Site { return p.site }

// Check executes the page name with data, writing nothing: handlers call it
// at start with sample data, so a template that parses but fails when run
// fails at start too.
func (p *Pages) Check(name string, data any) error {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, data); err != nil {
		return errors.New("templates: page " + name + ": " + err.Error())
	}
	return nil
}

// Render writes page name with data and status, with the page headers.
// The page is rendered to memory first, so a template error is a clean 500.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, data); err != nil {
		p.log.Error("page render failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.headers(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// Problem is how an error is shown to a client.
type Problem struct {
	Status  int
	Heading string // for pages
	Message string // safe to show: the error's own words for domain errors
}

// problems maps each domain error code to its HTTP status and page heading.
var problems = map[string]Problem{
	model.EINVALID:  {http.StatusBadRequest, "Something is not right", ""},
	model.ENOTFOUND: {http.StatusNotFound, "Not found", ""},
	model.EEXPIRED:  {http.StatusForbidden, "This link has expired", ""},
	model.ECONFLICT: {http.StatusConflict, "Busy", ""},
	model.EFINISHED: {http.StatusConflict, "Already finished", ""},
}

// ProblemOf maps err to its status, heading and message: a domain error
// (*model.Error) by its code with its own message; anything else is a 500
// whose details stay in the log.
func ProblemOf(err error) Problem {
	if p, ok := problems[model.ErrorCode(err)]; ok {
		p.Message = model.ErrorMessage(err)
		return p
	}
	return Problem{http.StatusInternalServerError, "Something went wrong", "Please try again in a few minutes."}
}

// JSON writes v as indented JSON with status code.
func JSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// JSONMessage writes {"error": msg} with status code.
func JSONMessage(w http.ResponseWriter, code int, msg string) {
	JSON(w, code, map[string]string{"error": msg})
}

// JSONError writes err as {"error": ...} with the status its code maps to;
// an internal error is logged and shown only as "see the server log".
func JSONError(w http.ResponseWriter, log *slog.Logger, err error) {
	p := ProblemOf(err)
	if p.Status == http.StatusInternalServerError {
		log.Error("request failed", "err", err)
		p.Message = "internal error; see the server log"
	}
	JSONMessage(w, p.Status, p.Message)
}
