package web

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// Domain errors map to a status by their code, wherever they were wrapped,
// and show their own message; anything else is a 500 that shows nothing of
// itself.
func TestProblemOf(t *testing.T) {
	sentinel := &model.Error{Code: model.ECONFLICT, Message: "another process is sending this digest"}
	for _, tc := range []struct {
		err     error
		status  int
		message string
	}{
		{&model.Error{Code: model.EINVALID, Message: "bad slug"}, 400, "bad slug"},
		{fmt.Errorf("store: subscriber 7: %w", &model.Error{Code: model.ENOTFOUND, Message: "not found"}), 404, "not found"},
		{&model.Error{Code: model.EEXPIRED, Message: "old link"}, 403, "old link"},
		{fmt.Errorf("%w: daily", sentinel), 409, "another process is sending this digest"},
		{sentinel.With("digest %s is busy", "daily"), 409, "digest daily is busy"},
		{&model.Error{Code: model.EFINISHED, Message: "done"}, 409, "done"},
		{errors.New("database is locked: /var/lib/herald/herald.db"), 500, "Please try again in a few minutes."},
	} {
		p := ProblemOf(tc.err)
		if p.Status != tc.status || p.Message != tc.message || p.Heading == "" {
			t.Errorf("%v: %+v, want %d %q", tc.err, p, tc.status, tc.message)
		}
	}
	rec := httptest.NewRecorder()
	JSONError(rec, slog.New(slog.NewTextHandler(io.Discard, nil)), errors.New("secret detail"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret detail") {
		t.Fatalf("internal error leaked: %d %s", rec.Code, rec.Body)
	}
}

// Every page carries the same security headers.
func TestPagesHeaders(t *testing.T) {
	p, err := LoadPages(config.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	p.Render(rec, http.StatusOK, "subscribed.html", struct{ SiteName string }{"Herald"})
	h := rec.Header()
	if h.Get("Content-Security-Policy") != CSP || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", h)
	}
	// A template that fails when run is a clean 500, not half a page.
	rec = httptest.NewRecorder()
	p.Render(rec, http.StatusOK, "message", struct{}{})
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "<html") {
		t.Fatalf("failed render: %d %q", rec.Code, rec.Body)
	}
}
