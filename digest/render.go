package digest

import (
	"bytes"
	"container/list"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"hash/maphash"
	"html"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/gencache"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/templates"
)

// Placeholders stand in for per-recipient values while a digest's parts
// are rendered (and the HTML's CSS inlined) once per distinct article set;
// each message then substitutes the real values, HTML-escaped in the HTML
// part. They are plain letters and digits, which every escaper and the
// inliner leave unchanged. Tokens are base64url, safe in any context.
//
// Each renderer draws its own: the article text a CMS writes is rendered
// into the same parts, and a fixed placeholder written into a title or a
// link would take each reader's address or tokens there (to a site of the
// writer's choosing). A random part of 80 bits cannot be guessed.
type placeholderSet struct {
	prefix string
	names  [4]string // slot i+1: the name, the address, the unsubscribe and the manage token
}

func newPlaceholders() placeholderSet {
	var b [10]byte
	rand.Read(b[:]) // crypto/rand: never fails (Go 1.24)
	prefix := "HERALDx" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:])) + "x"
	return placeholderSet{prefix: prefix, names: [4]string{prefix + "NAMEx", prefix + "EMAILx", prefix + "UNSUBx", prefix + "MGMTx"}}
}

// renderer renders digests for one edition. The parts of each distinct
// (articles, follows, named or not) combination are rendered, inlined and
// cut into a shared model.Template once and cached; a message only fills
// in the recipient's values, and the mailer encodes each template's
// literal text once (model.Body).
//
// Memory: a template is cut at line ends and each line is interned, so the
// lines two article sets share (the masthead, the footer, an article's
// block) are one string, and the mailer shares their encoding the same
// way. A cached article set then costs its list of pieces (about 200, a
// few KB) rather than two copies of an 18 KB message, and the cache is a
// least-recently-used list bounded in bytes (renderCacheBytes), which holds
// every article set of a typical edition: a miss costs a render and a CSS
// inlining, milliseconds. When nearly every reader's set is their own
// (fewer than 1 lookup in reuseMin asks for a set asked for among the
// last ghostKeys, cached or not), entries are dead weight that still hold
// their parts' encodings, so the bound drops to lowReuseCacheBytes until
// sets repeat again. Reuse is counted against the recent keys, not the
// cache, so a small cache does not keep itself small.
type renderer struct {
	cfg     *config.Config
	digest  config.Digest
	tmpl    *Templates
	date    string
	baseURL string
	// archiveURL is the "view in browser" link: the edition's archive page
	// (runEdition sets it), else the archive's index; "" without an archive.
	archiveURL string

	mu         sync.Mutex
	cache      map[string]*list.Element // of *rendered
	lru        list.List                // most recently used first
	cacheBytes int
	// lookups and reused count recent lookups and those whose key is among
	// the last ghostKeys asked for (seen, ring), both halved every window
	// lookups (reuseWindow; tests lower it).
	lookups, reused, window int
	seen                    map[uint64]struct{}
	ring                    []uint64
	ringAt                  int
	seed                    maphash.Seed
	lines                   *gencache.Map[string] // interned lines
	ph                      placeholderSet
}

type rendered struct {
	key        string
	once       sync.Once
	html, text *model.Template
	subject    string
	err        error
	size       int // bytes charged to the cache; 0 until rendered
}

// cut makes s a template: literal text and a slot per placeholder (slot
// i+1 for r.ph.names[i]). Literal text is cut into runs of whole lines,
// a new run starting at each line that holds one of anchors (the article
// set's URLs), and each run is interned: an article's block is the same
// run in every article set that carries it, so a cached set costs a few
// dozen pieces and the text is stored (and encoded, by the mailer) once.
// Where the text is cut changes nothing but what is shared.
func (r *renderer) cut(s string, anchors []string) *model.Template {
	t := &model.Template{}
	for len(s) > 0 {
		at, which := -1, -1
		for from := 0; ; {
			i := strings.Index(s[from:], r.ph.prefix)
			if i < 0 {
				break
			}
			for k, p := range r.ph.names {
				if strings.HasPrefix(s[from+i:], p) {
					at, which = from+i, k
				}
			}
			if which >= 0 {
				break
			}
			from += i + len(r.ph.prefix)
		}
		lit := s
		if at >= 0 {
			lit = s[:at]
		}
		start := 0
		for pos := 0; pos < len(lit); {
			end := len(lit)
			if i := strings.IndexByte(lit[pos:], '\n'); i >= 0 {
				end = pos + i + 1
			}
			if pos > start && (pos == 0 || lit[pos-1] == '\n') && holdsAny(lit[pos:end], anchors) {
				t.Pieces = append(t.Pieces, model.Piece{Text: r.intern(lit[start:pos])})
				start = pos
			}
			pos = end
		}
		if start < len(lit) {
			t.Pieces = append(t.Pieces, model.Piece{Text: r.intern(lit[start:])})
		}
		if at < 0 {
			break
		}
		t.Pieces = append(t.Pieces, model.Piece{Slot: which + 1})
		s = s[at+len(r.ph.names[which]):]
	}
	return t
}

func holdsAny(line string, anchors []string) bool {
	for _, a := range anchors {
		if strings.Contains(line, a) {
			return true
		}
	}
	return false
}

// anchorsOf are the strings that mark an article's block: its URL as it
// appears in text and in HTML.
func anchorsOf(arts []*ArticleView) []string {
	out := make([]string, 0, 2*len(arts))
	for _, a := range arts {
		if len(a.URL) < 8 {
			continue
		}
		out = append(out, a.URL)
		if e := html.EscapeString(a.URL); e != a.URL {
			out = append(out, e)
		}
	}
	return out
}

