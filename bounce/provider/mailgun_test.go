package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/bounce"
	"github.com/heraldnews/herald/internal/testkit"
)

const mailgunKey = "key-test-0123456789abcdef"

// mailgunEventData is a failed event in the shape of Mailgun's docs.
const mailgunEventData = `{"id":"G9Bn5sl1TC6nu79C8C0bwg","timestamp":1772521205.123456,"log-level":"error","event":"failed",
"severity":"permanent","reason":"bounce","recipient":"alice@example.org","recipient-domain":"example.org",
"delivery-status":{"attempt-no":1,"message":"550 5.1.1 The email account that you tried to reach does not exist.","code":550,
"enhanced-code":"5.1.1","description":"","session-seconds":0.4},
"message":{"headers":{"to":"alice@example.org","message-id":"42.1f2e3d4c5b6a7988@news.example.com","from":"news@news.example.com","subject":"The Daily Example"},"size":2048},
"user-variables":{"delivery":"42"}}`

// mailgunBody signs event data as Mailgun does.
func mailgunBody(key string, ts time.Time, token, eventData string) []byte {
	t := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(t + token))
	return fmt.Appendf(nil, `{"signature":{"timestamp":%q,"token":%q,"signature":%q},"event-data":%s}`,
		t, token, hex.EncodeToString(mac.Sum(nil)), eventData)
}

func TestMailgun(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 3, 3, 7, 0, 10, 0, time.UTC))
	m := NewMailgun(mailgunKey, MailgunOptions{Now: clock.Now})
	evs, err := m.Parse(post(mailgunBody(mailgunKey, clock.Now(), "tok-1", mailgunEventData)))
	if err != nil || len(evs) != 1 {
		t.Fatalf("%+v %v", evs, err)
	}
	e := evs[0]
	if e.Kind != bounce.Hard || e.Recipient != "alice@example.org" || e.Status != "5.1.1" || e.EventID != "G9Bn5sl1TC6nu79C8C0bwg" ||
		e.MessageID != "<42.1f2e3d4c5b6a7988@news.example.com>" || e.Metadata["delivery"] != "42" || e.At.Unix() != 1772521205 {
		t.Errorf("event %+v", e)
	}
	for _, c := range []struct {
		from, to string
		want     bounce.Kind
	}{
		{`"severity":"permanent"`, `"severity":"temporary"`, bounce.None},
		{`"reason":"bounce"`, `"reason":"suppress-bounce"`, bounce.Hard},
		{`550 5.1.1 The email account that you tried to reach does not exist.","code":550,
"enhanced-code":"5.1.1"`, `554 5.7.1 rejected as spam","code":554,
"enhanced-code":"5.7.1"`, bounce.Soft},
		{`"event":"failed"`, `"event":"complained"`, bounce.Complaint},
	} {
		data := strings.Replace(mailgunEventData, c.from, c.to, 1)
		if data == mailgunEventData {
			t.Fatalf("%s: no replacement", c.to)
		}
		evs, err := m.Parse(post(mailgunBody(mailgunKey, clock.Now(), "tok-"+c.to, data)))
		if err != nil || len(evs) != 1 || evs[0].Kind != c.want {
			t.Errorf("%s: %+v %v, want %s", c.to, evs, err, c.want)
		}
	}
	delivered := strings.Replace(mailgunEventData, `"event":"failed"`, `"event":"delivered"`, 1)
	if evs, err := m.Parse(post(mailgunBody(mailgunKey, clock.Now(), "tok-d", delivered))); err != nil || len(evs) != 0 {
		t.Errorf("delivered: %+v %v", evs, err)
	}
}

func TestMailgunRefuses(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 3, 3, 7, 0, 10, 0, time.UTC))
	m := NewMailgun(mailgunKey, MailgunOptions{Now: clock.Now, Window: 5 * time.Minute})
	good := mailgunBody(mailgunKey, clock.Now(), "tok-good", mailgunEventData)
	if _, err := m.Parse(post(good)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"replayed token", good},
		{"wrong key", mailgunBody("key-other", clock.Now(), "tok-2", mailgunEventData)},
		{"stale timestamp", mailgunBody(mailgunKey, clock.Now().Add(-6*time.Minute), "tok-3", mailgunEventData)},
		{"future timestamp", mailgunBody(mailgunKey, clock.Now().Add(6*time.Minute), "tok-4", mailgunEventData)},
		{"tampered token", []byte(strings.Replace(string(mailgunBody(mailgunKey, clock.Now(), "tok-5", mailgunEventData)), "tok-5", "tok-6", 1))},
		{"no signature", []byte(`{"event-data":` + mailgunEventData + `}`)},
		{"not json", []byte(`timestamp=1&token=x&signature=y`)},
	} {
		if _, err := m.Parse(post(c.body)); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", c.name, err)
		}
	}
}

// TestMailgunReplayCacheBounded checks that the cache keeps at most
// MaxTokens tokens and forgets tokens once their timestamps leave the
// window.
func TestMailgunReplayCacheBounded(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 3, 3, 7, 0, 10, 0, time.UTC))
	m := NewMailgun(mailgunKey, MailgunOptions{Now: clock.Now, MaxTokens: 3, Window: time.Minute})
	for i := range 10 {
		if _, err := m.Parse(post(mailgunBody(mailgunKey, clock.Now(), fmt.Sprint("t", i), mailgunEventData))); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.seen) != 3 || len(m.order) != 3 {
		t.Fatalf("cache holds %d/%d tokens, want 3", len(m.seen), len(m.order))
	}
	if _, err := m.Parse(post(mailgunBody(mailgunKey, clock.Now(), "t9", mailgunEventData))); !errors.Is(err, ErrSignature) {
		t.Errorf("recent token replayed: %v", err)
	}
	clock.Add(2 * time.Minute)
	if _, err := m.Parse(post(mailgunBody(mailgunKey, clock.Now(), "t-late", mailgunEventData))); err != nil {
		t.Fatal(err)
	}
	if len(m.seen) != 1 {
		t.Errorf("expired tokens kept: %d", len(m.seen))
	}
}
