package reader_test

import (
	"context"
	"io"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/token"
)

// A reader subscribes through the form, follows the link the confirmation
// email carries, and unsubscribes with a mail client's one-click POST.
func TestSubscribeConfirmUnsubscribe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	form := url.Values{"email": {" New@Example.COM "}, "name": {"New Reader"}, "section": {"world"}}
	if code, body := e.do("POST", "/subscribe", form.Encode()); code != http.StatusAccepted || !strings.Contains(body, "Check your inbox") {
		t.Fatalf("POST /subscribe %d %s", code, body)
	}
	e.svc.Wait() // the confirmation goes out in the background
	msgs := e.smtp.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "New@example.com" {
		t.Fatalf("confirmation: %+v", msgs)
	}
	raw, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(msgs[0].Data))))
	text := string(raw)
	if !strings.Contains(text, "Confirm my subscription") {
		t.Fatal("confirmation lacks its button")
	}
	link := strings.Fields(text[strings.Index(text, "https://news.example.com/confirm?token="):])[0]
	q := strings.TrimPrefix(link, "https://news.example.com")
	sub, _, _ := e.store.FindSubscriber(ctx, "New@example.com")

	// GET shows a page and changes nothing (mail scanners prefetch).
	code, body := e.do("GET", q, "")
	if code != 200 || !strings.Contains(body, `<form method="post"`) {
		t.Fatalf("GET confirm %d %s", code, body)
	}
	if s, _ := e.store.SubscriberByID(ctx, sub.ID); s.Status != model.SubscriberPending {
		t.Fatal("GET confirmed")
	}
	if code, _ := e.do("POST", q, ""); code != 200 {
		t.Fatalf("POST confirm %d", code)
	}
	if s, _ := e.store.SubscriberByID(ctx, sub.ID); s.Status != model.SubscriberActive {
		t.Fatal("POST did not confirm")
	}

	subs, _ := e.store.SubscriptionsOf(ctx, sub.ID)
	unsub := "/unsubscribe?token=" + e.svc.Tokens().Make(token.Unsubscribe, subs[0].ID, time.Hour)
	if code, body := e.do("GET", unsub, ""); code != 200 || !strings.Contains(body, "Unsubscribe") {
		t.Fatalf("GET unsubscribe %d", code)
	}
	// RFC 8058 one-click: a POST with the fixed body, no page.
	if code, _ := e.do("POST", unsub, "List-Unsubscribe=One-Click"); code != 200 {
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
	e := newEnv(t)
	sub := e.subscriber("a@example.com", model.SubscriberPending)
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
		{"unknown subscriber", "/confirm?token=" + e.svc.Tokens().Make(token.Confirm, 999, time.Hour), http.StatusNotFound},
	} {
		for _, method := range []string{"GET", "POST"} {
			code, body := e.do(method, tc.path, "")
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
	e := newEnv(t)
	sub := e.subscriber("a@example.com", model.SubscriberActive)
	q := "/preferences?token=" + e.svc.Tokens().Make(token.Manage, sub.ID, time.Hour)
	code, body := e.do("GET", q, "")
	if code != 200 || !strings.Contains(body, `value="world"`) || !strings.Contains(body, `value="ann"`) {
		t.Fatalf("GET %d %s", code, body)
	}
	form := url.Values{"form": {"preferences"}, "digest": {"daily"}, "section.daily": {"world", "nope"}, "author.daily": {"ann"}}
	if code, _ := e.do("POST", q, form.Encode()); code != 200 {
		t.Fatalf("POST %d", code)
	}
	subs, _ := e.store.SubscriptionsOf(context.Background(), sub.ID)
	if len(subs) != 1 || subs[0].Status != model.SubscriptionActive || strings.Join(subs[0].Sections, ",") != "world" || strings.Join(subs[0].Authors, ",") != "ann" {
		t.Fatalf("saved %+v", subs)
	}
	if code, _ := e.do("POST", q, url.Values{"form": {"preferences"}}.Encode()); code != 200 {
		t.Fatal(code)
	}
	subs, _ = e.store.SubscriptionsOf(context.Background(), sub.ID)
	if subs[0].Status != model.SubscriptionUnsubscribed {
		t.Fatalf("unticked digest still active: %+v", subs)
	}
}

// A subscribe form with a problem answers 400 with the reason, and
// creates nothing.
func TestSubscribeRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	for _, form := range []url.Values{
		{"email": {"not-an-address"}},
		{"email": {"a@example.com"}, "digest": {"nope"}},
		{"email": {"a@example.com"}, "section": {"nope"}},
	} {
		if code, body := e.do("POST", "/subscribe", form.Encode()); code != http.StatusBadRequest || !strings.Contains(body, `class="error"`) {
			t.Errorf("%v: %d", form, code)
		}
	}
	if _, ok, _ := e.store.FindSubscriber(context.Background(), "a@example.com"); ok {
		t.Fatal("a refused request created a subscriber")
	}
}

// A publisher's own form may post multipart/form-data (enctype on the
// form): it subscribes like an urlencoded one, sections included.
func TestSubscribeMultipartForm(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	for _, kv := range [][2]string{{"email", "multi@example.com"}, {"name", "Multi Part"}, {"section", "world"}} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/subscribe", strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("multipart POST /subscribe: %d", resp.StatusCode)
	}
	e.svc.Wait()
	sub, _, err := e.store.FindSubscriber(ctx, "multi@example.com")
	if err != nil || sub.Name != "Multi Part" {
		t.Fatalf("subscriber %+v %v", sub, err)
	}
	subs, _ := e.store.SubscriptionsOf(ctx, sub.ID)
	if len(subs) != 1 || len(subs[0].Sections) != 1 || subs[0].Sections[0] != "world" {
		t.Fatalf("subscriptions %+v", subs)
	}
	if len(e.smtp.Messages()) != 1 {
		t.Fatalf("confirmations: %d", len(e.smtp.Messages()))
	}
}
