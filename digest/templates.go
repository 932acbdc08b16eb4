package digest

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	texttemplate "text/template"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/templates"
)

// Templates are every template herald renders, parsed once at start.
type Templates struct {
	digestHTML  map[string]*htmltemplate.Template // by template key
	digestText  map[string]*texttemplate.Template
	subject     map[string]*texttemplate.Template // by digest name
	confirmHTML *htmltemplate.Template
	confirmText *texttemplate.Template
	pages       *htmltemplate.Template
}

// LoadTemplates parses the default templates, each replaced by a file of
// the same name in dir when dir is set and holds one, plus each digest's
// subject template. A template that does not parse is an error naming its
// file (or the digest's subject key).
func LoadTemplates(dir string, digests []config.Digest) (*Templates, error) {
	t := &Templates{
		digestHTML: map[string]*htmltemplate.Template{},
		digestText: map[string]*texttemplate.Template{},
		subject:    map[string]*texttemplate.Template{},
	}
	var err error
	if t.confirmHTML, err = parseHTML(dir, "confirm.html.tmpl"); err != nil {
		return nil, err
	}
	if t.confirmText, err = parseText(dir, "confirm.txt.tmpl"); err != nil {
		return nil, err
	}
	if t.pages, err = parseHTML(dir, "pages.html.tmpl"); err != nil {
		return nil, err
	}
	for _, name := range []string{"confirm", "unsubscribe", "preferences", "message"} {
		if t.pages.Lookup(name) == nil {
			return nil, fmt.Errorf("templates: %s: no template %q defined", source(dir, "pages.html.tmpl"), name)
		}
	}
	for i, d := range digests {
		key := d.Template
		if key == "" {
			key = "digest"
		}
		if _, ok := t.digestHTML[key]; !ok {
			h, err := parseHTML(dir, key+".html.tmpl")
			if err != nil {
				return nil, err
			}
			x, err := parseText(dir, key+".txt.tmpl")
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

// source names where a template file comes from, for errors.
func source(dir, name string) string {
	if dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "templates/" + name + " (built in)"
}

func readTemplate(dir, name string) (string, string, error) {
	if dir != "" {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err == nil {
			return string(b), p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", p, fmt.Errorf("templates: %w", err)
		}
	}
	b, err := fs.ReadFile(templates.FS, name)
	if err != nil {
		if dir != "" {
			return "", name, fmt.Errorf("templates: %s: not found in %s nor built in", name, dir)
		}
		return "", name, fmt.Errorf("templates: %s: not built in (set templates_dir)", name)
	}
	return string(b), "templates/" + name + " (built in)", nil
}

func parseHTML(dir, name string) (*htmltemplate.Template, error) {
	src, from, err := readTemplate(dir, name)
	if err != nil {
		return nil, err
	}
	t, err := htmltemplate.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", from, err)
	}
	return t, nil
}

func parseText(dir, name string) (*texttemplate.Template, error) {
	src, from, err := readTemplate(dir, name)
	if err != nil {
		return nil, err
	}
	t, err := texttemplate.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", from, err)
	}
	return t, nil
}
