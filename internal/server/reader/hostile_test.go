package reader_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/token"
)

// Only the preferences page's own form changes preferences: a JSON, empty
// or multipart POST is 415 or 400, and the reader keeps every
// subscription (issue 11, item 4: each of these read as "nothing ticked"
// and unsubscribed from everything).
func TestPreferencesRefuseOtherBodies(t *testing.T) {
	e := newEnv(t)
	sub := e.subscriber("a@example.com", model.SubscriberActive)
	q := e.srv.URL + "/preferences?token=" + e.svc.Tokens().Make(token.Manage, sub.ID, time.Hour)
	for _, tc := range []struct {
		name, ctype, body string
		want              int
	}{
		{"json", "application/json", `{"digest":[]}`, http.StatusUnsupportedMediaType},
		{"empty, no type", "", "", http.StatusUnsupportedMediaType},
		{"empty form", "application/x-www-form-urlencoded", "", http.StatusBadRequest},
		{"form without the page's field", "application/x-www-form-urlencoded", "section.daily=world", http.StatusBadRequest},
		{"multipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"form\"\r\n\r\npreferences\r\n--x--\r\n", http.StatusUnsupportedMediaType},
		{"text", "text/plain", "form=preferences", http.StatusUnsupportedMediaType},
	} {
		req, _ := http.NewRequest("POST", q, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		subs, _ := e.store.SubscriptionsOf(context.Background(), sub.ID)
		if len(subs) != 1 || subs[0].Status != model.SubscriptionActive {
			t.Fatalf("%s changed the subscriptions: %+v", tc.name, subs)
		}
	}
}
