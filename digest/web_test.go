package digest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/token"
)

func webServer(t *testing.T, e *env) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	digest.NewWeb(e.svc).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, u, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSubscribeConfirmUnsubscribe(t *testing.T) {
	e := newEnv(t, nil, nil)
	srv := webServer(t, e)
	ctx := context.Background()
	sub, mailed, err := e.svc.Subscribe(ctx, digest.SubscribeRequest{Email: " New@Example.COM ", Name: "New Reader", Sections: []string{"world"}})
	if err != nil || !mailed || sub.Status != model.SubscriberPending || sub.Email != "New@example.com" {
		t.Fatalf("%+v %v %v", sub, mailed, err)
	}
	msgs := e.fake.to("New@example.com")
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "/confirm?token=") || !strings.Contains(msgs[0].HTML, "Confirm my subscription") {
		t.Fatalf("confirmation: %d", len(msgs))
	}
	link := msgs[0].Text[strings.Index(msgs[0].Text, "https://news.example.com/confirm?token="):]
	link = strings.Fields(link)[0]
	q := strings.TrimPrefix(link, "https://news.example.com")

	// GET shows a page and changes nothing (mail scanners prefetch).
	code, body := do(t, "GET", srv.URL+q, "")
	if code != 200 || !strings.Contains(body, `<form method="post"`) {
		t.Fatalf("GET confirm %d %s", code, body)
	}
	if s, _ := e.store.SubscriberByID(ctx, sub.ID); s.Status != model.SubscriberPending {
		t.Fatal("GET confirmed")
	}
	if code, _ := do(t, "POST", srv.URL+q, ""); code != 200 {
		t.Fatalf("POST confirm %d", code)
	}
	if s, _ := e.store.SubscriberByID(ctx, sub.ID); s.Status != model.SubscriberActive {
		t.Fatal("POST did not confirm")
	}

	subs, _ := e.store.SubscriptionsOf(ctx, sub.ID)
	unsub := "/unsubscribe?token=" + e.svc.Tokens().Make(token.Unsubscribe, subs[0].ID, time.Hour)
	if code, body := do(t, "GET", srv.URL+unsub, ""); code != 200 || !strings.Contains(body, "Unsubscribe") {
		t.Fatalf("GET unsubscribe %d", code)
	}
	// RFC 8058 one-click: a POST with the fixed body, no page.
	if code, _ := do(t, "POST", srv.URL+unsub, "List-Unsubscribe=One-Click"); code != 200 {
		t.Fatalf("one-click %d", code)
	}
	if su, _ := e.store.SubscriptionByID(ctx, subs[0].ID); su.Status != model.SubscriptionUnsubscribed {
		t.Fatal("one-click did not unsubscribe")
	}
	if s, _ := e.store.SubscriberByID(ctx, sub.ID); s.Status != model.SubscriberActive {
		t.Fatal("unsubscribe ended the address, not the subscription")
	}
}

func TestTokensRefused(t *testing.T) {
	e := newEnv(t, nil, nil)
	srv := webServer(t, e)
	sub := e.subscriber("a@example.com", "", model.SubscriberPending, nil, nil)
	good := e.svc.Tokens().Make(token.Confirm, sub.ID, time.Hour)
	expired := e.svc.Tokens().Make(token.Confirm, sub.ID, -time.Minute)
	tampered := good[:len(good)-2] + "xx"
	other := e.svc.Tokens().Make(token.Manage, sub.ID, time.Hour)
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"expired", "/confirm?token=" + expired, http.StatusForbidden},
		{"tampered", "/confirm?token=" + tampered, http.StatusBadRequest},
		{"other purpose", "/confirm?token=" + other, http.StatusBadRequest},
		{"manage token for unsubscribe", "/unsubscribe?token=" + other, http.StatusBadRequest},
		{"none", "/preferences", http.StatusBadRequest},
		{"garbage", "/unsubscribe?token=" + url.QueryEscape("a.b.c\r\n"), http.StatusBadRequest},
	} {
		for _, method := range []string{"GET", "POST"} {
			code, body := do(t, method, srv.URL+tc.path, "")
			if code != tc.want || !strings.Contains(body, "<h1>") {
				t.Errorf("%s %s: %d, want %d", method, tc.name, code, tc.want)
			}
		}
	}
	if s, _ := e.store.SubscriberByID(context.Background(), sub.ID); s.Status != model.SubscriberPending {
		t.Fatal("a refused token changed state")
	}
}

