package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/token"
)

// methods are the methods sent to every route; POST last, so a route's
// other methods meet the state its POST would change.
var methods = []string{"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "POST"}

// unwatched are tables whose rows a request may change without changing
// anyone's state: the feed cache's Last-Modified record (a GET of a feed
// fills the cache), and sessions (a login form's GET may start one for its
// CSRF token).
func unwatched(table string) bool {
	return table == "feed_state" || strings.Contains(table, "session")
}

// snapshot dumps every watched table of the database, one line per table.
func snapshot(t *testing.T, db *sql.DB) string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !unwatched(name) {
			tables = append(tables, name)
		}
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		rs, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		var lines []string
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprint(vals...))
		}
		rs.Close()
		slices.Sort(lines)
		fmt.Fprintf(&b, "%s: %s\n", table, strings.Join(lines, " | "))
	}
	return b.String()
}

// settle waits until the database stops changing (a POST may start work
// that outlives it) and returns its snapshot.
func settle(t *testing.T, db *sql.DB) string {
	t.Helper()
	prev := snapshot(t, db)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		time.Sleep(150 * time.Millisecond)
		cur := snapshot(t, db)
		if cur == prev {
			return cur
		}
		prev = cur
	}
	t.Fatal("the database kept changing")
	return ""
}

var wildcardRE = regexp.MustCompile(`\{[^}]*\}`)

// pathMatches reports whether the ServeMux path pattern matches path:
// "{name}" takes one segment, "{name...}" the rest, "{$}" ends it, and a
// pattern ending in "/" takes its subtree.
func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i, seg := range ps {
		switch {
		case seg == "{$}":
			return i == len(xs)-1 && xs[i] == ""
		case strings.HasSuffix(seg, "...}"):
			return i < len(xs)
		case i == len(ps)-1 && seg == "" && i > 0:
			return i < len(xs) // a subtree: "/feeds/" takes everything under it
		case i >= len(xs):
			return false
		case strings.HasPrefix(seg, "{"):
			if xs[i] == "" {
				return false
			}
		case seg != xs[i]:
			return false
		}
	}
	return len(ps) == len(xs)
}

// samplePath turns a route pattern's path into one request path: each
// wildcard becomes "1" ({$} nothing), a subtree gets a child.
func samplePath(p string) string {
	switch {
	case p == "/feeds/":
		return "/feeds/all.rss"
	case strings.HasSuffix(p, "/{$}"):
		return strings.TrimSuffix(p, "{$}")
	}
	p = wildcardRE.ReplaceAllString(p, "1")
	if strings.HasSuffix(p, "/") && p != "/" {
		p += "probe"
	}
	return p
}

// Only a POST changes anything (issue 11, item 1): every route the server
// mounts — enumerated from the server itself, so groups added later (the
// admin pages, the webhooks) are covered — gets GET, HEAD, OPTIONS, PUT,
// DELETE, PATCH and POST, each with a valid token for the page and the
// body a one-click unsubscribe, a preferences form and a subscribe form
// would carry, and the database is compared after each. A method a route
// does not serve is 405; GET and HEAD render.
func TestEveryRouteOnlyPostChangesState(t *testing.T) {
	dir := t.TempDir()
	srv := smtptest.Start(t, smtptest.Options{})
	cfgPath := writeServeConfig(t, dir, "127.0.0.1:0", srv, "")
	seedStore(t, filepath.Join(dir, "herald.db"))
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = func(string) (string, bool) { return "", false }
	m.ConfigPath = cfgPath
	ctx := context.Background()
	if err := m.open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	d, err := m.newDaemon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer d.mailer.Close()

	// A pending reader (for /confirm) and an active one with a
	// subscription (for /unsubscribe and /preferences).
	pending, _, err := m.Store.UpsertSubscriber(ctx, "pending@example.com", "", model.SubscriberPending)
	if err != nil {
		t.Fatal(err)
	}
	active, _, err := m.Store.UpsertSubscriber(ctx, "active@example.com", "Active", model.SubscriberActive)
	if err != nil {
		t.Fatal(err)
	}
	su, err := m.Store.UpsertSubscription(ctx, active.ID, "daily", nil, nil, model.SubscriptionActive)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := token.NewSigner([]byte(testSecret), nil)
	tokens := map[string]string{
		"/confirm":     signer.Make(token.Confirm, pending.ID, time.Hour),
		"/unsubscribe": signer.Make(token.Unsubscribe, su.ID, time.Hour),
		"/preferences": signer.Make(token.Manage, active.ID, time.Hour),
	}
	body := url.Values{"List-Unsubscribe": {"One-Click"}, "form": {"preferences"}, "email": {"probe@example.com"}}.Encode()

	hs := httptest.NewServer(d.srv.Handler())
	defer hs.Close()
	type route struct{ path, methods string }
	var routes []route
	patterns := d.srv.Routes()
	for _, pat := range patterns {
		_, path, found := strings.Cut(pat, " ")
		if !found {
			path = pat
		}
		p := samplePath(path)
		if slices.ContainsFunc(routes, func(r route) bool { return r.path == p }) {
			continue
		}
		// Every pattern that matches this path says which methods it serves.
		r := route{path: p}
		for _, other := range patterns {
			method, opath, found := strings.Cut(other, " ")
			if !found {
				method, opath = "any", other
			}
			if pathMatches(opath, p) {
				r.methods += method + " "
			}
		}
		routes = append(routes, r)
	}
	if len(routes) < 8 {
		t.Fatalf("only %d routes: %v", len(routes), d.srv.Routes())
	}
	before := settle(t, m.Store.R)
	checked := 0
	for _, r := range routes {
		for _, method := range methods {
			target := hs.URL + r.path
			for prefix, tok := range tokens {
				if r.path == prefix || strings.HasPrefix(r.path, prefix+"/") {
					target += "?token=" + tok
				}
			}
			req, _ := http.NewRequest(method, target, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+testAdmin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			serves := strings.Contains(r.methods, "any") || strings.Contains(r.methods, method+" ") ||
				method == "HEAD" && strings.Contains(r.methods, "GET ")
			if !serves && resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s (mounted for %s) = %d, want 405", method, r.path, strings.TrimSpace(r.methods), resp.StatusCode)
			}
			if method == "POST" {
				before = settle(t, m.Store.R) // a POST may change state
				continue
			}
			if after := snapshot(t, m.Store.R); after != before {
				t.Errorf("%s %s changed the database: %s", method, r.path, changedTables(before, after))
				before = after
			}
			checked++
		}
	}
	t.Logf("%d routes (%d patterns), %d non-POST requests changed nothing", len(routes), len(d.srv.Routes()), checked)
}

// changedTables names the tables whose lines differ between two snapshots,
// with their new contents cut short.
func changedTables(before, after string) string {
	old := map[string]string{}
	for _, l := range strings.Split(before, "\n") {
		name, _, _ := strings.Cut(l, ":")
		old[name] = l
	}
	var out []string
	for _, l := range strings.Split(after, "\n") {
		if name, _, _ := strings.Cut(l, ":"); old[name] != l {
			out = append(out, fmt.Sprintf("%.300s", l))
		}
	}
	return strings.Join(out, "; ")
}
