package reader_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

// The subscribe form and its JSON carry the reader's timezone through.
func TestSubscribeTimezone(t *testing.T) {
	e := newEnv(t)
	form := url.Values{"email": {"kiwi@example.com"}, "timezone": {"Pacific/Auckland"}}
	if code, body := e.do("POST", "/subscribe", form.Encode()); code != http.StatusAccepted {
		t.Fatalf("form: %d %s", code, body)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/subscribe", strings.NewReader(`{"email":"ind@example.com","timezone":"Asia/Kolkata"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("JSON: %d", resp.StatusCode)
	}
	e.svc.Wait()
	for email, tz := range map[string]string{"kiwi@example.com": "Pacific/Auckland", "ind@example.com": "Asia/Kolkata"} {
		if sub, err := e.store.SubscriberByEmail(context.Background(), model.Address(email)); err != nil || sub.Timezone != tz {
			t.Errorf("%s: %q %v", email, sub.Timezone, err)
		}
	}
}
