package digest

import (
	"bytes"
	"fmt"
	"html"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/templates"
)

// Placeholders stand in for per-recipient values while a digest's parts
// are rendered (and the HTML's CSS inlined) once per distinct article set;
// each message then substitutes the real values, HTML-escaped in the HTML
// part. They are plain letters and digits, which every escaper and the
// inliner leave unchanged. Tokens are base64url, safe in any context.
const (
	phName  = "HERALDxPHxNAMEx7q"
	phEmail = "HERALDxPHxEMAILx7q"
	phUnsub = "HERALDxPHxUNSUBx7q"
	phMgmt  = "HERALDxPHxMGMTx7q"
)

// renderer renders digests for one edition. The HTML of each distinct
// (articles, follows, named or not) combination is rendered and inlined
// once and cached; a message only substitutes the recipient's values.
type renderer struct {
	cfg     *config.Config
	digest  config.Digest
	tmpl    *Templates
	date    string
	baseURL string
	// archiveURL is the "view in browser" link: the edition's archive page
	// (runEdition sets it), else the archive's index; "" without an archive.
	archiveURL string

	mu    sync.Mutex
	cache map[string]*rendered
}

type rendered struct {
	once       sync.Once
	html, text template
	subject    string
	err        error
}

// template is a rendered part cut at its placeholders: fixed[0] ph[0]
// fixed[1] ph[1] ... fixed[n]. Filling it in is one pass of copying.
type template struct {
	fixed []string
	ph    []int // index into the values given to fill
	size  int
}

var placeholders = [...]string{phName, phEmail, phUnsub, phMgmt}

func cut(s string) template {
	t := template{size: len(s)}
	for {
		at, which := -1, -1
		for i, p := range placeholders {
			if j := strings.Index(s, p); j >= 0 && (at < 0 || j < at) {
				at, which = j, i
			}
		}
		if at < 0 {
			t.fixed = append(t.fixed, s)
			return t
		}
		t.fixed = append(t.fixed, s[:at])
		t.ph = append(t.ph, which)
		s = s[at+len(placeholders[which]):]
	}
}

func (t template) fill(values *[len(placeholders)]string) string {
	var b strings.Builder
	n := t.size
	for _, v := range values {
		n += len(v)
	}
	b.Grow(n)
	for i, f := range t.fixed {
		b.WriteString(f)
		if i < len(t.ph) {
			b.WriteString(values[t.ph[i]])
		}
	}
	return b.String()
}

// maxCached bounds the per-edition cache of rendered article sets.
const maxCached = 4096

func newRenderer(cfg *config.Config, d config.Digest, t *Templates, editionDate time.Time) *renderer {
	return &renderer{
		cfg: cfg, digest: d, tmpl: t, baseURL: cfg.HTTP.BaseURL, archiveURL: archiveIndex(cfg, d),
		date:  t.cat.Date(editionDate.In(d.Location())),
		cache: map[string]*rendered{},
	}
}

// part is one recipient's rendering input.
type part struct {
	name, email       string
	follows           string
	unsubTok, mgmtTok string
}

// subject renders the digest's subject line for arts.
func (r *renderer) subject(arts []*ArticleView) (string, error) {
	d := SubjectData{Site: sanitize.Line(r.cfg.Site.Name), Title: sanitize.Line(r.digest.Title), Date: r.date, Count: len(arts)}
	if len(arts) > 0 {
		d.Top = arts[0].Title
	}
	if r.digest.Subject == config.DefaultSubject { // the catalogue words it
		return sanitize.Line(r.tmpl.cat.T("digest.subject", d)), nil
	}
	var b strings.Builder
	t := r.tmpl.subject[r.digest.Name]
	if t == nil {
		return "", fmt.Errorf("digest %s: no subject template", r.digest.Name)
	}
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("digest %s: subject: %w", r.digest.Name, err)
	}
	return sanitize.Line(b.String()), nil
}

