// Package i18n is the text readers see, in the site's language: a message
// catalogue per language (github.com/nicksnyder/go-i18n/v2), chosen by
// site.language, with dates, lists ("A, B and C") and plurals.
//
// The catalogues are YAML files of package templates (templates/i18n/en.yaml,
// de.yaml, es.yaml: one flat key per message, "digest.read_more"); a file of
// the same name under templates_dir/i18n/ overrides any of their keys, or
// adds a language herald does not ship. English is complete by definition and
// is the fallback for a key another catalogue lacks; a key English does not
// have is an error at start, so a typo in an override cannot go unnoticed.
//
// Templates call the catalogue through FuncMap ({{t "digest.read_more"}},
// {{t "confirm.lead" .}} with the page's data, {{date .Time}},
// {{list .Names}}); Go code through T, N, Date and List. Package web, digest
// and subscription load one Catalog each from the config at start.
package i18n

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/heraldnews/herald/templates"
)

// Base is the language every catalogue is checked against and falls back to.
const Base = "en"

// Shipped are the languages herald has complete catalogues for.
var Shipped = []string{"en", "de", "es"}

// Catalog is the reader-facing text of one language. It is safe for
// concurrent use.
type Catalog struct {
	lang     string // the BCP 47 tag the text is in
	fallback bool   // no catalogue for the configured language: English
	loc      *goi18n.Localizer
	ids      map[string]bool // English's keys: every key there is
}

// Lang is the language tag of the catalogue's text: the configured
// site.language, or "en" when herald has no catalogue for it. Pages put it
// in lang attributes and Content-Language.
func (c *Catalog) Lang() string { return c.lang }

// Fallback reports whether the configured language had no catalogue, so
// the text is English.
func (c *Catalog) Fallback() bool { return c.fallback }

// Load returns the catalogue of lang (site.language): the built-in one of
// its language (de-AT uses de), with the keys of templates_dir/i18n/LANG.yaml
// (dir may be "") laid over it, English filling any gap. A language with no
// catalogue at all falls back to English (Fallback reports it).
func Load(dir, lang string) (*Catalog, error) {
	tag, err := language.Parse(lang)
	if err != nil {
		return nil, fmt.Errorf("i18n: site.language %q: %w", lang, err)
	}
	bundle := goi18n.NewBundle(language.English)
	en, err := messages(dir, Base)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, m := range en {
		ids[m.ID] = true
	}
	if err := bundle.AddMessages(language.English, en...); err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	c := &Catalog{lang: tag.String(), ids: ids}
	base, _ := tag.Base()
	var own []*goi18n.Message
	for _, name := range candidates(tag.String(), base.String()) {
		if name == Base {
			own = nil // English is loaded already
			break
		}
		ms, err := messages(dir, name)
		if err != nil {
			return nil, err
		}
		own = append(own, ms...)
	}
	switch {
	case base.String() == Base:
	case len(own) == 0:
		c.lang, c.fallback = Base, true
	default:
		for _, m := range own {
			if !ids[m.ID] {
				return nil, fmt.Errorf("i18n: %s catalogue: key %q is not one herald has (see templates/i18n/en.yaml)", lang, m.ID)
			}
		}
		if err := bundle.AddMessages(tag, own...); err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
	}
	c.loc = goi18n.NewLocalizer(bundle, c.lang, Base)
	return c, nil
}

// candidates are the catalogue file names of a language, most general
// first so the specific one's keys win: "de", then "de-at".
func candidates(tag, base string) []string {
	out := []string{strings.ToLower(base)}
	if t := strings.ToLower(tag); t != out[0] {
		out = append(out, t)
	}
	return out
}

