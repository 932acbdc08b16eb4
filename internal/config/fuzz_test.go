package config

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary YAML to the config loader: it never panics,
// and whatever it accepts is valid (Validate passes, every digest's
// schedule parses and its timezone loads). The seed corpus is in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("site: {name: News, url: \"https://news.example.com\"}\n"))
	f.Add([]byte("digests:\n  - {name: daily, schedule: \"0 7 * * *\", timezone: Europe/London}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if c != nil {
				t.Fatalf("an error and a config: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate refuses: %v\n%s", err, b)
		}
		if len(c.Digests) == 0 {
			t.Fatal("no digests")
		}
		for i := range c.Digests {
			d := &c.Digests[i]
			if _, err := d.CronSchedule(); err != nil {
				t.Fatalf("digest %q: accepted schedule %q does not parse: %v", d.Name, d.Schedule, err)
			}
			if d.Location() == nil {
				t.Fatalf("digest %q: no location for %q", d.Name, d.Timezone)
			}
		}
	})
}

// envKeys are the environment overrides FuzzEnv sets.
var envKeys = []string{"HERALD_SITE_URL", "HERALD_SMTP_PORT", "HERALD_SMTP_TLS", "HERALD_SMTP_TIMEOUT",
	"HERALD_SMTP_RATE_PER_SECOND", "HERALD_HTTP_LISTEN", "HERALD_FEEDS_ITEMS", "HERALD_SMTP_FROM",
	"HERALD_HTTP_SUBSCRIBE_PER_HOUR", "HERALD_LOG_LEVEL", "HERALD_SECRET", "HERALD_FEEDS_CACHE_BYTES"}

// FuzzEnv sets one HERALD_* override to an arbitrary value: never a
// panic; an accepted value leaves a valid config; a refused one is an
// error that names the variable.
func FuzzEnv(f *testing.F) {
	f.Add(uint8(1), "2525")
	f.Add(uint8(3), "90s")
	f.Fuzz(func(t *testing.T, k uint8, v string) {
		key := envKeys[int(k)%len(envKeys)]
		c, err := Load("", func(name string) (string, bool) {
			if name == key {
				return v, true
			}
			return "", false
		})
		if err != nil {
			if !strings.Contains(err.Error(), key) && !strings.Contains(err.Error(), strings.ToLower(strings.TrimPrefix(key, "HERALD_"))[:4]) {
				t.Logf("error for %s=%q does not name it: %v", key, v, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s=%q: accepted, then Validate refuses: %v", key, v, err)
		}
	})
}
