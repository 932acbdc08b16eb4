package feeds

import (
	"context"
	"testing"
	"time"
)

func TestParsePath(t *testing.T) {
	for _, c := range []struct {
		path string
		kind Kind
		slug string
		f    Format
		ok   bool
	}{
		{"/feeds/all.rss", KindAll, "", RSS, true},
		{"/feeds/all.json", KindAll, "", JSON, true},
		{"/feeds/sections/world-news.atom", KindSection, "world-news", Atom, true},
		{"/feeds/authors/a.b_c-1.json", KindAuthor, "a.b_c-1", JSON, true},
		{"/feeds/all.xml", 0, "", 0, false},
		{"/feeds/sections/.hidden.rss", 0, "", 0, false},
		{"/feeds/sections/../x.rss", 0, "", 0, false},
		{"/feeds/sections/a/b.rss", 0, "", 0, false},
		{"/feeds/sections/Upper.rss", 0, "", 0, false},
		{"/feeds/tags/x.rss", 0, "", 0, false},
		{"/other/all.rss", 0, "", 0, false},
	} {
		k, s, f, ok := ParsePath(c.path)
		if ok != c.ok || (ok && (k != c.kind || s != c.slug || f != c.f)) {
			t.Errorf("ParsePath(%q) = %v %q %v %v", c.path, k, s, f, ok)
		}
		if ok {
			id := FeedID{Kind: k, Slug: s}
			if id.Path(f) != c.path {
				t.Errorf("Path round trip %q -> %q", c.path, id.Path(f))
			}
		}
	}
}

func TestHeaderParsing(t *testing.T) {
	for _, c := range []struct {
		ae   []string
		gzip bool
	}{
		{nil, false}, {[]string{"gzip"}, true}, {[]string{"deflate, gzip;q=0.5"}, true},
		{[]string{"gzip;q=0"}, false}, {[]string{"gzip; q=0.0"}, false}, {[]string{"*"}, true},
		{[]string{"br", "GZIP"}, true}, {[]string{"identity"}, false}, {[]string{"x-gzip"}, true},
	} {
		if got := acceptsGzip(c.ae); got != c.gzip {
			t.Errorf("acceptsGzip(%q) = %v", c.ae, got)
		}
	}
	const tag = `"abc"`
	for _, c := range []struct {
		inm   string
		match bool
	}{
		{`"abc"`, true}, {`W/"abc"`, true}, {`"x", "abc"`, true}, {`*`, true},
		{`"abcd"`, false}, {`"ab"`, false}, {`abc`, false}, {``, false}, {`"x",W/"abc"`, true},
	} {
		if got := etagListMatch(c.inm, tag); got != c.match {
			t.Errorf("etagListMatch(%q) = %v", c.inm, got)
		}
	}
}

// TestTrackerManyEmbargoesDue: when more embargoed articles fall due at
// once than a feed holds, every feed is rebuilt.
func TestTrackerManyEmbargoesDue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, seedSQL, "testdata/golden.sql")
	opt := testOptions(e.clock)
	opt.Items = 1
	b := NewBuilder(e.st, opt)
	tr, err := newTracker(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	e.exec(t, `INSERT INTO articles (guid, url, title, section_id, published_at) VALUES
		('e1', '/e1', 'E1', 1, '2026-12-01T00:00:00Z'), ('e2', '/e2', 'E2', 1, '2026-12-01T00:00:00Z')`)
	touched, err := tr.next(ctx) // the inserts themselves
	if err != nil || !touched.All || touched.Everything {
		t.Fatalf("inserts: %+v %v", touched, err)
	}
	if touched, err = tr.next(ctx); err != nil || !touched.Empty() {
		t.Fatalf("nothing new: %+v %v", touched, err)
	}
	e.clock.Set(time.Date(2026, 12, 1, 0, 0, 1, 0, time.UTC))
	if touched, err = tr.next(ctx); err != nil || !touched.Everything {
		t.Fatalf("embargoes due: %+v %v", touched, err)
	}
	// The one still embargoed (golden.sql's) is the next instant.
	if touched, err = tr.next(ctx); err != nil || !touched.Empty() {
		t.Fatalf("after: %+v %v", touched, err)
	}
}
