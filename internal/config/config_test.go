package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Feeds.Items != 50 || c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" || c.SMTP.MaxConnections != 4 || c.SMTP.MaxAttempts != 5 {
		t.Errorf("defaults wrong: %+v %+v", c.Feeds, c.SMTP)
	}
	if len(c.Digests) != 1 || c.Digests[0].Name != "daily" || c.Digests[0].Schedule != "0 7 * * *" || c.Digests[0].Timezone != "UTC" {
		t.Errorf("default digest = %+v", c.Digests)
	}
	if c.Digests[0].CatchUp.D() != 12*time.Hour || c.Digests[0].MinArticles != 1 {
		t.Errorf("digest defaults = %+v", c.Digests[0])
	}
	if c.HTTP.BaseURL != c.Site.URL {
		t.Errorf("http.base_url defaults to site.url: %q vs %q", c.HTTP.BaseURL, c.Site.URL)
	}
}

// The example config must load and hold every key.
func TestExampleConfigLoads(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(b)
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if c.Site.Name == "" || len(c.Digests) == 0 {
		t.Errorf("example config incomplete: %+v", c)
	}
	for _, key := range []string{"site:", "postal_address:", "database:", "secret:", "templates_dir:", "level:", "format:",
		"listen:", "base_url:", "admin_token:", "trusted_proxies:", "subscribe_per_hour:", "items:", "output_dir:",
		"cache_control:", "xsl:", "websub_hubs:", "cache_bytes:", "transport:", "file_dir:", "host:", "port:", "tls:",
		"username:", "password:", "from:", "max_connections:", "rate_per_second:", "max_attempts:", "timeout:",
		"dkim:", "domain:", "selector:", "private_key_file:", "digests:", "schedule:", "timezone:", "subject:",
		"lookback:", "min_articles:", "max_articles:", "sections:", "authors:", "template:", "catch_up:", "title:"} {
		if !strings.Contains(string(b), key) {
			t.Errorf("config.example.yaml lacks %s", key)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	env := map[string]string{
		"HERALD_SMTP_HOST":            "mail.internal",
		"HERALD_SMTP_PORT":            "2525",
		"HERALD_SMTP_PASSWORD":        "s3cret",
		"HERALD_HTTP_ADMIN_TOKEN":     "tok-0123456789abcdef0123456789abcdef",
		"HERALD_FEEDS_ITEMS":          "20",
		"HERALD_SMTP_DKIM_SELECTOR":   "",
		"HERALD_SITE_URL":             "https://example.org/",
		"HERALD_SMTP_TIMEOUT":         "5s",
		"HERALD_SMTP_RATE_PER_SECOND": "12.5",
	}
	c, err := Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Host != "mail.internal" || c.SMTP.Port != 2525 || c.SMTP.Password != "s3cret" || c.HTTP.AdminToken != "tok-0123456789abcdef0123456789abcdef" ||
		c.Feeds.Items != 20 || c.Site.URL != "https://example.org" || c.SMTP.Timeout.D() != 5*time.Second || c.SMTP.RatePerSecond != 12.5 {
		t.Errorf("env not applied: %+v %+v", c.SMTP, c.Feeds)
	}
	if c.HTTP.BaseURL != "https://example.org" {
		t.Errorf("base_url = %q", c.HTTP.BaseURL)
	}
	_, err = Load("", func(k string) (string, bool) {
		if k == "HERALD_SMTP_PORT" {
			return "many", true
		}
		return "", false
	})
	if err == nil || !strings.Contains(err.Error(), "smtp.port") || !strings.Contains(err.Error(), "HERALD_SMTP_PORT") {
		t.Errorf("bad env value error = %v", err)
	}
}

func TestBadConfigsNameTheKey(t *testing.T) {
	cases := []struct {
		name, yaml, key string
	}{
		{"unknown top key", "sitee: {}\n", "unknown key sitee (line 1)"},
		{"unknown nested key", "site:\n  nmae: x\n", "unknown key site.nmae (line 2)"},
		{"unknown digest key", "digests:\n  - name: d\n    shedule: '0 7 * * *'\n", "unknown key digests[0].shedule (line 3)"},
		{"relative site url", "site: {url: /news}\n", "site.url"},
		{"ftp site url", "site: {url: 'ftp://x.example'}\n", "site.url"},
		{"bad tls", "smtp: {tls: ssl}\n", "smtp.tls"},
		{"bad port type", "smtp: {port: abc}\n", "smtp.port (line 1)"},
		{"port range", "smtp: {port: 70000}\n", "smtp.port"},
		{"bad transport", "smtp: {transport: carrier-pigeon}\n", "smtp.transport"},
		{"bad from", "smtp: {from: 'not an address'}\n", "smtp.from"},
		{"zero connections", "smtp: {max_connections: 0}\n", "smtp.max_connections"},
		{"negative rate", "smtp: {rate_per_second: -1}\n", "smtp.rate_per_second"},
		{"bad timeout", "smtp: {timeout: soon}\n", "smtp.timeout"},
		{"items zero", "feeds: {items: 0}\n", "feeds.items"},
		{"bad hub", "feeds: {websub_hubs: ['nope']}\n", "feeds.websub_hubs[0]"},
		{"bad log level", "log: {level: loud}\n", "log.level"},
		{"bad log format", "log: {format: xml}\n", "log.format"},
		{"bad proxy", "http: {trusted_proxies: ['10.0.0.0/99']}\n", "http.trusted_proxies[0]"},
		{"list as scalar", "feeds: {websub_hubs: 'https://hub.example'}\n", "feeds.websub_hubs (line 1): want a list"},
		{"bad schedule", "digests:\n  - {name: d, schedule: '61 7 * * *'}\n", "digests[0] (d).schedule"},
		{"six fields", "digests:\n  - {name: d, schedule: '0 0 7 * * *'}\n", "digests[0] (d).schedule"},
		{"cron tz prefix", "digests:\n  - {name: d, schedule: 'CRON_TZ=Europe/London 0 7 * * *'}\n", "digests[0] (d).schedule"},
		{"tz garbage prefix", "digests:\n  - {name: d, schedule: 'TZ= 0 7 * * *'}\n", "digests[0] (d).schedule"},
		{"bad timezone", "digests:\n  - {name: d, timezone: Mars/Olympus}\n", "digests[0] (d).timezone"},
		{"duplicate names", "digests:\n  - {name: d}\n  - {name: d}\n", "duplicate digest name"},
		{"bad name", "digests:\n  - {name: 'a b'}\n", "digests[0].name"},
		{"max below min", "digests:\n  - {name: d, min_articles: 5, max_articles: 2}\n", "digests[0] (d).max_articles"},
		{"bad lookback", "digests:\n  - {name: d, lookback: yesterday}\n", "digests[0].lookback"},
		{"negative refresh", "feeds: {refresh_interval: -5s}\n", "feeds.refresh_interval"},
		{"zero read timeout", "http: {read_timeout: 0s}\n", "http.read_timeout"},
		{"password in clear", "smtp: {host: mail.example.com, tls: none, password: pw}\n", "smtp.tls"},
		{"dkim half set", "smtp: {dkim: {domain: example.com}}\n", "smtp.dkim.selector"},
		{"not yaml", "site: [\n", "config:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error for %q", tc.yaml)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %q does not name %q", err, tc.key)
			}
		})
	}
}

