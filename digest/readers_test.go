package digest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// withImage gives article id a picture.
func (e *env) withImage(id int64, url string) {
	e.t.Helper()
	if _, err := e.store.W.Exec(`UPDATE articles SET image_url = ? WHERE id = ?`, url, id); err != nil {
		e.t.Fatal(err)
	}
}

// The default digest shows an article's picture: absolute, alt from the
// title, width and height, at most the column's width on a phone; not
// with images: false. The "view in browser" link goes to the edition's
// archive page, the same for every reader; with archive: false there is
// none.
func TestImagesAndViewInBrowser(t *testing.T) {
	for _, c := range []struct {
		name            string
		images, archive bool
	}{{"default", true, true}, {"images off", false, true}, {"archive off", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil, func(o *digest.Options) {
				o.Config.Digests[0].Images, o.Config.Digests[0].Archive = &c.images, &c.archive
			})
			id := e.article("w1", "Summit ends with a pledge", "world", time.Hour, "ann", "bob", "cat")
			e.withImage(id, "/img/summit.jpg")
			e.article("s1", "Late goal", "sport", 2*time.Hour)
			e.subscriber("ada@example.com", "Ada Lovelace", model.SubscriberActive, nil, nil)
			e.subscriber("bob@example.com", "", model.SubscriberActive, nil, nil)
			e.clock.Add(time.Second)
			if res := e.sendNow(digest.SendNowRequest{}); res.Sent != 2 {
				t.Fatalf("%+v", res)
			}
			for _, to := range []string{"ada@example.com", "bob@example.com"} {
				m := e.fake.to(to)[0]
				img := `<img class="image" src="https://news.example.com/img/summit.jpg" alt="Summit ends with a pledge" width="592" height="333"`
				if got := strings.Contains(m.HTML, img); got != c.images {
					t.Errorf("%s: image shown %v, want %v\n%s", to, got, c.images, m.HTML)
				}
				if c.images && !strings.Contains(m.HTML, "max-width:592px;height:auto") {
					t.Errorf("%s: the image does not shrink on a phone", to)
				}
				link := `href="https://news.example.com/archive/daily/2026-11-26"`
				if got := strings.Contains(m.HTML, link) && strings.Contains(m.Text, "in your browser: https://news.example.com/archive/daily/2026-11-26"); got != c.archive {
					t.Errorf("%s: view in browser %v, want %v", to, got, c.archive)
				}
				if !strings.Contains(m.HTML, "By Ann Lee, Bob Roe and Cat Poe") {
					t.Errorf("%s: byline", to)
				}
			}
		})
	}
}

// site.language: de turns the digest German: subject, date, greeting,
// byline joiner, section default, footer; lang="de".
func TestDigestGerman(t *testing.T) {
	e := newEnv(t, nil, func(o *digest.Options) {
		o.Config.Site.Language = "de"
		o.Config.Digests[0].Subject = config.DefaultSubject
	})
	e.article("w1", "Gipfel endet mit Zusage", "world", time.Hour, "ann", "bob")
	if err := e.store.ExecScript(context.Background(), `UPDATE articles SET section_id = (SELECT id FROM sections WHERE slug = 'sport') WHERE guid = 'w1'`); err != nil {
		t.Fatal(err)
	}
	e.subscriber("ada@example.com", "Ada Lovelace", model.SubscriberActive, nil, nil)
	e.clock.Add(time.Second)
	if res := e.sendNow(digest.SendNowRequest{}); res.Sent != 1 {
		t.Fatalf("%+v", res)
	}
	m := e.fake.to("ada@example.com")[0]
	if m.Subject != "The Herald: Morning Briefing vom Donnerstag, 26. November 2026" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{`<html lang="de">`, "Guten Tag, Ada Lovelace. Das ist neu.", "Von Ann Lee und Bob Roe", "Weiterlesen",
		"Diese Ausgabe im Browser ansehen", "Einstellungen ändern", "Abbestellen", "weil ada@example.com es abonniert hat"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, want := range []string{"Donnerstag, 26. November 2026", "Weiterlesen: https://", "Abbestellen: https://"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	for _, en := range []string{"Read more", "Good day", "Manage your", "Thursday"} {
		if strings.Contains(m.HTML+m.Text, en) {
			t.Errorf("English %q left", en)
		}
	}
}
