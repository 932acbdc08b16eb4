package digest

import (
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/i18n"
	"github.com/heraldnews/herald/templates"
)

// Templates are the digests' templates, parsed once at start: each
// template key's HTML and text parts, and each digest's subject line.
type Templates struct {
	digestHTML map[string]*htmltemplate.Template // by template key
	digestText map[string]*texttemplate.Template
	subject    map[string]*texttemplate.Template // by digest name
	cat        *i18n.Catalog                     // the readers' language
}

// LoadTemplates parses the digest templates (package templates' loader:
// a file of the same name in dir replaces the default) and each digest's
// subject, with English text. A template that does not parse is an error
// naming its file (or the digest's subject key).
func LoadTemplates(dir string, digests []config.Digest) (*Templates, error) {
	return LoadTemplatesLang(dir, i18n.Base, digests)
}

// LoadTemplatesLang is LoadTemplates with the message catalogue of lang
// (site.language): the templates' {{t "digest.read_more"}}, dates, bylines
// and the default subject are in that language.
func LoadTemplatesLang(dir, lang string, digests []config.Digest) (*Templates, error) {
	cat, err := i18n.Load(dir, lang)
	if err != nil {
		return nil, err
	}
	t := &Templates{
		digestHTML: map[string]*htmltemplate.Template{},
		digestText: map[string]*texttemplate.Template{},
		subject:    map[string]*texttemplate.Template{},
		cat:        cat,
	}
	funcs := cat.FuncMap()
	for i, d := range digests {
		key := d.Template
		if key == "" {
			key = "digest"
		}
		if _, ok := t.digestHTML[key]; !ok {
			h, err := templates.ParseHTMLFuncs(dir, funcs, key+".html.tmpl")
			if err != nil {
				return nil, err
			}
			x, err := templates.ParseTextFuncs(dir, funcs, key+".txt.tmpl")
			if err != nil {
				return nil, err
			}
			t.digestHTML[key], t.digestText[key] = h, x
		}
		subj, err := texttemplate.New("subject").Option("missingkey=error").Parse(d.Subject)
		if err != nil {
			return nil, fmt.Errorf("templates: digests[%d].subject: %w", i, err)
		}
		t.subject[d.Name] = subj
	}
	return t, nil
}
