package reader_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/i18n"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/token"
)

// site.language: es turns the pages Spanish: the subscribe form, its
// errors and the error pages carry <html lang="es">, Content-Language: es
// and the es catalogue's sentences — read from the catalogue, so the test
// fails when a page stops using it — and none of English's.
func TestPagesSpanish(t *testing.T) {
	en, err := i18n.Load("", "en")
	if err != nil {
		t.Fatal(err)
	}
	es, err := i18n.Load("", "es")
	if err != nil || es.Lang() != "es" || es.Fallback() {
		t.Fatalf("es catalogue: %v", err)
	}
	e := newEnvTweak(t, "", func(c *config.Config) { c.Site.Language = "es" })
	sub := e.subscriber("ada@example.com", model.SubscriberActive)
	site := map[string]string{"SiteName": "The Herald"}
	type msg struct {
		key  string
		data any
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		want               []msg
	}{
		{"GET", "/subscribe", "", 200, []msg{{"subscribe.title", nil}, {"subscribe.heading", site}, {"subscribe.lead", nil},
			{"subscribe.email", nil}, {"subscribe.button", nil}, {"subscribe.footer", nil}, {"page.skip", nil}}},
		{"POST", "/subscribe", "email=not-an-address", 400, []msg{{"subscribe.bad_email", nil}, {"subscribe.heading", site}}},
		{"GET", "/confirm?token=bad", "", 400, []msg{{"problem.invalid", nil}, {"error.bad_link", nil}}},
		{"GET", "/confirm?token=" + e.svc.Tokens().Make(token.Confirm, sub.ID, -time.Minute), "", 403,
			[]msg{{"problem.expired", nil}, {"error.expired_link", nil}}},
		{"GET", "/unsubscribe?token=" + e.svc.Tokens().Make(token.Unsubscribe, 999, time.Hour), "", 404,
			[]msg{{"problem.not_found", nil}, {"error.no_subscription", nil}}},
		{"POST", "/undo?token=" + e.svc.Tokens().Make(token.Undo, 999, time.Hour), "x=1", 404,
			[]msg{{"problem.not_found", nil}, {"error.undo_gone", nil}}},
	} {
		req, err := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw := readAll(t, resp)
		body := html.UnescapeString(raw)
		what := c.method + " " + strings.SplitN(c.path, "?", 2)[0]
		if resp.StatusCode != c.status || resp.Header.Get("Content-Language") != "es" || !strings.Contains(raw, `<html lang="es">`) {
			t.Errorf("%s: %d, Content-Language %q; want %d, es and <html lang=\"es\">\n%s", what, resp.StatusCode,
				resp.Header.Get("Content-Language"), c.status, raw)
		}
		for _, m := range c.want {
			s, eng := es.T(m.key, m.data), en.T(m.key, m.data)
			if s == eng || s == m.key {
				t.Fatalf("the es catalogue has no %s of its own: %q", m.key, s)
			}
			if !strings.Contains(body, s) {
				t.Errorf("%s lacks %s %q\n%s", what, m.key, s, raw)
			}
			if strings.Contains(body, eng) {
				t.Errorf("%s: English %s %q left", what, m.key, eng)
			}
		}
	}
}
