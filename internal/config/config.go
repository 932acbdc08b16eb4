// Package config is herald's typed configuration: defaults, a YAML file
// decoded strictly (an unknown key or a bad value is an error naming the key
// and its line), HERALD_* environment overrides for scalar keys, and
// Validate. It is loaded once in cmd/herald and passed down.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"reflect"
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
}

// Site describes the publication.
type Site struct {
	Name          string `yaml:"name"`
	URL           string `yaml:"url"`
	Language      string `yaml:"language"`
	PostalAddress string `yaml:"postal_address"`
	Icon          string `yaml:"icon"` // small square image URL (feeds' icon)
	Logo          string `yaml:"logo"` // wide image URL (feeds' logo, digest masthead)
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
}

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
	return &Config{
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
		},
		SMTP: SMTP{
			Transport: "smtp", FileDir: "./outbox", Host: "localhost", Port: 587, TLS: "starttls",
			From: "News <digest@news.example.com>", MaxConnections: 4, MaxAttempts: 5,
			Timeout: Duration(30 * time.Second),
		},
	}
}

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
		d.Subject = `{{.Site}}: {{.Title}} for {{.Date}}`
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
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Load reads the YAML file at path (none when path is ""), applies the
// environment through getenv (os.LookupEnv when nil), fills defaults and
// validates. Errors name the key.
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	var b []byte
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	if getenv == nil {
		getenv = os.LookupEnv
	}
	c, err := load(b, getenv)
	if err != nil && path != "" {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, err
}

// Parse is Load for YAML held in memory, without the environment.
func Parse(b []byte) (*Config, error) {
	return load(b, func(string) (string, bool) { return "", false })
}

func load(b []byte, getenv func(string) (string, bool)) (*Config, error) {
	c := Default()
	if err := c.decodeYAML(b); err != nil {
		return nil, err
	}
	if err := applyEnv(reflect.ValueOf(c).Elem(), "HERALD", "", getenv); err != nil {
		return nil, err
	}
	if len(c.Digests) == 0 {
		c.Digests = []Digest{DefaultDigest()}
	}
	for i := range c.Digests {
		c.fillDigest(&c.Digests[i])
	}
	c.Site.URL = strings.TrimRight(c.Site.URL, "/")
	if c.HTTP.BaseURL == "" {
		c.HTTP.BaseURL = c.Site.URL
	}
	c.HTTP.BaseURL = strings.TrimRight(c.HTTP.BaseURL, "/")
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) decodeYAML(b []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // empty file: defaults
	}
	return decodeNode(doc.Content[0], reflect.ValueOf(c).Elem(), "")
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decodeNode decodes n into v, walking structs and lists itself so that an
// unknown key or a bad value is reported with its full key path and line.
func decodeNode(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return fmt.Errorf("config: %s (line %d): %v", path, n.Line, err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("config: %s (line %d): want a mapping of keys", orTop(path), n.Line)
		}
		fields := map[string]int{}
		for i := 0; i < v.NumField(); i++ {
			fields[yamlName(v.Type().Field(i))] = i
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := join(path, k.Value)
			fi, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("config: unknown key %s (line %d)", key, k.Line)
			}
			if err := decodeNode(val, v.Field(fi), key); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			v.Set(reflect.Zero(v.Type()))
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("config: %s (line %d): want a list", path, n.Line)
		}
		out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := decodeNode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(out)
		return nil
	default:
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("config: %s (line %d): want a single value", path, n.Line)
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return fmt.Errorf("config: %s (line %d): invalid %s value %q", path, n.Line, v.Kind(), n.Value)
		}
		return nil
	}
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// applyEnv overrides scalar keys from HERALD_<PATH> variables
// (smtp.host -> HERALD_SMTP_HOST). Lists come from YAML only.
func applyEnv(v reflect.Value, prefix, path string, getenv func(string) (string, bool)) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := yamlName(f)
		key := join(path, name)
		env := prefix + "_" + strings.ToUpper(name)
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && !reflect.PointerTo(fv.Type()).Implements(unmarshalerType) {
			if err := applyEnv(fv, env, key, getenv); err != nil {
				return err
			}
			continue
		}
		if fv.Kind() == reflect.Slice {
			continue
		}
		s, ok := getenv(env)
		if !ok {
			continue
		}
		node := &yaml.Node{Kind: yaml.ScalarNode, Value: s, Tag: "!!str"}
		if fv.Kind() != reflect.String {
			node.Tag = ""
		}
		if err := decodeNode(node, fv, key); err != nil {
			return fmt.Errorf("%w (from %s)", err, env)
		}
	}
	return nil
}

