package lifecycle_test

import (
	"context"
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

// The suppression list through the service: entries are checked and
// normalised, a page lists one reason's entries, removing one says whether
// there was anything to remove.
func TestSuppressionList(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, bad := range []string{"", "not an address", "@", "@no_dots"} {
		if err := e.svc.Suppress(ctx, bad, ""); model.ErrorCode(err) != model.EINVALID {
			t.Errorf("Suppress(%q): %v", bad, err)
		}
	}
	if err := e.svc.Suppress(ctx, " Ann@Example.COM ", "by phone"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Suppress(ctx, "@Spam.Example", ""); err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.SuppressionPage(ctx, model.SuppressionQuery{Reason: model.SuppressedOperator, Limit: 10})
	if err != nil || len(page) != 2 || page[0].Entry != "@spam.example" || page[1].Entry != "ann@example.com" || page[1].Note != "by phone" {
		t.Fatalf("page: %+v %v", page, err)
	}
	if _, err := e.svc.SuppressionPage(ctx, model.SuppressionQuery{Reason: "everything"}); model.ErrorCode(err) != model.EINVALID {
		t.Errorf("an unknown reason: %v", err)
	}
	if ok, err := e.svc.Unsuppress(ctx, "ANN@example.com"); !ok || err != nil {
		t.Errorf("unsuppress: %v %v", ok, err)
	}
	if ok, err := e.svc.Unsuppress(ctx, "ann@example.com"); ok || err != nil {
		t.Errorf("unsuppress again: %v %v", ok, err)
	}
}