// messages reads catalogue name (en, de, de-at): the built-in file, then
// templates_dir's, whose keys replace the built-in ones. Neither existing
// is no messages, not an error.
func messages(dir, name string) ([]*goi18n.Message, error) {
	file := "i18n/" + name + ".yaml"
	var out []*goi18n.Message
	byID := map[string]int{}
	add := func(src []byte, from string) error {
		ms, err := goi18n.ParseMessageBytes(src, yaml.Unmarshal)
		if err != nil {
			return fmt.Errorf("i18n: %s: %w", from, err)
		}
		for _, m := range ms {
			if i, ok := byID[m.ID]; ok {
				out[i] = m
				continue
			}
			byID[m.ID] = len(out)
			out = append(out, m)
		}
		return nil
	}
	if b, err := fs.ReadFile(templates.FS, file); err == nil {
		if err := add(b, "templates/"+file+" (built in)"); err != nil {
			return nil, err
		}
	}
	if dir != "" {
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		switch {
		case err == nil:
			if err := add(b, p); err != nil {
				return nil, err
			}
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("i18n: %w", err)
		}
	}
	return out, nil
}

// localize renders message id with data (and count, for a plural
// message: nil otherwise).
func (c *Catalog) localize(id string, data, count any) (string, error) {
	if !c.ids[id] {
		return "", fmt.Errorf("i18n: no message %q", id)
	}
	s, err := c.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	var nf *goi18n.MessageNotFoundErr
	if errors.As(err, &nf) && s != "" {
		err = nil // English filled the gap
	}
	if err != nil {
		return "", fmt.Errorf("i18n: message %q: %w", id, err)
	}
	return s, nil
}

// T returns message id, its template run on data (optional: one value).
// A key that does not exist returns the key itself: the completeness and
// usage tests keep that from happening.
func (c *Catalog) T(id string, data ...any) string {
	var d any
	if len(data) > 0 {
		d = data[0]
	}
	s, err := c.localize(id, d, nil)
	if err != nil {
		return id
	}
	return s
}

// N is T for a message with plural forms, chosen by n; the template sees
// .Count (and data's fields when data is a map[string]any).
func (c *Catalog) N(id string, n int, data ...map[string]any) string {
	d := map[string]any{"Count": n}
	for _, m := range data {
		for k, v := range m {
			d[k] = v
		}
	}
	s, err := c.localize(id, d, n)
	if err != nil {
		return id
	}
	return s
}

// Date formats t's calendar date in the catalogue's language ("Thursday
// 26 November 2026", "Donnerstag, 26. November 2026"): the names and the
// pattern are catalogue entries. t is shown in its own location.
func (c *Catalog) Date(t time.Time) string {
	return c.T("date.long", map[string]string{
		"Weekday": c.T("date.weekday." + strconv.Itoa(int(t.Weekday()))),
		"Day":     strconv.Itoa(t.Day()),
		"Month":   c.T("date.month." + strconv.Itoa(int(t.Month()))),
		"Year":    strconv.Itoa(t.Year()),
	})
}

// List joins names as a sentence does: "A", "A and B", "A, B and C".
func (c *Catalog) List(names []string) string {
	switch n := len(names); n {
	case 0:
		return ""
	case 1:
		return names[0]
	default:
		return strings.Join(names[:n-1], c.T("list.comma")) + c.T("list.and") + names[n-1]
	}
}

// FuncMap is the catalogue for templates (html/template and text/template
// take the same map): t, tn, date, list and lang (the text's language tag). t and tn fail the template on
// an unknown key, so a typo is an error when the template is first run at
// start.
func (c *Catalog) FuncMap() map[string]any {
	return map[string]any{
		"t": func(id string, data ...any) (string, error) {
			var d any
			if len(data) > 0 {
				d = data[0]
			}
			return c.localize(id, d, nil)
		},
		"tn": func(id string, n int, data ...any) (string, error) {
			d := map[string]any{"Count": n}
			if len(data) > 0 {
				d["Data"] = data[0]
			}
			return c.localize(id, d, n)
		},
		"date": c.Date,
		"list": c.List,
		"lang": c.Lang,
	}
}
