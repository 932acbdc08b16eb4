package templates

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	texttemplate "text/template"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/sanitize"
)

// Site is the site as every template sees it ({{.Site.Name}} and so on).
type Site struct {
	Name, URL, Language, Logo, PostalAddress string
}

// SiteOf returns the template view of the site config: names pass
// sanitize.Line, so no template can be made to print a line break from them.
func SiteOf(c config.Site) Site {
	return Site{Name: sanitize.Line(c.Name), URL: c.URL, Language: c.Language, Logo: c.Logo, PostalAddress: sanitize.Line(c.PostalAddress)}
}

// Source names where the template file name comes from, for errors: the
// file in dir when dir holds one, else the built-in default.
func Source(dir, name string) string {
	if dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "templates/" + name + " (built in)"
}

// read returns the text of template file name — from dir when dir is set
// and holds it, else built in — and where it came from.
func read(dir, name string) (src, from string, err error) {
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
	b, err := fs.ReadFile(FS, name)
	if err != nil {
		if dir != "" {
			return "", name, fmt.Errorf("templates: %s: not found in %s nor built in", name, dir)
		}
		return "", name, fmt.Errorf("templates: %s: not built in (set templates_dir)", name)
	}
	return string(b), "templates/" + name + " (built in)", nil
}

// ParseHTMLFuncs parses the named files, each from dir or built in, into
// one html/template set named after the first, with missingkey=error and
// funcs (the message catalogue's t, date, list: package i18n's FuncMap;
// nil for none). An error names the file that failed.
func ParseHTMLFuncs(dir string, funcs map[string]any, names ...string) (*htmltemplate.Template, error) {
	var t *htmltemplate.Template
	for _, name := range names {
		src, from, err := read(dir, name)
		if err != nil {
			return nil, err
		}
		if t == nil {
			t = htmltemplate.New(name).Option("missingkey=error").Funcs(funcs)
		} else {
			t = t.New(name)
		}
		if _, err := t.Parse(src); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", from, err)
		}
	}
	if t == nil {
		return nil, errors.New("templates: no file named")
	}
	return t.Lookup(names[0]), nil
}

// ParseTextFuncs is ParseHTMLFuncs for text/template (plain-text mail
// parts).
func ParseTextFuncs(dir string, funcs map[string]any, name string) (*texttemplate.Template, error) {
	src, from, err := read(dir, name)
	if err != nil {
		return nil, err
	}
	t, err := texttemplate.New(name).Option("missingkey=error").Funcs(funcs).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", from, err)
	}
	return t, nil
}

// ReadFile returns the bytes of file name — from dir when dir is set and
// holds it, else built in (a stylesheet such as reader.css).
func ReadFile(dir, name string) ([]byte, error) {
	src, _, err := read(dir, name)
	return []byte(src), err
}
