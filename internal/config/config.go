// Package config is herald's typed configuration: defaults, a YAML file
// decoded strictly (an unknown key or a bad value is an error naming the key
// and its line), HERALD_* environment overrides for scalar keys, and
// Validate. It is loaded once in cmd/herald and passed down.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezones work on machines without /usr/share/zoneinfo

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Config is every key of herald.yaml; config.example.yaml documents each.
type Config struct {
	Site         Site     `yaml:"site"`
	Database     string   `yaml:"database"`
	Secret       string   `yaml:"secret" secret:"true"`
	TemplatesDir string   `yaml:"templates_dir"`
	Log          Log      `yaml:"log"`
	HTTP         HTTP     `yaml:"http"`
	Feeds        Feeds    `yaml:"feeds"`
	SMTP         SMTP     `yaml:"smtp"`
	Digests      []Digest `yaml:"digests"`
	Admin        Admin    `yaml:"admin"`

	// The subscriber lifecycle (lifecycle.go).
	SecretPrevious string      `yaml:"secret_previous" secret:"true"` // verify-only, while rotating secret
	Bounces        Bounces     `yaml:"bounces"`
	Subscribers    Subscribers `yaml:"subscribers"`
}

// Admin configures the editors' web UI (/admin/).
type Admin struct {
	SessionIdle      Duration `yaml:"session_idle"`      // a session unused this long ends
	SessionLifetime  Duration `yaml:"session_lifetime"`  // a session ends this long after login, used or not
	LoginPerHour     int      `yaml:"login_per_hour"`    // failed logins per account per hour
	LoginPerAddress  int      `yaml:"login_per_address"` // login attempts per client address per hour
	ProgressInterval Duration `yaml:"progress_interval"` // how often the progress stream reads the database
}

// Site describes the publication.
type Site struct {
	Name          string `yaml:"name"`
	URL           string `yaml:"url"`
	Language      string `yaml:"language"`
	PostalAddress string `yaml:"postal_address"`
	Icon          string `yaml:"icon"` // small square image URL (feeds' icon)
	Logo          string `yaml:"logo"` // wide image URL (feeds' logo, digest masthead)
	// Section and author pages (issue 13): URL templates with {slug}, for
	// feeds' alternate links and author uris; empty: the site URL.
	SectionURL string `yaml:"section_url"`
	AuthorURL  string `yaml:"author_url"`
}

// Log configures the slog handler.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// HTTP configures herald serve.
type HTTP struct {
	Listen           string   `yaml:"listen"`
	BaseURL          string   `yaml:"base_url"`
	AdminToken       string   `yaml:"admin_token" secret:"true"`
	TrustedProxies   []string `yaml:"trusted_proxies"`
	SubscribePerHour int      `yaml:"subscribe_per_hour"`
	ReadTimeout      Duration `yaml:"read_timeout"`
	WriteTimeout     Duration `yaml:"write_timeout"`
	ShutdownTimeout  Duration `yaml:"shutdown_timeout"`
	// Sign-up that bots cannot fill (lifecycle.go validates them).
	SubscribeMinSeconds int  `yaml:"subscribe_min_seconds"` // a post sooner after the form was rendered is a bot's
	SubscribePoW        bool `yaml:"subscribe_pow"`         // every post must solve a proof-of-work challenge
}

// Feeds configures feed building and serving.
type Feeds struct {
	Items           int      `yaml:"items"`
	OutputDir       string   `yaml:"output_dir"`
	CacheControl    string   `yaml:"cache_control"`
	XSL             string   `yaml:"xsl"`
	WebSubHubs      []string `yaml:"websub_hubs"`
	CacheBytes      int64    `yaml:"cache_bytes"`
	RefreshInterval Duration `yaml:"refresh_interval"`
	// Issue 13: what entries carry, archives, ids.
	Content         string                 `yaml:"content"`           // full | summary
	Sections        map[string]FeedSection `yaml:"sections"`          // per section, by slug
	Archives        bool                   `yaml:"archives"`          // RFC 5005 archive pages
	ArchivePageSize int                    `yaml:"archive_page_size"` // entries per archive page
	IDDate          string                 `yaml:"id_date"`           // the date in derived tag: ids
}

