package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The feed keys of issue 13: defaults, YAML (a map per section slug), the
// environment, and the checks that name the key.
func TestFeedKeys(t *testing.T) {
	c := Default()
	if c.Feeds.Content != "full" || c.Feeds.ArchivePageSize != 100 || c.Feeds.IDDate != "2026-01-01" || c.Feeds.Archives {
		t.Errorf("defaults %+v", c.Feeds)
	}
	c, err := Parse([]byte(`
site: {url: "https://n.example.com", section_url: "/section/{slug}/", author_url: "https://n.example.com/people/{slug}"}
feeds:
  content: summary
  archives: true
  archive_page_size: 20
  id_date: 2019-05-01
  sections:
    world-news: {content: full}
    opinion: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Feeds.IDDate != "2019-05-01" || !c.Feeds.Archives || c.Feeds.ArchivePageSize != 20 || c.Site.SectionURL != "/section/{slug}/" {
		t.Errorf("parsed %+v %+v", c.Feeds, c.Site)
	}
	for slug, want := range map[string]string{"world-news": "full", "opinion": "summary", "sport": "summary"} {
		if got := c.Feeds.ContentMode(slug); got != want {
			t.Errorf("ContentMode(%s) = %s, want %s", slug, got, want)
		}
	}
	c, err = Load("", func(k string) (string, bool) {
		v, ok := map[string]string{"HERALD_FEEDS_CONTENT": "summary", "HERALD_FEEDS_ARCHIVES": "true",
			"HERALD_FEEDS_ID_DATE": "2024", "HERALD_SITE_AUTHOR_URL": "/by/{slug}"}[k]
		return v, ok
	})
	if err != nil || c.Feeds.Content != "summary" || !c.Feeds.Archives || c.Feeds.IDDate != "2024" || c.Site.AuthorURL != "/by/{slug}" {
		t.Errorf("from the environment: %+v %v", c.Feeds, err)
	}
	for _, tc := range []struct{ yaml, key string }{
		{"feeds: {content: teaser}", "feeds.content"},
		{"feeds: {sections: {Opinion: {content: summary}}}", "feeds.sections.Opinion"},
		{"feeds: {sections: {opinion: {content: half}}}", "feeds.sections.opinion.content"},
		{"feeds: {sections: {opinion: {nope: 1}}}", "unknown key feeds.sections.opinion.nope"},
		{"feeds: {sections: [opinion]}", "feeds.sections (line 1): want a mapping"},
		{"feeds: {archive_page_size: 5}", "feeds.archive_page_size"},
		{"feeds: {id_date: 2026-02-30}", "feeds.id_date"},
		{"feeds: {id_date: yesterday}", "feeds.id_date"},
		{"site: {section_url: /section/}", "site.section_url"},
		{"site: {author_url: 'ftp://x/{slug}'}", "site.author_url"},
		{"site: {author_url: 'https://x/{slug} y'}", "site.author_url"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: %v, want an error naming %s", tc.yaml, err, tc.key)
		}
	}
}

func TestExampleHasFeedKeys(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"section_url:", "author_url:", "content:", "archives:", "archive_page_size:", "id_date:"} {
		if !strings.Contains(string(b), key) {
			t.Errorf("config.example.yaml lacks %s", key)
		}
	}
}
