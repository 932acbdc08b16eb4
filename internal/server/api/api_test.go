package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/server/api"
	"github.com/heraldnews/herald/internal/store"
)

const admin = "api-test-admin-token-0123456789abcdef"

// newAPI serves the API over a real store and digest service that writes
// mail as .eml files.
func newAPI(t *testing.T, token string) (*httptest.Server, *store.Store) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Parse([]byte(`
site: { name: "The Herald", url: "https://news.example.com" }
secret: "test-secret-0123456789abcdef0123456789"
smtp: { from: "The Herald <digest@news.example.com>", transport: file, file_dir: "` + t.TempDir() + `" }
digests: [ { name: daily, schedule: "0 7 * * *", timezone: UTC } ]
`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), t.TempDir()+"/herald.db", store.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := mailer.New(cfg.SMTP, mailer.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	svc, err := digest.New(digest.Options{Config: cfg, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st, Leases: st, Mailer: m, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.New(api.Options{AdminToken: token, Editions: svc, Store: st, Log: quiet}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, st
}

func call(t *testing.T, srv *httptest.Server, method, path, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Every refusal has its status and a reason; domain errors map through
// package web (EINVALID 400, ECONFLICT 409).
func TestSendNowStatuses(t *testing.T) {
	srv, st := newAPI(t, admin)
	bearer := "Bearer " + admin
	for _, tc := range []struct {
		name, path, auth, body string
		want                   int
		says                   string
	}{
		{"no token", "/api/send-now", "", "", 401, "missing bearer token"},
		{"wrong token", "/api/send-now", "Bearer nope", "", 401, "invalid token"},
		{"token in the URL", "/api/send-now?token=" + admin, bearer, "", 400, "never in the URL"},
		{"bad JSON", "/api/send-now", bearer, "{", 400, "invalid JSON"},
		{"unknown field", "/api/send-now", bearer, `{"digets":"daily"}`, 400, "invalid JSON"},
		{"unknown digest", "/api/send-now", bearer, `{"digest":"nope"}`, 400, `no digest named "nope"`},
		{"unknown section", "/api/send-now", bearer, `{"section":["nope"]}`, 400, `no section with slug "nope"`},
		{"bad since", "/api/send-now", bearer, `{"since":"-1h"}`, 400, "positive duration"},
		{"dry run", "/api/send-now", bearer, `{"dry_run":true}`, 400, "CLI"},
	} {
		code, out := call(t, srv, "POST", tc.path, tc.auth, tc.body)
		if msg, _ := out["error"].(string); code != tc.want || !strings.Contains(msg, tc.says) {
			t.Errorf("%s: %d %v, want %d saying %q", tc.name, code, out, tc.want, tc.says)
		}
	}
	ctx := context.Background()
	if ok, err := st.AcquireLease(ctx, "daily", "elsewhere.example:1:x", 0, time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if code, out := call(t, srv, "POST", "/api/send-now", bearer, `{"digest":"daily"}`); code != 409 {
		t.Fatalf("lease held: %d %v", code, out)
	}
	if err := st.ReleaseLease(ctx, "daily", "elsewhere.example:1:x"); err != nil {
		t.Fatal(err)
	}
	code, out := call(t, srv, "POST", "/api/send-now", bearer, `{"digest":"daily","since":"6h"}`)
	if code != 202 || out["edition_id"] == nil || out["digest"] != "daily" {
		t.Fatalf("send-now: %d %v", code, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, out = call(t, srv, "GET", "/api/editions?limit=5", bearer, "")
		eds, _ := out["editions"].([]any)
		if code == 200 && len(eds) == 1 && eds[0].(map[string]any)["status"] == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("editions: %d %v", code, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := call(t, srv, "GET", "/api/editions?limit=0", bearer, ""); code != 400 {
		t.Fatalf("limit 0: %d", code)
	}
}

// Without http.admin_token the API is off: 403 whatever is sent.
func TestAPIDisabledWithoutToken(t *testing.T) {
	srv, _ := newAPI(t, "")
	if code, out := call(t, srv, "GET", "/api/editions", "Bearer x", ""); code != 403 || !strings.Contains(out["error"].(string), "http.admin_token") {
		t.Fatalf("%d %v", code, out)
	}
}
