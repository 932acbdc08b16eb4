package subscription_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/subscription"
)

// A subscriber's timezone is an IANA name time.LoadLocation knows; it is
// kept when a later request gives none, and a stranger's request for an
// active address does not change it.
func TestSubscribeTimezone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, bad := range []string{"Mars/Olympus_Mons", "Local", "../etc/passwd", "Europe/London extra", strings.Repeat("A", 100)} {
		_, _, err := e.svc.Subscribe(ctx, subscription.Request{Email: "a@example.com", Timezone: bad, Confirmed: true})
		if !errors.Is(err, subscription.ErrUnknownTimezone) || model.ErrorCode(err) != model.EINVALID {
			t.Errorf("timezone %q: %v", bad, err)
		}
	}
	sub, _, err := e.svc.Subscribe(ctx, subscription.Request{Email: "a@example.com", Timezone: " Pacific/Auckland ", Confirmed: true})
	if err != nil || sub.Timezone != "Pacific/Auckland" {
		t.Fatalf("%+v %v", sub, err)
	}
	if sub, _, _ = e.svc.Subscribe(ctx, subscription.Request{Email: "a@example.com", Confirmed: true}); sub.Timezone != "Pacific/Auckland" {
		t.Errorf("no timezone given cleared it: %q", sub.Timezone)
	}
	if _, _, err := e.svc.Subscribe(ctx, subscription.Request{Email: "a@example.com", Timezone: "Asia/Kolkata"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.store.SubscriberByEmail(ctx, "a@example.com"); got.Timezone != "Pacific/Auckland" {
		t.Errorf("an unconfirmed request changed an active reader's zone to %q", got.Timezone)
	}
}

// The CSV's timezone column (the last) reads and writes the reader's zone.
func TestCSVTimezone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := "email,name,digest,sections,authors,status,timezone\n" +
		"a@example.com,Ann,daily,,,,America/St_Johns\n" +
		"b@example.com,Bob,daily,,,\n" +
		"c@example.com,Cat,daily,,,,Nowhere/Atlantis\n"
	rep, err := e.svc.Import(ctx, strings.NewReader(in))
	if err != nil || rep.Imported != 2 || len(rep.Bad) != 1 || rep.Bad[0].Line != 4 || !strings.Contains(rep.Bad[0].Reason, "timezone") {
		t.Fatalf("import: %+v %v", rep, err)
	}
	var out bytes.Buffer
	if err := e.svc.Export(ctx, &out); err != nil {
		t.Fatal(err)
	}
	want := "email,name,digest,sections,authors,status,timezone\n" +
		"a@example.com,Ann,daily,,,active,America/St_Johns\n" +
		"b@example.com,Bob,daily,,,active,\n"
	if out.String() != want {
		t.Errorf("export:\n%s\nwant\n%s", out.String(), want)
	}
}
