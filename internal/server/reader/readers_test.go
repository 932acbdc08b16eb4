package reader_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/token"
)

var undoRE = regexp.MustCompile(`href="(/undo\?token=[^"]+)"`)

func (e *env) manageLink(sub model.Subscriber) string {
	return "/preferences?token=" + e.svc.Tokens().Make(token.Manage, sub.ID, 0x7fffffff)
}

func (e *env) subscriptions(sub model.Subscriber) map[string]model.Subscription {
	e.t.Helper()
	subs, err := e.store.SubscriptionsOf(context.Background(), sub.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]model.Subscription{}
	for _, su := range subs {
		out[su.Digest] = su
	}
	return out
}

// undo follows the undo link on page body: its GET shows a button and
// changes nothing, its POST restores.
func (e *env) undo(body string) {
	e.t.Helper()
	m := undoRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no undo link on:\n%s", body)
	}
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	if code, page := e.do("GET", link, ""); code != 200 || !strings.Contains(page, "Restore my subscription") {
		e.t.Fatalf("undo page: %d\n%s", code, page)
	}
	if code, page := e.do("POST", link, "x=1"); code != 200 || !strings.Contains(page, "Your subscription is restored") {
		e.t.Fatalf("undo: %d\n%s", code, page)
	}
}

// Every unsubscribe — the link's page, unticking a digest, "unsubscribe
// from everything" — offers an undo that restores exactly what was there:
// each digest's status and follows.
func TestUndoRestoresExactly(t *testing.T) {
	e := newEnvTweak(t, "", func(c *config.Config) {
		c.Digests = append(c.Digests, config.Digest{Name: "weekly", Title: "The Week", Description: "Sundays.", Schedule: "0 8 * * 0", Timezone: "UTC"})
	})
	ctx := context.Background()
	sub := e.subscriber("ada@example.com", model.SubscriberActive)
	if _, err := e.store.UpsertSubscription(ctx, sub.ID, "daily", []string{"world"}, []string{"ann"}, model.SubscriptionActive); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpsertSubscription(ctx, sub.ID, "weekly", nil, nil, model.SubscriptionUnsubscribed); err != nil {
		t.Fatal(err)
	}
	before := e.subscriptions(sub)
	same := func(what string) {
		t.Helper()
		after := e.subscriptions(sub)
		for d, b := range before {
			a := after[d]
			if a.Status != b.Status || fmt.Sprint(a.Sections, a.Authors) != fmt.Sprint(b.Sections, b.Authors) {
				t.Fatalf("%s: %s is %+v, was %+v", what, d, a, b)
			}
		}
	}

	// The unsubscribe link's page.
	unsub := "/unsubscribe?token=" + e.svc.Tokens().Make(token.Unsubscribe, before["daily"].ID, 0x7fffffff)
	code, body := e.do("POST", unsub, "x=1")
	if code != 200 || e.subscriptions(sub)["daily"].Status != model.SubscriptionUnsubscribed {
		t.Fatalf("unsubscribe: %d", code)
	}
	e.undo(body)
	same("undo of the unsubscribe link")
	// A link restores once.
	used := strings.ReplaceAll(undoRE.FindStringSubmatch(body)[1], "&amp;", "&")
	if code, _ := e.do("POST", used, "x=1"); code != http.StatusNotFound {
		t.Fatalf("an undo link used twice: %d", code)
	}

	// Unticking the digest on the preferences page.
	code, body = e.do("POST", e.manageLink(sub), "form=preferences&section.daily=world&author.daily=ann")
	if code != 200 || e.subscriptions(sub)["daily"].Status != model.SubscriptionUnsubscribed {
		t.Fatalf("untick: %d", code)
	}
	e.undo(body)
	same("undo of unticking")

	// Unsubscribe from everything.
	code, body = e.do("POST", e.manageLink(sub), "form=everything")
	if code != 200 || !strings.Contains(body, "unsubscribed from everything") {
		t.Fatalf("everything: %d\n%s", code, body)
	}
	for d, su := range e.subscriptions(sub) {
		if su.Status != model.SubscriptionUnsubscribed {
			t.Fatalf("%s still %s", d, su.Status)
		}
	}
	e.undo(body)
	same("undo of everything")

	// A later unsubscribe replaces an earlier undo link: the earlier one
	// cannot bring back what the reader has since left again.
	_, first := e.do("POST", unsub, "x=1")
	if _, err := e.store.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, model.SubscriptionActive); err != nil {
		t.Fatal(err) // the reader came back through the form
	}
	if code, _ := e.do("POST", e.manageLink(sub), "form=everything"); code != 200 {
		t.Fatalf("everything: %d", code)
	}
	if code, _ := e.do("POST", strings.ReplaceAll(undoRE.FindStringSubmatch(first)[1], "&amp;", "&"), "x=1"); code != http.StatusNotFound {
		t.Fatalf("a superseded undo link: %d", code)
	}
	if st := e.subscriptions(sub)["daily"].Status; st != model.SubscriptionUnsubscribed {
		t.Fatalf("a superseded undo link restored daily: %s", st)
	}

	// A one-click unsubscribe makes no undo link, and ends the older one:
	// it would bring the digest back.
	if _, err := e.store.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, model.SubscriptionActive); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpsertSubscription(ctx, sub.ID, "weekly", nil, nil, model.SubscriptionActive); err != nil {
		t.Fatal(err)
	}
	_, page := e.do("POST", unsub, "x=1") // daily, from the page: an undo link
	weekly := "/unsubscribe?token=" + e.svc.Tokens().Make(token.Unsubscribe, e.subscriptions(sub)["weekly"].ID, 0x7fffffff)
	if code, _ := e.do("POST", weekly, "List-Unsubscribe=One-Click"); code != 200 {
		t.Fatalf("one-click: %d", code)
	}
	if code, _ := e.do("POST", strings.ReplaceAll(undoRE.FindStringSubmatch(page)[1], "&amp;", "&"), "x=1"); code != http.StatusNotFound {
		t.Fatalf("an undo link older than a one-click unsubscribe: %d", code)
	}
	if st := e.subscriptions(sub)["weekly"].Status; st != model.SubscriptionUnsubscribed {
		t.Fatalf("the one-click unsubscribe was undone: weekly %s", st)
	}

	// A one-click POST shows no page and makes no undo; an undo link for
	// a reader since erased restores nothing.
	if code, body := e.do("POST", unsub, "List-Unsubscribe=One-Click"); code != 200 || undoRE.MatchString(body) {
		t.Fatalf("one-click: %d %v", code, undoRE.MatchString(body))
	}
	if _, err := e.store.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, model.SubscriptionActive); err != nil {
		t.Fatal(err)
	}
	_, body = e.do("POST", e.manageLink(sub), "form=everything")
	link := strings.ReplaceAll(undoRE.FindStringSubmatch(body)[1], "&amp;", "&")
	if err := e.svc.Erase(ctx, e.svc.Tokens().Make(token.Manage, sub.ID, 0x7fffffff)); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.do("POST", link, "x=1"); code != http.StatusNotFound {
		t.Fatalf("undo after erasure: %d", code)
	}
	if code, _ := e.do("GET", "/undo?token=nonsense", ""); code != http.StatusBadRequest {
		t.Fatalf("a bad undo link: %d", code)
	}
}

