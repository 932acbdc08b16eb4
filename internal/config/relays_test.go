package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRelaysDefaultsAndPasswordEnv(t *testing.T) {
	env := map[string]string{"RELAY_B_PASSWORD": "s3cret"}
	c, err := Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SMTP.EffectiveRelays(); len(got) != 1 || got[0].Host != "localhost" || got[0].Port != 587 ||
		got[0].MaxConnections != 4 || got[0].Weight != 1 || got[0].Name() != "localhost:587" {
		t.Fatalf("one relay from the single keys: %+v", got)
	}
	c, err = parseEnv([]byte(`
smtp:
  from: "News <digest@news.example.com>"
  relays:
    - { host: a.example.com }
    - { host: b.example.com, port: 465, tls: tls, username: herald, password_env: RELAY_B_PASSWORD,
        max_connections: 8, rate_per_second: 50, weight: 3 }
`), env)
	if err != nil {
		t.Fatal(err)
	}
	rs := c.SMTP.EffectiveRelays()
	if len(rs) != 2 {
		t.Fatalf("%+v", rs)
	}
	if a := rs[0]; a.Port != 587 || a.TLS != "starttls" || a.MaxConnections != 4 || a.Weight != 1 || a.RatePerSecond != 0 {
		t.Errorf("relay a defaults: %+v", a)
	}
	if b := rs[1]; b.Password != "s3cret" || b.Port != 465 || b.Weight != 3 || b.Name() != "b.example.com:465" {
		t.Errorf("relay b: %+v", b)
	}
}

func parseEnv(b []byte, env map[string]string) (*Config, error) {
	return load(b, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func TestRelaysErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, yaml string
		env        map[string]string
		key        string
	}{
		{"single key with relays", "smtp: {host: mail.example.com, relays: [{host: a.example.com}]}\n", nil, "smtp.host: must be absent when smtp.relays is given"},
		{"port with relays", "smtp: {port: 25, relays: [{host: a.example.com}]}\n", nil, "smtp.port: must be absent"},
		{"connections with relays", "smtp: {max_connections: 2, relays: [{host: a.example.com}]}\n", nil, "smtp.max_connections: must be absent"},
		{"env single key with relays", "smtp: {relays: [{host: a.example.com}]}\n", map[string]string{"HERALD_SMTP_PASSWORD": "x"}, "smtp.password (from HERALD_SMTP_PASSWORD): must be absent"},
		{"no host", "smtp: {relays: [{port: 25}]}\n", nil, "smtp.relays[0].host"},
		{"bad tls", "smtp: {relays: [{host: a.example.com, tls: ssl}]}\n", nil, "smtp.relays[0].tls"},
		{"bad port", "smtp: {relays: [{host: a.example.com}, {host: b.example.com, port: 70000}]}\n", nil, "smtp.relays[1].port"},
		{"too many connections", "smtp: {relays: [{host: a.example.com, max_connections: 500}]}\n", nil, "smtp.relays[0].max_connections"},
		{"negative weight", "smtp: {relays: [{host: a.example.com, weight: -1}]}\n", nil, "smtp.relays[0].weight"},
		{"negative rate", "smtp: {relays: [{host: a.example.com, rate_per_second: -2}]}\n", nil, "smtp.relays[0].rate_per_second"},
		{"password in clear", "smtp: {relays: [{host: a.example.com, tls: none, password: pw}]}\n", nil, "smtp.relays[0].tls"},
		{"both passwords", "smtp: {relays: [{host: a.example.com, password: pw, password_env: X}]}\n", map[string]string{"X": "y"}, "smtp.relays[0]: give password or password_env"},
		{"unset password env", "smtp: {relays: [{host: a.example.com, password_env: NOPE}]}\n", nil, "smtp.relays[0].password_env: environment variable NOPE is not set"},
		{"twice", "smtp: {relays: [{host: a.example.com}, {host: a.example.com}]}\n", nil, "a.example.com:587 is listed twice"},
		{"unknown relay key", "smtp: {relays: [{host: a.example.com, hots: x}]}\n", nil, "unknown key smtp.relays[0].hots"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseEnv([]byte(tc.yaml), tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("err = %v, want it to name %q", err, tc.key)
			}
		})
	}
}

// config.example.yaml documents smtp.relays and each relay key.
func TestExampleDocumentsRelays(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"relays:", "password_env:", "weight:", "max_connections:", "rate_per_second:"} {
		if !strings.Contains(string(b), key) {
			t.Errorf("config.example.yaml lacks %s", key)
		}
	}
}