// FeedSection overrides feed settings for one section's articles.
type FeedSection struct {
	Content string `yaml:"content"` // full | summary; empty: feeds.content
}

// ContentMode is the feed content mode of articles in the section with
// that slug: its override, else feeds.content.
func (f *Feeds) ContentMode(slug string) string {
	if s, ok := f.Sections[slug]; ok && s.Content != "" {
		return s.Content
	}
	return f.Content
}

// SMTP configures the mailer.
type SMTP struct {
	Transport      string   `yaml:"transport"` // smtp | file
	FileDir        string   `yaml:"file_dir"`
	Host           string   `yaml:"host"`
	Port           int      `yaml:"port"`
	TLS            string   `yaml:"tls"` // none | starttls | tls
	Username       string   `yaml:"username"`
	Password       string   `yaml:"password" secret:"true"`
	From           string   `yaml:"from"`
	ReplyTo        string   `yaml:"reply_to"`
	UnsubscribeTo  string   `yaml:"unsubscribe_mailto"` // optional mailto: address for List-Unsubscribe
	MaxConnections int      `yaml:"max_connections"`
	RatePerSecond  float64  `yaml:"rate_per_second"`
	MaxAttempts    int      `yaml:"max_attempts"`
	Timeout        Duration `yaml:"timeout"`
	DKIM           DKIM     `yaml:"dkim"`
	// Relays, when given, replace host, port, tls, username, password,
	// max_connections and rate_per_second (which must then be absent):
	// see relays.go.
	Relays []Relay `yaml:"relays"`
}

// DKIM configures optional message signing.
type DKIM struct {
	Domain         string `yaml:"domain"`
	Selector       string `yaml:"selector"`
	PrivateKeyFile string `yaml:"private_key_file"`
}

// Digest is one newsletter: what it holds and when it goes out.
type Digest struct {
	Name        string   `yaml:"name"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"` // one line on the subscribe form and the archive
	Schedule    string   `yaml:"schedule"`
	Timezone    string   `yaml:"timezone"`
	Subject     string   `yaml:"subject"`
	Lookback    Duration `yaml:"lookback"` // 0: the time since the previous slot
	MinArticles int      `yaml:"min_articles"`
	MaxArticles int      `yaml:"max_articles"`
	Sections    []string `yaml:"sections"`
	Authors     []string `yaml:"authors"`
	Template    string   `yaml:"template"`
	CatchUp     Duration `yaml:"catch_up"`
	// Delivery is DeliveryDigest (one edition at each slot of the digest's
	// timezone) or DeliveryLocal (each slot read in each reader's timezone).
	Delivery string `yaml:"delivery"`
	// Readers' pages (issue 16).
	Archive        *bool `yaml:"archive"`         // a public web page per edition (default true); Archived reads it
	ArchiveNoindex bool  `yaml:"archive_noindex"` // the archive's pages ask search engines not to index them
	Images         *bool `yaml:"images"`          // the default digest shows articles' images (default true); ShowImages reads it
}

// Archived reports whether the digest's editions have public web pages.
func (d *Digest) Archived() bool { return d.Archive == nil || *d.Archive }

// ShowImages reports whether the digest shows articles' images.
func (d *Digest) ShowImages() bool { return d.Images == nil || *d.Images }

// Digest delivery modes.
const (
	DeliveryDigest = "digest"
	DeliveryLocal  = "local"
)

// Local reports whether the digest goes out at each reader's local time.
func (d *Digest) Local() bool { return d.Delivery == DeliveryLocal }

// Location loads the digest's timezone (Validate has checked it loads).
func (d *Digest) Location() *time.Location {
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// CronSchedule parses the digest's schedule (Validate has checked it parses).
func (d *Digest) CronSchedule() (cron.Schedule, error) { return ParseSchedule(d.Schedule) }

// ParseSchedule parses a 5-field cron spec. robfig/cron v3.0.1 panics on some
// malformed CRON_TZ=/TZ= prefixes, so parsing runs under recover, and such
// prefixes are refused outright: the digest's timezone key sets the zone.
func ParseSchedule(spec string) (sched cron.Schedule, err error) {
	s := strings.TrimSpace(spec)
	if strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ=") {
		return nil, errors.New("a CRON_TZ= or TZ= prefix is not allowed: set the digest's timezone key")
	}
	if strings.HasPrefix(s, "@") {
		return nil, errors.New("descriptors such as @daily are not allowed: use 5 fields (minute hour day month weekday)")
	}
	if n := len(strings.Fields(s)); n != 5 {
		return nil, fmt.Errorf("want 5 fields (minute hour day month weekday), got %d", n)
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("unparseable cron spec %q", spec)
		}
	}()
	return cron.ParseStandard(s)
}

