package digest

import (
	"strings"
	"testing"
	"time"
)

// TestRenderCacheShrinksWhenSetsDoNotRepeat: while readers' article sets
// repeat, the render cache keeps its full bound and finds them; once
// nearly every lookup is a set of its own, the bound drops to
// lowReuseCacheBytes (the cache's entries were dead weight), and it comes
// back when sets repeat again. Every render is still correct either way.
func TestRenderCacheShrinksWhenSetsDoNotRepeat(t *testing.T) {
	s, _ := benchService(t)
	d := s.cfg.Digests[0]
	arts := benchArticles(12)
	r := newRenderer(s.cfg, d, s.tmpl, time.Now())
	r.window = 32
	render := func(set []*ArticleView) {
		t.Helper()
		_, b, err := r.renderBody(set, part{email: "reader@example.com", unsubTok: "u", mgmtTok: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if html := b.HTML.Fill(b.HTMLValues); !strings.Contains(html, set[0].URL) {
			t.Fatalf("render lost its first article %s", set[0].URL)
		}
	}
	state := func() (limit, bytes, entries int) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.cacheLimit(), r.cacheBytes, r.lru.Len()
	}

	// Five sets, over and over: found, and the bound stays full.
	for i := range 4 * r.window {
		render(arts[i%5 : i%5+6])
	}
	if limit, _, entries := state(); limit != renderCacheBytes || entries != 5 {
		t.Fatalf("repeating sets: limit %d, %d entries; want %d and 5", limit, entries, renderCacheBytes)
	}

	// Every reader a set of their own: each subset of the 12 articles
	// that has 3 or more, in turn.
	distinct := 0
	for mask := 0; mask < 1<<12 && distinct < 4*r.window; mask++ {
		var set []*ArticleView
		for j := range arts {
			if mask&(1<<j) != 0 {
				set = append(set, arts[j])
			}
		}
		if len(set) < 3 {
			continue
		}
		render(set)
		distinct++
	}
	limit, bytes, entries := state()
	if limit != lowReuseCacheBytes {
		t.Fatalf("distinct sets: limit %d, want %d", limit, lowReuseCacheBytes)
	}
	if bytes > lowReuseCacheBytes && entries > 1 {
		t.Errorf("distinct sets: cache holds %d bytes in %d entries, over %d", bytes, entries, lowReuseCacheBytes)
	}

	// Sets repeat again: the full bound is back.
	for i := range 4 * r.window {
		render(arts[i%3 : i%3+4])
	}
	if limit, _, _ := state(); limit != renderCacheBytes {
		t.Errorf("repeating again: limit %d, want %d", limit, renderCacheBytes)
	}
}
