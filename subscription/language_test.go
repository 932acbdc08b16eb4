package subscription_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/i18n"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/testkit"
	"github.com/heraldnews/herald/subscription"
)

// With site.language: de or es, the confirmation mail and the link to
// the preferences page — sent through the durable queue, as POST
// /subscribe sends them — are in that language: subject and both parts
// carry the catalogue's sentences (read from the catalogue, so the test
// fails if the mails stop using it), none of English's, and lang="LANG"
// on the HTML. Each message parses with Python's email.policy.strict.
func TestTransactionalMailLanguages(t *testing.T) {
	en, err := i18n.Load("", "en")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"de", "es"} {
		t.Run(lang, func(t *testing.T) {
			cat, err := i18n.Load("", lang)
			if err != nil || cat.Lang() != lang || cat.Fallback() {
				t.Fatalf("catalogue %s: %v (lang %q)", lang, err, cat.Lang())
			}
			e := newEnvTweak(t, func(c *config.Config) { c.Site.Language = lang })
			ctx := context.Background()
			e.subscriber("act@example.com", "", model.SubscriberActive, nil, nil)
			name := map[string]string{"de": "Jürgen Müller", "es": "José Núñez"}[lang]
			for _, req := range []subscription.Request{{Email: "new@example.com", Name: name}, {Email: "act@example.com"}} {
				if err := e.svc.Enqueue(ctx, req); err != nil {
					t.Fatal(err)
				}
			}
			e.svc.Wait()

			var files []string
			for _, c := range []struct {
				to, kind string
				data     map[string]string // the lead's
			}{
				{"new@example.com", "confirm", map[string]string{"Name": name, "Email": "new@example.com", "Digests": "Morning Briefing"}},
				{"act@example.com", "manage", map[string]string{"Email": "act@example.com", "Digests": "Morning Briefing"}},
			} {
				raws := e.mailTo(c.to)
				if len(raws) != 1 {
					t.Fatalf("%s: %d messages, want 1", c.to, len(raws))
				}
				f := filepath.Join(t.TempDir(), c.kind+".eml")
				if err := os.WriteFile(f, raws[0], 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
				subject, text, htm := decodeMail(t, raws[0])

				lead := "mail." + c.kind + ".lead"
				if c.data["Name"] != "" {
					lead += "_named"
				}
				keys := []string{lead, "mail." + c.kind + ".ignore"}
				site := map[string]string{"Site": "The Herald"}
				if want := cat.T("mail."+c.kind+".subject", site); subject != want {
					t.Errorf("%s subject %q, want %q", c.kind, subject, want)
				}
				if !strings.Contains(htm, `<html lang="`+lang+`">`) {
					t.Errorf("%s: HTML has no lang=%q:\n%s", c.kind, lang, htm)
				}
				// The button is in the HTML only; the manage mail's text
				// introduces its link instead.
				for _, k := range append(keys, "mail."+c.kind+".button") {
					var d any
					if k == lead {
						d = c.data
					}
					want := cat.T(k, d)
					if want == en.T(k, d) || want == k {
						t.Fatalf("%s: catalogue %s has no %s of its own: %q", c.kind, lang, k, want)
					}
					if !strings.Contains(htm, want) {
						t.Errorf("%s: HTML lacks %s %q:\n%s", c.kind, k, want, htm)
					}
					if !strings.HasSuffix(k, ".button") && !strings.Contains(text, want) {
						t.Errorf("%s: text lacks %s %q:\n%s", c.kind, k, want, text)
					}
					if eng := en.T(k, d); strings.Contains(text+htm, eng) {
						t.Errorf("%s: English %s left: %q", c.kind, k, eng)
					}
				}
				if c.kind == "manage" && !strings.Contains(text, cat.T("mail.manage.link_intro")) {
					t.Errorf("manage: text lacks its link's introduction:\n%s", text)
				}
				if strings.Contains(subject, en.T("mail."+c.kind+".subject", site)) {
					t.Errorf("%s: English subject %q", c.kind, subject)
				}
			}
			testkit.PythonStrict(t, files)
		})
	}
}

// decodeMail returns a raw message's decoded subject and its text and
// HTML parts, decoded (Go's parser; pythonStrict is the strict one).
func decodeMail(t *testing.T, raw []byte) (subject, text, htm string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p // quoted-printable is decoded by NextPart
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Errorf("%s part: charset %q", ct, cp["charset"])
		}
		switch ct {
		case "text/plain":
			text = strings.ReplaceAll(string(b), "\r\n", "\n")
		case "text/html":
			htm = html.UnescapeString(strings.ReplaceAll(string(b), "\r\n", "\n"))
		default:
			t.Errorf("part of type %q", ct)
		}
	}
	if text == "" || htm == "" {
		t.Fatalf("text %d bytes, HTML %d bytes", len(text), len(htm))
	}
	return subject, text, htm
}