// Duration is a time.Duration read from YAML or the environment as "90s",
// "12h" or "7d".
type Duration time.Duration

// D returns the standard library duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// ParseDuration reads "1h30m" or a whole number of days "7d".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return Duration(time.Duration(days) * 24 * time.Hour), nil
	}
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 12h, 7d)", s)
	}
	return Duration(d), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Default returns the built-in configuration.
func Default() *Config {
	c := &Config{
		Site:     Site{Name: "News", URL: "https://news.example.com", Language: "en"},
		Database: "./herald.db",
		Log:      Log{Level: "info", Format: "text"},
		HTTP: HTTP{
			Listen: "127.0.0.1:8080", SubscribePerHour: 10,
			ReadTimeout: Duration(15 * time.Second), WriteTimeout: Duration(60 * time.Second),
			ShutdownTimeout: Duration(30 * time.Second),
		},
		Feeds: Feeds{
			Items: 50, CacheControl: "public, max-age=300", CacheBytes: 64 << 20,
			RefreshInterval: Duration(2 * time.Second),
			Content:         "full", ArchivePageSize: 100, IDDate: "2026-01-01",
		},
		SMTP: SMTP{
			Transport: "smtp", FileDir: "./outbox", Host: "localhost", Port: 587, TLS: "starttls",
			From: "News <digest@news.example.com>", MaxConnections: 4, MaxAttempts: 5,
			Timeout: Duration(30 * time.Second),
		},
		Admin: Admin{
			SessionIdle: Duration(time.Hour), SessionLifetime: Duration(12 * time.Hour),
			LoginPerHour: 10, LoginPerAddress: 30, ProgressInterval: Duration(time.Second),
		},
	}
	c.defaultLifecycle()
	return c
}

// DefaultSubject is a digest's subject when the config gives none; it is
// then worded by the site language's catalogue (digest.subject).
const DefaultSubject = `{{.Site}}: {{.Title}} for {{.Date}}`

// DefaultDigest is the digest herald has when the config names none.
func DefaultDigest() Digest {
	return Digest{Name: "daily", Schedule: "0 7 * * *", Timezone: "UTC"}
}

// fillDigest applies per-digest defaults.
func (c *Config) fillDigest(d *Digest) {
	if d.Title == "" {
		d.Title = titleCase(d.Name)
	}
	if d.Timezone == "" {
		d.Timezone = "UTC"
	}
	if d.Subject == "" {
		d.Subject = DefaultSubject
	}
	if d.MinArticles == 0 {
		d.MinArticles = 1
	}
	if d.MaxArticles == 0 {
		d.MaxArticles = 20
	}
	if d.Template == "" {
		d.Template = "digest"
	}
	if d.CatchUp == 0 {
		d.CatchUp = Duration(12 * time.Hour)
	}
	if d.Delivery == "" {
		d.Delivery = DeliveryDigest
	}
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Digest returns the digest called name, or the first digest for "".
func (c *Config) Digest(name string) (Digest, bool) {
	if name == "" && len(c.Digests) > 0 {
		return c.Digests[0], true
	}
	for _, d := range c.Digests {
		if d.Name == name {
			return d, true
		}
	}
	return Digest{}, false
}

// LogValue keeps secrets out of logs.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("site.url", c.Site.URL),
		slog.String("database", c.Database),
		slog.String("http.listen", c.HTTP.Listen),
		slog.String("smtp.transport", c.SMTP.Transport),
		slog.String("smtp.host", c.SMTP.Host),
		slog.Int("smtp.relays", len(c.SMTP.Relays)),
		slog.Int("digests", len(c.Digests)),
		slog.Bool("secret_set", c.Secret != ""),
		slog.Bool("secret_previous_set", c.SecretPrevious != ""),
		slog.Bool("admin_token_set", c.HTTP.AdminToken != ""),
	)
}