// 500 authors do not make a wall of checkboxes: the page shows what the
// reader follows and what a search (a plain GET form, no JavaScript)
// finds, at most 20 of them; saving keeps the follows and sets the zone.
func TestPreferencesScale(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	err := e.store.WriteContent(ctx, func(w *store.ContentWriter) error {
		for i := range 500 {
			if _, err := w.Author(model.Author{Slug: fmt.Sprintf("writer-%03d", i), Name: fmt.Sprintf("Writer Number %03d", i)}); err != nil {
				return err
			}
		}
		_, err := w.Author(model.Author{Slug: "zora", Name: "Zora Neale"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sub := e.subscriber("ada@example.com", model.SubscriberActive)
	if _, err := e.store.UpsertSubscription(ctx, sub.ID, "daily", nil, []string{"writer-007"}, model.SubscriptionActive); err != nil {
		t.Fatal(err)
	}
	boxes := func(body string) int { return strings.Count(body, `name="author.daily"`) }
	code, body := e.do("GET", e.manageLink(sub), "")
	if code != 200 || boxes(body) != 1 || !strings.Contains(body, "You follow: Writer Number 007.") || !strings.Contains(body, `<option value="Zora Neale">`) {
		t.Fatalf("page: %d, %d author boxes\n%s", code, boxes(body), body)
	}
	_, body = e.do("GET", e.manageLink(sub)+"&q=zora", "")
	if boxes(body) != 2 || !strings.Contains(body, `value="zora"`) || !strings.Contains(body, "Matches for “zora”") {
		t.Fatalf("search zora: %d boxes\n%s", boxes(body), body)
	}
	_, body = e.do("GET", e.manageLink(sub)+"&q=number", "")
	if boxes(body) != 20 || !strings.Contains(body, "Only the first matches are shown") { // writer-007, followed, is among them
		t.Fatalf("search number: %d boxes", boxes(body))
	}
	_, body = e.do("GET", e.manageLink(sub)+"&q=nobody", "")
	if !strings.Contains(body, "No section or author matches “nobody”.") {
		t.Fatal("no match not said")
	}
	// Save: the followed author and the one found, in Auckland.
	form := url.Values{"form": {"preferences"}, "digest": {"daily"}, "author.daily": {"writer-007", "zora"}, "timezone": {"Pacific/Auckland"}}
	if code, _ := e.do("POST", e.manageLink(sub), form.Encode()); code != 200 {
		t.Fatalf("save: %d", code)
	}
	got, _ := e.store.SubscriberByID(ctx, sub.ID)
	if su := e.subscriptions(sub)["daily"]; fmt.Sprint(su.Authors) != "[writer-007 zora]" || got.Timezone != "Pacific/Auckland" {
		t.Fatalf("saved %v, zone %q", su.Authors, got.Timezone)
	}
	form.Set("timezone", "Mars/Olympus")
	if code, _ := e.do("POST", e.manageLink(sub), form.Encode()); code != http.StatusBadRequest {
		t.Fatalf("an unknown zone: %d", code)
	}
}

// The subscribe form lists digests by title with their descriptions and
// the sections each offers; a ticked section is followed.
func TestSubscribeFormChoices(t *testing.T) {
	e := newEnvTweak(t, "", func(c *config.Config) {
		c.Digests[0].Description = "Every morning at seven."
		c.Digests = append(c.Digests, config.Digest{Name: "weekly", Title: "The Week", Description: "Sundays.", Schedule: "0 8 * * 0",
			Timezone: "UTC", Delivery: config.DeliveryLocal})
	})
	if err := e.store.WriteContent(context.Background(), func(w *store.ContentWriter) error {
		_, err := w.Section(model.Section{Slug: "sport", Name: "Sport"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(e.srv.URL + "/subscribe")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	for _, want := range []string{"Morning Briefing", "Every morning at seven.", "The Week", "Sundays.", `name="section.daily" value="world"`,
		`name="section.weekly" value="sport"`, `name="timezone"`, `<option value="Pacific/Auckland">`, `src="/assets/zone.js"`} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
}

// Every reader page keeps the strict policy: no inline style or script,
// the stylesheet a file herald serves.
func TestPagesStrictCSP(t *testing.T) {
	e := newEnv(t)
	sub := e.subscriber("ada@example.com", model.SubscriberActive)
	for _, p := range []string{"/subscribe", e.manageLink(sub), "/preferences/erase?token=" + e.svc.Tokens().Make(token.Manage, sub.ID, 0x7fffffff),
		"/confirm?token=bad", "/unsubscribe?token=" + e.svc.Tokens().Make(token.Unsubscribe, e.subscriptions(sub)["daily"].ID, 0x7fffffff)} {
		resp, err := http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		csp := resp.Header.Get("Content-Security-Policy")
		if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "style-src 'self'") || strings.Contains(body, "<style") ||
			strings.Contains(body, " style=") || regexp.MustCompile(`<script>`).MatchString(body) || !strings.Contains(body, `href="/assets/reader.css"`) {
			t.Errorf("%s: CSP %q\n%s", p, csp, body)
		}
		if resp.Header.Get("Content-Language") != "en" || !strings.Contains(body, `<html lang="en">`) {
			t.Errorf("%s: language %q", p, resp.Header.Get("Content-Language"))
		}
	}
	resp, err := http.Get(e.srv.URL + "/assets/reader.css")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(readAll(t, resp), "body {") {
		t.Fatalf("stylesheet: %v %+v", err, resp)
	}
	if code, _ := e.do("GET", "/assets/other.css", ""); code != 404 {
		t.Fatalf("unknown asset: %d", code)
	}
}

// site.language: de turns the pages German, errors included.
func TestPagesGerman(t *testing.T) {
	e := newEnvTweak(t, "", func(c *config.Config) { c.Site.Language = "de" })
	sub := e.subscriber("ada@example.com", model.SubscriberActive)
	for _, c := range []struct{ path, want string }{
		{"/subscribe", "Der Newsletter von The Herald"},
		{e.manageLink(sub), "Ihre Einstellungen"},
		{"/confirm?token=bad", "Dieser Link ist ungültig"},
		{"/unsubscribe?token=" + e.svc.Tokens().Make(token.Unsubscribe, 999, 0x7fffffff), "Wir konnten dieses Abonnement nicht finden"},
	} {
		resp, err := http.Get(e.srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if !strings.Contains(body, c.want) || resp.Header.Get("Content-Language") != "de" || !strings.Contains(body, `lang="de"`) {
			t.Errorf("%s: %s lacks %q\n%s", c.path, resp.Header.Get("Content-Language"), c.want, body)
		}
		for _, en := range []string{"Subscribe", "Your preferences", "This link", "Something"} {
			if strings.Contains(body, en) {
				t.Errorf("%s: English %q left", c.path, en)
			}
		}
	}
	code, body := e.do("POST", "/subscribe", "email=not-an-address")
	if code != 400 || !strings.Contains(body, "Das sieht nicht wie eine E-Mail-Adresse aus.") {
		t.Errorf("German form error: %d %s", code, body)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