func TestPreferences(t *testing.T) {
	e := newEnv(t, nil, nil)
	srv := webServer(t, e)
	sub := e.subscriber("a@example.com", "", model.SubscriberActive, nil, nil)
	q := srv.URL + "/preferences?token=" + e.svc.Tokens().Make(token.Manage, sub.ID, time.Hour)
	code, body := do(t, "GET", q, "")
	if code != 200 || !strings.Contains(body, `value="world"`) || !strings.Contains(body, `value="ann"`) {
		t.Fatalf("GET %d %s", code, body)
	}
	form := url.Values{"digest": {"daily"}, "section.daily": {"sport", "nope"}, "author.daily": {"ann"}}
	if code, _ := do(t, "POST", q, form.Encode()); code != 200 {
		t.Fatalf("POST %d", code)
	}
	subs, _ := e.store.SubscriptionsOf(context.Background(), sub.ID)
	if len(subs) != 1 || subs[0].Status != model.SubscriptionActive || strings.Join(subs[0].Sections, ",") != "sport" || strings.Join(subs[0].Authors, ",") != "ann" {
		t.Fatalf("saved %+v", subs)
	}
	if code, _ := do(t, "POST", q, url.Values{}.Encode()); code != 200 {
		t.Fatal(code)
	}
	subs, _ = e.store.SubscriptionsOf(context.Background(), sub.ID)
	if subs[0].Status != model.SubscriptionUnsubscribed {
		t.Fatalf("unticked digest still active: %+v", subs)
	}
}

func TestUnconfirmedSubscribeLeavesActiveSubscriberAlone(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	sub := e.subscriber("a@example.com", "A", model.SubscriberActive, []string{"world"}, nil)
	subs, _ := e.store.SubscriptionsOf(ctx, sub.ID)
	if err := e.store.SetSubscriptionStatus(ctx, subs[0].ID, model.SubscriptionUnsubscribed); err != nil {
		t.Fatal(err)
	}
	if _, mailed, err := e.svc.Subscribe(ctx, digest.SubscribeRequest{Email: "A@example.com", Sections: []string{"sport"}}); err != nil || mailed {
		t.Fatal(mailed, err)
	}
	subs, _ = e.store.SubscriptionsOf(ctx, sub.ID)
	if subs[0].Status != model.SubscriptionUnsubscribed || strings.Join(subs[0].Sections, ",") != "world" {
		t.Fatalf("a stranger's request changed the subscription: %+v", subs[0])
	}
	if _, _, err := e.svc.Subscribe(ctx, digest.SubscribeRequest{Email: "a@exam ple.com"}); !errorsIs(err, digest.ErrInvalidEmail) {
		t.Fatalf("bad address: %v", err)
	}
}

// TestConfirmationDuringSendLoop subscribes while an edition is sending:
// both use the Sender's worker 0, which must never be used concurrently.
func TestConfirmationDuringSendLoop(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.fake.workers = 1
	var busy, overlap int32
	var mu sync.Mutex
	e.fake.script = func(m *model.Message, n int) model.SendResult {
		mu.Lock()
		busy++
		if busy > 1 {
			overlap++
		}
		mu.Unlock()
		time.Sleep(200 * time.Microsecond)
		mu.Lock()
		busy--
		mu.Unlock()
		return model.SendResult{Outcome: model.Accepted, Reply: "250 ok"}
	}
	seedSelection(e)
	for i := range 100 {
		e.subscriber(fmt.Sprintf("r%d@example.com", i), "", model.SubscriberActive, nil, nil)
	}
	e.clock.Add(time.Second)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := e.svc.SendNow(context.Background(), digest.SendNowRequest{}); err != nil {
			t.Error(err)
		}
	}()
	for i := range 20 {
		if _, _, err := e.svc.Subscribe(context.Background(), digest.SubscribeRequest{Email: fmt.Sprintf("new%d@example.com", i)}); err != nil {
			t.Error(err)
		}
	}
	<-done
	if overlap != 0 {
		t.Fatalf("worker 0 used concurrently %d times", overlap)
	}
}