func (r *renderer) data(arts []*ArticleView, subject string, p part) DigestData {
	site := templates.SiteOf(r.cfg.Site)
	site.Language = r.tmpl.cat.Lang()
	return DigestData{
		Site: site, SiteName: site.Name, Title: sanitize.Line(r.digest.Title), Subject: subject, Date: r.date, Count: len(arts),
		Sections: groupSections(r.localized(arts)), Subscriber: SubscriberView{Name: p.name, Email: p.email}, Email: p.email, Follows: p.follows,
		ManageURL:      r.baseURL + "/preferences?token=" + p.mgmtTok,
		UnsubscribeURL: r.baseURL + "/unsubscribe?token=" + p.unsubTok,
		ArchiveURL:     r.archiveURL,
		Images:         r.digest.ShowImages(),
	}
}

// localized returns copies of arts worded in the readers' language: the
// byline joined by the catalogue's "and", an article with no section under
// the catalogue's default section name.
func (r *renderer) localized(arts []*ArticleView) []*ArticleView {
	out := make([]*ArticleView, len(arts))
	for i, a := range arts {
		c := *a
		names := make([]string, len(a.Authors))
		for j, au := range a.Authors {
			names[j] = au.Name
		}
		c.Byline = r.tmpl.cat.List(names)
		if c.Section == "" {
			c.Section = r.tmpl.cat.T("digest.section_default")
		}
		out[i] = &c
	}
	return out
}

// render returns the subject, text and HTML of one recipient's digest.
func (r *renderer) render(arts []*ArticleView, p part) (subject, text, htmlOut string, err error) {
	var key strings.Builder
	for _, a := range arts {
		key.WriteString(strconv.FormatInt(a.ID, 36))
		key.WriteByte(',')
	}
	key.WriteString("|")
	key.WriteString(p.follows)
	if p.name != "" {
		key.WriteString("|n")
	}
	k := key.String()
	r.mu.Lock()
	c := r.cache[k]
	if c == nil {
		if len(r.cache) >= maxCached {
			clear(r.cache)
		}
		c = &rendered{}
		r.cache[k] = c
	}
	r.mu.Unlock()
	c.once.Do(func() {
		c.subject, c.err = r.subject(arts)
		if c.err != nil {
			return
		}
		ph := part{follows: p.follows, email: phEmail, unsubTok: phUnsub, mgmtTok: phMgmt}
		if p.name != "" {
			ph.name = phName
		}
		d := r.data(arts, c.subject, ph)
		var h string
		if h, c.err = r.inlineHTML(d); c.err != nil {
			return
		}
		var tb strings.Builder
		if c.err = r.tmpl.digestText[r.templateKey()].Execute(&tb, d); c.err != nil {
			c.err = fmt.Errorf("digest %s: text part: %w", r.digest.Name, c.err)
			return
		}
		c.html, c.text = cut(h), cut(tb.String())
	})
	if c.err != nil {
		return "", "", "", c.err
	}
	textVals := [len(placeholders)]string{p.name, p.email, p.unsubTok, p.mgmtTok}
	htmlVals := [len(placeholders)]string{html.EscapeString(p.name), html.EscapeString(p.email), p.unsubTok, p.mgmtTok}
	return c.subject, c.text.fill(&textVals), c.html.fill(&htmlVals), nil
}

func (r *renderer) templateKey() string {
	if r.digest.Template == "" {
		return "digest"
	}
	return r.digest.Template
}

// inlineHTML renders the HTML template and moves its CSS into style
// attributes.
func (r *renderer) inlineHTML(d DigestData) (string, error) {
	var b bytes.Buffer
	if err := r.tmpl.digestHTML[r.templateKey()].Execute(&b, d); err != nil {
		return "", fmt.Errorf("digest %s: HTML part: %w", r.digest.Name, err)
	}
	return templates.InlineCSS(b.String())
}
