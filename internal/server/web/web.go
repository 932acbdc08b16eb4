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
	"github.com/heraldnews/herald/internal/i18n"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/templates"
)

// Mux is where a route group mounts its routes: an *http.ServeMux, or
// internal/server's mux that also records every pattern mounted (so a
// test can send every method to every route the server has).
type Mux interface {
	Handle(pattern string, handler http.Handler)
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// MaxFormBytes bounds a form or JSON request body.
const MaxFormBytes = 16 << 10

// CSP is the Content-Security-Policy of the reader pages (the archive's
// included): no inline style or script (their stylesheet is a file,
// /assets/reader.css), images from herald or over https only (an archived
// article's),
// forms post only to herald, no page can be framed.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// ScriptCSP is CSP for a reader page that runs herald's own script files
// (the subscribe form's proof of work, the reader's time zone): scripts and
// fetches from herald only, never inline.
const ScriptCSP = CSP + "; script-src 'self'; connect-src 'self'"

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
	cat     *i18n.Catalog // the reader pages' text; nil for the editors' pages
}

// pageFiles are the template files of the reader pages, parsed into one set.
var pageFiles = []string{"pages.html.tmpl", "subscribe.html.tmpl", "archive.html.tmpl"}

// pageNames are the templates the handlers render; each must be defined.
var pageNames = []string{"confirm", "unsubscribe", "preferences", "erase", "undo", "message", "subscribe.html", "subscribed.html",
	"archive-index", "archive-edition"}

// adminFiles are the template files of the editors' pages, one set.
var adminFiles = []string{"admin.html.tmpl", "admin-pages.html.tmpl", "admin-send.html.tmpl",
	"admin-editions.html.tmpl", "admin-subscribers.html.tmpl", "admin-suppressions.html.tmpl"}

// adminNames are the editors' pages; each must be defined.
var adminNames = []string{"admin/login", "admin/message", "admin/dashboard", "admin/send", "admin/send-check",
	"admin/preview", "admin/editions", "admin/edition", "admin/confirm", "admin/subscribers", "admin/subscriber",
	"admin/import", "admin/audit", "admin/account", "admin/editors", "admin/suppressions", "admin/unsuppress"}

// LoadPages parses the reader page templates (built in, or from
// templates_dir) with the site language's message catalogue, and checks
// every page is defined, so a broken override is an error at start naming
// its file.
func LoadPages(cfg *config.Config, log *slog.Logger) (*Pages, error) {
	cat, err := i18n.Load(cfg.TemplatesDir, cfg.Site.Language)
	if err != nil {
		return nil, err
	}
	if cat.Fallback() && log != nil {
		log.Warn("no message catalogue for the site's language: readers see English", "site.language", cfg.Site.Language)
	}
	return load(cfg, log, pageFiles, pageNames, SetPageHeaders, cat)
}

// LoadAdminPages is LoadPages for the editors' pages, which carry the
// stricter AdminCSP.
func LoadAdminPages(cfg *config.Config, log *slog.Logger) (*Pages, error) {
	return load(cfg, log, adminFiles, adminNames, SetAdminHeaders, nil)
}

func load(cfg *config.Config, log *slog.Logger, files, names []string, headers func(http.Header), cat *i18n.Catalog) (*Pages, error) {
	if log == nil {
		log = slog.Default()
	}
	var funcs map[string]any
	site := templates.SiteOf(cfg.Site)
	if cat != nil {
		funcs = cat.FuncMap()
		site.Language = cat.Lang()
	}
	t, err := templates.ParseHTMLFuncs(cfg.TemplatesDir, funcs, files...)
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
	return &Pages{t: t, site: site, log: log, headers: headers, cat: cat}, nil
}

// Catalog is the reader pages' message catalogue (nil for the editors').
func (p *Pages) Catalog() *i18n.Catalog { return p.cat }

// Bytes executes page name with data into memory: a static page (the
// archive under build --out).
func (p *Pages) Bytes(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, data); err != nil {
		return nil, errors.New("templates: page " + name + ": " + err.Error())
	}
	return b.Bytes(), nil
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
	p.RenderCSP(w, status, name, data, "")
}

// RenderCSP is Render with another Content-Security-Policy (ScriptCSP);
// "" keeps the set's own.
func (p *Pages) RenderCSP(w http.ResponseWriter, status int, name string, data any, csp string) {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, data); err != nil {
		p.log.Error("page render failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.headers(w.Header())
	if csp != "" {
		w.Header().Set("Content-Security-Policy", csp)
	}
	if p.cat != nil {
		w.Header().Set("Content-Language", p.cat.Lang())
	}
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

// Problem is ProblemOf in the reader pages' language: the heading comes
// from the catalogue (problem.CODE), and so does a 500's message; a domain
// error's own message is the caller's to translate (it knows the
// sentinels).
func (p *Pages) Problem(err error) Problem {
	pr := ProblemOf(err)
	if p.cat == nil {
		return pr
	}
	code := model.ErrorCode(err)
	if _, ok := problems[code]; !ok {
		code = model.EINTERNAL
		pr.Message = p.cat.T("problem.internal_message")
	}
	pr.Heading = p.cat.T(problemKeys[code])
	return pr
}

// problemKeys are the catalogue keys of the problems' headings.
var problemKeys = map[string]string{
	model.EINVALID:  "problem.invalid",
	model.ENOTFOUND: "problem.not_found",
	model.EEXPIRED:  "problem.expired",
	model.ECONFLICT: "problem.conflict",
	model.EFINISHED: "problem.finished",
	model.EINTERNAL: "problem.internal",
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
