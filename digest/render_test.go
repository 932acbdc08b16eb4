package digest_test

import (
	"bytes"
	"context"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
)

func writeEML(t *testing.T, m *model.Message) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := mailer.WriteMessage(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The digest, byte for byte. (The confirmation email's golden file moved to
// package subscription with the code that composes it.)
func TestGoldenDigest(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.article("w1", "Putin accepts Kim Jong-un’s invitation to visit North Korea", "world", time.Hour, "ann", "bob")
	e.article("s1", "Cup final goes to extra time", "sport", 2*time.Hour, "cat")
	e.article("w2", "Summit ends without a deal", "world", 3*time.Hour)
	e.subscriber("ada@example.com", "Ada Lovelace", model.SubscriberActive, nil, nil)
	e.clock.Add(time.Second)
	res := e.sendNow(digest.SendNowRequest{})
	if res.Sent != 1 {
		t.Fatalf("%+v", res)
	}
	msg := e.fake.to("ada@example.com")[0]
	raw := writeEML(t, msg)
	checkDigestMessage(t, raw, "ada@example.com")
	testkit.Golden(t, "testdata/digest.eml", raw)
	_, text, html := parseDigest(t, raw)
	for _, want := range []string{"Ann Lee and Bob Roe", "World News", "Sport", "Read more", "Good day, Ada Lovelace"} {
		if !strings.Contains(html, want) || !strings.Contains(text, strings.TrimSuffix(want, " more")) {
			t.Errorf("digest lacks %q", want)
		}
	}
}

// injections are values a person could write into a field that reaches a
// header: each tries to start a header of its own.
var injections = []string{
	"Evil\r\nBcc: victim@example.org",
	"Evil\nX-Injected: yes",
	"Evil\rX-Injected: yes",
	"Evil\u2028X-Injected: yes",
	"Evil\u0085X-Injected: yes",
	"=?utf-8?q?Evil=0D=0AX-Injected:_yes?=",
	"Evil\x00\r\n\r\n<html>body</html>",
	"\"Evil\" <evil@example.org>, other@example.org",
}

func TestHeaderInjectionCorpus(t *testing.T) {
	for i, inj := range injections {
		e := newEnv(t, nil, nil)
		e.cfg.Digests[0].Title = "Briefing " + inj
		e.cfg.Site.Name = "Herald " + inj
		e.cfg.Digests[0].Subject = "{{.Title}} " + strings.ReplaceAll(inj, "{{", "") + " {{.Top}}"
		// Re-create the service so the subject template is parsed again.
		e2 := newEnvFrom(t, e)
		err := e2.store.WriteContent(context.Background(), func(w *store.ContentWriter) error {
			sec, err := w.Section(model.Section{Slug: "evil", Name: "Section " + inj})
			if err != nil {
				return err
			}
			au, err := w.Author(model.Author{Slug: "evil", Name: "Author " + inj})
			if err != nil {
				return err
			}
			_, err = w.Article(model.Article{GUID: "evil", URL: "/evil", Title: "Title " + inj, Summary: inj,
				Section: model.Section{ID: sec}, Authors: []model.Author{{ID: au}}, PublishedAt: e2.clock.Now().Add(-time.Minute)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e2.store.W.Exec(`UPDATE herald_article_visible SET seen_at = ?`, e2.clock.Now().Add(-time.Minute).Unix()); err != nil {
			t.Fatal(err)
		}
		e2.subscriber("reader@example.com", "Reader "+inj, model.SubscriberActive, nil, nil)
		e2.clock.Add(time.Second)
		e2.sendNow(digest.SendNowRequest{})
		msgs := e2.fake.to("reader@example.com")
		if len(msgs) != 1 {
			t.Fatalf("case %d: %d messages", i, len(msgs))
		}
		raw := writeEML(t, msgs[0])
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		allowed := map[string]bool{"From": true, "To": true, "Subject": true, "Date": true, "Message-Id": true, "Mime-Version": true,
			"Content-Type": true, "List-Id": true, "List-Unsubscribe": true, "List-Unsubscribe-Post": true, "Precedence": true,
			"Reply-To": true, "Content-Transfer-Encoding": true, "X-Mailer": true, "User-Agent": true}
		for k := range m.Header {
			if !allowed[k] {
				t.Errorf("case %d (%q): unexpected header %s", i, inj, k)
			}
		}
		if to, err := mail.ParseAddressList(m.Header.Get("To")); err != nil || len(to) != 1 || to[0].Address != "reader@example.com" {
			t.Errorf("case %d: To %q", i, m.Header.Get("To"))
		}
	}
}

// newEnvFrom builds a fresh service over e's store and config (after the
// config was changed).
func newEnvFrom(t *testing.T, e *env) *env {
	t.Helper()
	st := e.store
	svc, err := digest.New(digest.Options{Config: e.cfg, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st, Leases: st,
		Mailer: e.fake, Now: e.clock.Now, Sleep: e.clock.Sleep, MarkInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func TestBrokenOverrideTemplateFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "digest.html.tmpl"), []byte("<p>{{.Title</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	_, err := digest.LoadTemplates(dir, cfg.Digests)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "digest.html.tmpl")) {
		t.Fatalf("want an error naming the file, got %v", err)
	}
	// A template that parses but fails when executed fails at start too.
	if err := os.WriteFile(filepath.Join(dir, "digest.html.tmpl"), []byte("<p>{{.NoSuchField}}</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.TemplatesDir = dir
	e := newEnv(t, nil, nil)
	st := e.store
	if _, err := digest.New(digest.Options{Config: cfg, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st, Leases: st}); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("want a start error, got %v", err)
	}
}