// intern returns the one copy of a run of lines. Called with r.mu held.
func (r *renderer) intern(line string) string {
	if v, ok := r.lines.Get(line); ok {
		return v
	}
	// Templates keep their lines when the table forgets them; new ones
	// stop sharing with them.
	v := strings.Clone(line) // not a slice of the whole rendered part
	r.lines.Put(v, v, len(v))
	return v
}

// Cache bounds: the rendered article sets (pieces and the mailer's
// per-template encoding, charged at pieceBytes a piece) and the interned
// runs of lines (a generation: what is asked for again stays, so a small
// table keeps the article blocks in use; measured in docs/benchmarks.md,
// the worst case for memory).
const (
	renderCacheBytes   = 3 << 20
	lowReuseCacheBytes = 256 << 10
	lineInternBytes    = 256 << 10
	pieceBytes         = 64
	// reuseWindow and reuseMin: over the last lookups (about 2 ×
	// reuseWindow), fewer than 1 in reuseMin finding their set is low reuse.
	reuseWindow = 1024
	reuseMin    = 4
	ghostKeys   = 4096
)

func newRenderer(cfg *config.Config, d config.Digest, t *Templates, editionDate time.Time) *renderer {
	return &renderer{
		cfg: cfg, digest: d, tmpl: t, baseURL: cfg.HTTP.BaseURL, archiveURL: archiveIndex(cfg, d),
		date:  t.cat.Date(editionDate.In(d.Location())),
		cache: map[string]*list.Element{}, lines: gencache.New[string](lineInternBytes),
		ph: newPlaceholders(), window: reuseWindow, seen: map[uint64]struct{}{}, seed: maphash.MakeSeed(),
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
	subject, b, err := r.renderBody(arts, p)
	if err != nil {
		return "", "", "", err
	}
	return subject, b.Text.Fill(b.TextValues), b.HTML.Fill(b.HTMLValues), nil
}

// renderBody returns the subject and the shared parts of one recipient's
// digest, with their values.
func (r *renderer) renderBody(arts []*ArticleView, p part) (string, *model.Body, error) {
	var room [256]byte // most keys: a found entry costs no allocation
	key := room[:0]
	for _, a := range arts {
		key = append(strconv.AppendInt(key, a.ID, 36), ',')
	}
	key = append(append(key, '|'), p.follows...)
	if p.name != "" {
		key = append(key, "|n"...)
	}
	c := r.lookup(key)
	c.once.Do(func() { r.fill(c, arts, p) })
	if c.err != nil {
		return "", nil, c.err
	}
	return c.subject, &model.Body{
		Text: c.text, HTML: c.html,
		TextValues: []string{p.name, p.email, p.unsubTok, p.mgmtTok},
		HTMLValues: []string{html.EscapeString(p.name), html.EscapeString(p.email), p.unsubTok, p.mgmtTok},
	}, nil
}

// lookup returns the cache entry for key, adding an empty one.
func (r *renderer) lookup(key []byte) *rendered {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lookups++; r.lookups >= 2*r.window {
		r.lookups, r.reused = r.lookups/2, r.reused/2
	}
	if h := maphash.Bytes(r.seed, key); r.sawRecently(h) {
		r.reused++
	}
	if e := r.cache[string(key)]; e != nil {
		r.lru.MoveToFront(e)
		return e.Value.(*rendered)
	}
	c := &rendered{key: string(key)}
	r.cache[c.key] = r.lru.PushFront(c)
	return c
}

// fill renders an article set with placeholders for the recipient's values.
func (r *renderer) fill(c *rendered, arts []*ArticleView, p part) {
	if c.subject, c.err = r.subject(arts); c.err != nil {
		return
	}
	ph := part{follows: p.follows, email: r.ph.names[1], unsubTok: r.ph.names[2], mgmtTok: r.ph.names[3]}
	if p.name != "" {
		ph.name = r.ph.names[0]
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
	r.mu.Lock()
	defer r.mu.Unlock()
	anchors := anchorsOf(arts)
	c.html, c.text = r.cut(h, anchors), r.cut(tb.String(), anchors)
	c.size = 256 + len(c.key) + len(c.subject) + pieceBytes*(len(c.html.Pieces)+len(c.text.Pieces))
	if e := r.cache[c.key]; e == nil || e.Value != c {
		return // evicted while rendering
	}
	r.cacheBytes += c.size
	for limit := r.cacheLimit(); r.cacheBytes > limit && r.lru.Len() > 1; {
		old := r.lru.Back().Value.(*rendered)
		r.lru.Remove(r.lru.Back())
		delete(r.cache, old.key)
		r.cacheBytes -= old.size
	}
}

// cacheLimit is the cache's bound in bytes: renderCacheBytes, or
// lowReuseCacheBytes while few lookups repeat a recent set — and for the
// first window/16 lookups, before reuse shows: a cache that fills first
// and shrinks later has already set the process's peak (measured:
// docs/benchmarks.md, the worst case for memory). Called with r.mu held.
func (r *renderer) cacheLimit() int {
	if r.lookups < r.window/16 || r.reused*reuseMin < r.lookups {
		return lowReuseCacheBytes
	}
	return renderCacheBytes
}

// sawRecently reports whether h was among the last ghostKeys keys looked
// up, and remembers it. Called with r.mu held.
func (r *renderer) sawRecently(h uint64) bool {
	if _, ok := r.seen[h]; ok {
		return true
	}
	if len(r.ring) < ghostKeys {
		r.ring = append(r.ring, h)
	} else {
		delete(r.seen, r.ring[r.ringAt])
		r.ring[r.ringAt] = h
		r.ringAt = (r.ringAt + 1) % ghostKeys
	}
	r.seen[h] = struct{}{}
	return false
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
