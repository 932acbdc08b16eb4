package main

import (
	"net/http"
	"strings"
	"testing"
)

// herald editors add / list / passwd / remove and herald audit, with the
// password from HERALD_EDITOR_PASSWORD (no terminal here).
func TestEditorsAndAuditCommands(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), nil, 1)
	pw := map[string]string{"HERALD_EDITOR_PASSWORD": "a long password"}
	if code, _, errs := runHerald(t, cfg, "editors", "add", "chief@example.com"); code != 1 || !strings.Contains(errs, "HERALD_EDITOR_PASSWORD") {
		t.Fatalf("no password: %d %q", code, errs)
	}
	if code, out, errs := runHeraldEnv(t, withConfig(cfg, pw), "editors", "add", "chief@example.com", "--role", "admin", "--name", "Chief"); code != 0 || !strings.Contains(out, "chief@example.com added (admin)") {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	if code, _, errs := runHeraldEnv(t, withConfig(cfg, pw), "editors", "add", "desk@example.com", "--role", "boss"); code != 1 || !strings.Contains(errs, "editor or admin") {
		t.Fatalf("bad role: %d %q", code, errs)
	}
	if code, _, errs := runHeraldEnv(t, withConfig(cfg, map[string]string{"HERALD_EDITOR_PASSWORD": "short"}), "editors", "add", "desk@example.com"); code != 1 || !strings.Contains(errs, "10 to 256") {
		t.Fatalf("short password: %d %q", code, errs)
	}
	runHeraldEnv(t, withConfig(cfg, pw), "editors", "add", "desk@example.com")
	code, out, _ := runHerald(t, cfg, "editors", "list")
	if code != 0 || !strings.Contains(out, "chief@example.com") || !strings.Contains(out, "desk@example.com") || !strings.Contains(out, "never") {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, _ := runHeraldEnv(t, withConfig(cfg, map[string]string{"HERALD_EDITOR_PASSWORD": "another long one"}), "editors", "passwd", "desk@example.com"); code != 0 || !strings.Contains(out, "every session") {
		t.Fatalf("passwd: %d %q", code, out)
	}
	if code, _, errs := runHerald(t, cfg, "editors", "remove", "chief@example.com"); code != 1 || !strings.Contains(errs, "last admin") {
		t.Fatalf("remove the last admin: %d %q", code, errs)
	}
	if code, out, _ := runHerald(t, cfg, "editors", "remove", "desk@example.com"); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("remove: %d %q", code, out)
	}
	if code, out, errs := runHerald(t, cfg, "send-now", "--section", "world"); code == 0 || !strings.Contains(errs, "world") {
		t.Fatalf("send-now with an unknown section: %d %q %q", code, out, errs)
	}
	if code, out, errs := runHerald(t, cfg, "send-now", "--since", "6h"); code != 0 {
		t.Fatalf("send-now: %d %q %q", code, out, errs)
	}
	code, out, _ = runHerald(t, cfg, "audit", "--since", "1h")
	if code != 0 || !strings.Contains(out, "send_now") || !strings.Contains(out, "digest=daily since=6h0m0s") {
		t.Fatalf("send-now not audited: %q", out)
	}
	if code != 0 || !strings.Contains(out, "editor_add") || !strings.Contains(out, "editor_passwd") || !strings.Contains(out, "editor_remove") || !strings.Contains(out, "cli") {
		t.Fatalf("audit: %d %q", code, out)
	}
	if code, _, errs := runHerald(t, cfg, "audit", "--since", "soon"); code != 1 || !strings.Contains(errs, "--since") {
		t.Fatalf("bad since: %d %q", code, errs)
	}
}

// withConfig adds HERALD_CONFIG=cfg to env.
func withConfig(cfg string, env map[string]string) map[string]string {
	out := map[string]string{"HERALD_CONFIG": cfg}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// An edition the JSON API starts is in the audit log (actor api), and
// herald serve mounts the editors' pages behind their login.
func TestServeAuditsAPIAndMountsAdmin(t *testing.T) {
	e := startServe(t)
	resp, body := e.do(t, "POST", "/api/send-now", "application/json", `{"digest":"daily"}`, "Authorization", "Bearer "+testAdmin)
	if resp.StatusCode != 202 {
		t.Fatalf("send-now: %d %s", resp.StatusCode, body)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Get(e.base + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/admin/login") {
		t.Fatalf("/admin/ without a session: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	code, out, _ := runHerald(t, e.cfgPath, "audit")
	if code != 0 || !strings.Contains(out, "api ") || !strings.Contains(out, "digest=daily") || !strings.Contains(out, "127.0.0.1") {
		t.Fatalf("API send-now not audited: %q", out)
	}
}
