package provider

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldnews/herald/bounce"
)

// postmarkBounce is a Bounce webhook in the shape of Postmark's docs.
const postmarkBounce = `{"RecordType":"Bounce","MessageStream":"outbound","ID":4323372036854775807,"Type":"HardBounce",
"TypeCode":1,"Name":"Hard bounce","Tag":"daily","MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Metadata":{"delivery":"42","edition":7},
"ServerID":23,"Description":"The server was unable to deliver your message (ex: unknown user, mailbox not found).",
"Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist.","Email":"alice@example.org",
"From":"news@news.example.com","BouncedAt":"2026-03-03T07:00:05Z","DumpAvailable":true,"Inactive":true,"CanActivate":true,"Subject":"The Daily Example"}`

func TestPostmark(t *testing.T) {
	p := NewPostmark("herald", "s3cret-hook-pass")
	req := func(body, user, pass string) *http.Request {
		r := post([]byte(body))
		if user != "" || pass != "" {
			r.SetBasicAuth(user, pass)
		}
		return r
	}
	evs, err := p.Parse(req(postmarkBounce, "herald", "s3cret-hook-pass"))
	if err != nil || len(evs) != 1 {
		t.Fatalf("%+v %v", evs, err)
	}
	e := evs[0]
	if e.Kind != bounce.Hard || e.Recipient != "alice@example.org" || e.Status != "5.1.1" || e.EventID != "4323372036854775807" ||
		e.ProviderMessageID != "883953f4-6105-42a2-a16a-77a8eac79483" || e.Metadata["delivery"] != "42" || e.Metadata["edition"] != "7" || e.At.IsZero() {
		t.Errorf("event %+v", e)
	}
	for _, c := range []struct{ user, pass string }{{"", ""}, {"herald", "wrong"}, {"other", "s3cret-hook-pass"}, {"herald", "s3cret-hook-pas"}} {
		if _, err := p.Parse(req(postmarkBounce, c.user, c.pass)); !errors.Is(err, ErrSignature) {
			t.Errorf("credentials %q/%q: %v", c.user, c.pass, err)
		}
	}
	if _, err := NewPostmark("", "").Parse(req(postmarkBounce, "", "")); !errors.Is(err, ErrSignature) {
		t.Errorf("empty credentials accepted: %v", err)
	}
	for _, c := range []struct {
		from, to string
		want     bounce.Kind
	}{
		{`"Type":"HardBounce"`, `"Type":"Transient"`, bounce.Soft},
		{`"Type":"HardBounce"`, `"Type":"AutoResponder"`, bounce.None},
		{`"RecordType":"Bounce","MessageStream":"outbound","ID":4323372036854775807,"Type":"HardBounce"`, `"RecordType":"SpamComplaint","MessageStream":"outbound","ID":4323372036854775807,"Type":"SpamComplaint"`, bounce.Complaint},
		{`550 5.1.1 The email account that you tried to reach does not exist.`, `550 5.7.1 Message rejected as spam`, bounce.Soft},
	} {
		body := strings.Replace(postmarkBounce, c.from, c.to, 1)
		evs, err := p.Parse(req(body, "herald", "s3cret-hook-pass"))
		if err != nil || len(evs) != 1 || evs[0].Kind != c.want {
			t.Errorf("%s: %+v %v, want %s", c.to, evs, err, c.want)
		}
	}
	if evs, err := p.Parse(req(`{"RecordType":"Delivery","Recipient":"a@b.example"}`, "herald", "s3cret-hook-pass")); err != nil || len(evs) != 0 {
		t.Errorf("delivery record: %+v %v", evs, err)
	}
	if _, err := p.Parse(req(`{`, "herald", "s3cret-hook-pass")); !errors.Is(err, ErrPayload) {
		t.Errorf("bad json: %v", err)
	}
}
