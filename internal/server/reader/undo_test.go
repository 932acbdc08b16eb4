package reader_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/i18n"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/token"
	"github.com/heraldnews/herald/subscription"
)

// An undo link works for 30 days (subscription.UndoTTL, the README's
// "valid for 30 days"): it restores a moment before they are up, and
// after them it answers that it no longer applies (404), restoring
// nothing. Each half starts from a fresh unsubscribe, since a link
// restores once and a later unsubscribe replaces it.
func TestUndoExpiresAfter30Days(t *testing.T) {
	if subscription.UndoTTL != 30*24*time.Hour {
		t.Fatalf("UndoTTL is %v; the README and the undo page promise 30 days", subscription.UndoTTL)
	}
	e := newEnv(t)
	cat, err := i18n.Load("", "en")
	if err != nil {
		t.Fatal(err)
	}
	gone := cat.T("error.undo_gone")
	sub := e.subscriber("ada@example.com", model.SubscriberActive)
	daily := e.subscriptions(sub)["daily"]
	unsub := "/unsubscribe?token=" + e.svc.Tokens().Make(token.Unsubscribe, daily.ID, 365*24*time.Hour)
	// unsubscribe leaves daily and returns the undo link its page offers.
	unsubscribe := func() string {
		t.Helper()
		code, body := e.do("POST", unsub, "x=1")
		if code != 200 || e.subscriptions(sub)["daily"].Status != model.SubscriptionUnsubscribed {
			t.Fatalf("unsubscribe: %d\n%s", code, body)
		}
		m := undoRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no undo link on:\n%s", body)
		}
		return html.UnescapeString(m[1])
	}

	// A minute before the 30 days are up: the link still restores.
	link := unsubscribe()
	e.clock.Add(30*24*time.Hour - time.Minute)
	e.undo(`href="` + link + `"`)
	if st := e.subscriptions(sub)["daily"].Status; st != model.SubscriptionActive {
		t.Fatalf("undo a minute before 30 days: daily is %s", st)
	}

	// A minute after: the page and the button both say it no longer
	// applies, and the reader stays unsubscribed.
	link = unsubscribe()
	e.clock.Add(30*24*time.Hour + time.Minute)
	for _, method := range []string{"GET", "POST"} {
		code, body := e.do(method, link, "x=1")
		if code != http.StatusNotFound || !strings.Contains(html.UnescapeString(body), gone) {
			t.Errorf("%s of an undo link 30 days and a minute old: %d, want 404 with %q\n%s", method, code, gone, body)
		}
	}
	if st := e.subscriptions(sub)["daily"].Status; st != model.SubscriptionUnsubscribed {
		t.Fatalf("an undo link past 30 days restored daily: %s", st)
	}
}