func TestParseScheduleNeverPanics(t *testing.T) {
	for _, spec := range []string{"CRON_TZ=", "TZ=", "CRON_TZ=x", "TZ=Nowhere 0 7 * * *", "@every 1h", "", "* * * * * *", "0 7 * * 8", "a b c d e"} {
		if _, err := ParseSchedule(spec); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", spec)
		}
	}
	if _, err := ParseSchedule("0 7 * * 1-5"); err != nil {
		t.Errorf("weekday spec refused: %v", err)
	}
}

func TestSecretsNotLogged(t *testing.T) {
	c, err := Parse([]byte("secret: topsecret-0123456789abcdef0123456789\nsecret_previous: oldsecret\nsmtp: {password: hunter2}\nhttp: {admin_token: adm1n-0123456789abcdef0123456789ab}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.LogValue().String()
	for _, secret := range []string{"topsecret", "oldsecret", "hunter2", "adm1n"} {
		if strings.Contains(s, secret) {
			t.Errorf("LogValue leaks %q: %s", secret, s)
		}
	}
}

func TestLoadNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h.yaml")
	os.WriteFile(p, []byte("smtp: {tls: bogus}\n"), 0o600)
	_, err := Load(p, func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "smtp.tls") {
		t.Errorf("err = %v", err)
	}
}