// Digest returns the digest named name.
func (c *Config) Digest(name string) (*Digest, bool) {
	for i := range c.Digests {
		if c.Digests[i].Name == name {
			return &c.Digests[i], true
		}
	}
	return nil, false
}

// Validate checks every value, returning an error that names the key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, a...)))
	}
	if strings.TrimSpace(c.Site.Name) == "" {
		bad("site.name", "must not be empty")
	}
	if !absHTTP(c.Site.URL) {
		bad("site.url", "must be an absolute http(s) URL, got %q", c.Site.URL)
	}
	if !absHTTP(c.HTTP.BaseURL) {
		bad("http.base_url", "must be an absolute http(s) URL, got %q", c.HTTP.BaseURL)
	}
	if c.Site.Language == "" || strings.ContainsAny(c.Site.Language, " <>&\"") {
		bad("site.language", "must be a language tag such as en or en-GB, got %q", c.Site.Language)
	}
	for key, u := range map[string]string{"site.icon": c.Site.Icon, "site.logo": c.Site.Logo, "feeds.xsl": c.Feeds.XSL} {
		if u != "" && strings.ContainsAny(u, "\"<>\r\n") {
			bad(key, "invalid URL %q", u)
		}
	}
	if strings.TrimSpace(c.Database) == "" {
		bad("database", "must name the SQLite file")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	if c.HTTP.Listen == "" || !strings.Contains(c.HTTP.Listen, ":") {
		bad("http.listen", "must be host:port, got %q", c.HTTP.Listen)
	}
	for key, d := range map[string]Duration{"http.read_timeout": c.HTTP.ReadTimeout, "http.write_timeout": c.HTTP.WriteTimeout,
		"http.shutdown_timeout": c.HTTP.ShutdownTimeout, "feeds.refresh_interval": c.Feeds.RefreshInterval} {
		if d.D() <= 0 {
			bad(key, "must be a positive duration, got %s", d)
		}
	}
	if c.HTTP.SubscribePerHour < 0 {
		bad("http.subscribe_per_hour", "must be 0 (no limit) or more, got %d", c.HTTP.SubscribePerHour)
	}
	for i, p := range c.HTTP.TrustedProxies {
		if !validCIDROrIP(p) {
			bad(fmt.Sprintf("http.trusted_proxies[%d]", i), "must be an IP address or CIDR, got %q", p)
		}
	}
	if c.Feeds.Items < 1 || c.Feeds.Items > 10000 {
		bad("feeds.items", "must be between 1 and 10000, got %d", c.Feeds.Items)
	}
	if c.Feeds.CacheBytes < 0 {
		bad("feeds.cache_bytes", "must not be negative, got %d", c.Feeds.CacheBytes)
	}
	if strings.ContainsAny(c.Feeds.CacheControl, "\r\n") {
		bad("feeds.cache_control", "must be one line")
	}
	for i, h := range c.Feeds.WebSubHubs {
		if !absHTTP(h) {
			bad(fmt.Sprintf("feeds.websub_hubs[%d]", i), "must be an absolute http(s) URL, got %q", h)
		}
	}
	switch c.SMTP.Transport {
	case "smtp":
		if c.SMTP.Host == "" {
			bad("smtp.host", "must not be empty")
		}
	case "file":
		if c.SMTP.FileDir == "" {
			bad("smtp.file_dir", "must name a folder when smtp.transport is file")
		}
	default:
		bad("smtp.transport", "must be smtp or file, got %q", c.SMTP.Transport)
	}
	if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
		bad("smtp.port", "must be between 1 and 65535, got %d", c.SMTP.Port)
	}
	switch c.SMTP.TLS {
	case "none", "starttls", "tls":
	default:
		bad("smtp.tls", "must be none, starttls or tls, got %q", c.SMTP.TLS)
	}
	if c.SMTP.Transport == "smtp" && c.SMTP.TLS == "none" && c.SMTP.Password != "" && !loopbackHost(c.SMTP.Host) {
		bad("smtp.tls", "is none while smtp.password is set: the password would cross the network in clear (use starttls or tls)")
	}
	if a, err := mail.ParseAddress(c.SMTP.From); err != nil || !strings.Contains(a.Address, "@") {
		bad("smtp.from", "must be an address such as \"News <digest@example.com>\", got %q", c.SMTP.From)
	}
	if c.SMTP.ReplyTo != "" {
		if _, err := mail.ParseAddress(c.SMTP.ReplyTo); err != nil {
			bad("smtp.reply_to", "invalid address %q", c.SMTP.ReplyTo)
		}
	}
	if c.SMTP.UnsubscribeTo != "" {
		if _, err := mail.ParseAddress(c.SMTP.UnsubscribeTo); err != nil {
			bad("smtp.unsubscribe_mailto", "invalid address %q", c.SMTP.UnsubscribeTo)
		}
	}
	if c.SMTP.MaxConnections < 1 || c.SMTP.MaxConnections > 100 {
		bad("smtp.max_connections", "must be between 1 and 100, got %d", c.SMTP.MaxConnections)
	}
	if c.SMTP.RatePerSecond < 0 {
		bad("smtp.rate_per_second", "must be 0 (no limit) or more, got %v", c.SMTP.RatePerSecond)
	}
	if c.SMTP.MaxAttempts < 1 || c.SMTP.MaxAttempts > 100 {
		bad("smtp.max_attempts", "must be between 1 and 100, got %d", c.SMTP.MaxAttempts)
	}
	if c.SMTP.Timeout.D() <= 0 {
		bad("smtp.timeout", "must be positive, got %s", c.SMTP.Timeout)
	}
	dk := c.SMTP.DKIM
	if dk.Domain != "" || dk.Selector != "" || dk.PrivateKeyFile != "" {
		if dk.Domain == "" {
			bad("smtp.dkim.domain", "must be set when DKIM is configured")
		}
		if dk.Selector == "" {
			bad("smtp.dkim.selector", "must be set when DKIM is configured")
		}
		if dk.PrivateKeyFile == "" {
			bad("smtp.dkim.private_key_file", "must be set when DKIM is configured")
		} else if _, err := os.Stat(dk.PrivateKeyFile); err != nil {
			bad("smtp.dkim.private_key_file", "%v", err)
		}
	}
	seen := map[string]bool{}
	for i := range c.Digests {
		d := &c.Digests[i]
		key := fmt.Sprintf("digests[%d]", i)
		if !validName(d.Name) {
			bad(key+".name", "must be a short name of letters, digits, '-' or '_', got %q", d.Name)
		} else {
			key = fmt.Sprintf("digests[%d] (%s)", i, d.Name)
		}
		if seen[d.Name] {
			bad(key+".name", "duplicate digest name %q", d.Name)
		}
		seen[d.Name] = true
		if _, err := ParseSchedule(d.Schedule); err != nil {
			bad(key+".schedule", "%v", err)
		}
		if _, err := time.LoadLocation(d.Timezone); err != nil {
			bad(key+".timezone", "unknown timezone %q", d.Timezone)
		}
		if d.MinArticles < 1 {
			bad(key+".min_articles", "must be at least 1, got %d", d.MinArticles)
		}
		if d.MaxArticles < d.MinArticles || d.MaxArticles > 500 {
			bad(key+".max_articles", "must be between min_articles and 500, got %d", d.MaxArticles)
		}
		if d.Lookback < 0 {
			bad(key+".lookback", "must not be negative")
		}
		if d.CatchUp < 0 {
			bad(key+".catch_up", "must not be negative")
		}
		if strings.ContainsAny(d.Title, "\r\n") {
			bad(key+".title", "must be one line")
		}
		if !validName(d.Template) {
			bad(key+".template", "must be a template name such as digest, got %q", d.Template)
		}
	}
	return errors.Join(errs...)
}

func absHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// LogValue keeps secrets out of logs.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("site.url", c.Site.URL),
		slog.String("database", c.Database),
		slog.String("http.listen", c.HTTP.Listen),
		slog.String("smtp.transport", c.SMTP.Transport),
		slog.String("smtp.host", c.SMTP.Host),
		slog.Int("digests", len(c.Digests)),
		slog.Bool("secret_set", c.Secret != ""),
		slog.Bool("admin_token_set", c.HTTP.AdminToken != ""),
	)
}
