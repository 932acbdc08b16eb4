package reader

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

// FuzzParseSubscribe sends arbitrary bodies and content types to the
// subscribe form's parser: it never panics, and whatever it accepts has a
// valid email address, a name of at most 200 bytes with no line break or
// NUL, and at most 200 follows. The seed corpus is in
// testdata/fuzz/FuzzParseSubscribe.
func FuzzParseSubscribe(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "email=a%40example.com&name=A&section=world,tech")
	f.Add("application/json", `{"email":"a@example.com","sections":["world"],"author":["ann"]}`)
	f.Fuzz(func(t *testing.T, ctype, body string) {
		r := httptest.NewRequest(http.MethodPost, "/subscribe", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		req, _, err := parseSubscribe(w, r)
		if err != nil {
			return
		}
		if _, err := model.ParseAddress(req.Email); err != nil || strings.ContainsAny(req.Email, "\r\n\x00") {
			t.Fatalf("accepted email %q", req.Email)
		}
		if len(req.Name) > 200 || strings.ContainsAny(req.Name, "\r\n\x00") {
			t.Fatalf("accepted name %q", req.Name)
		}
		if len(req.Sections)+len(req.Authors) > 200 {
			t.Fatalf("accepted %d follows", len(req.Sections)+len(req.Authors))
		}
	})
}
