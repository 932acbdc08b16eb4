package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // timezones work on machines without /usr/share/zoneinfo

	"github.com/heraldnews/herald/internal/model"
)

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
	c.validateFeeds(bad)
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
	if c.SMTP.Transport == "smtp" && c.SMTP.TLS == "none" && c.SMTP.Password != "" && !loopbackHost(c.SMTP.Host) && len(c.SMTP.Relays) == 0 {
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
	errs = append(errs, c.SMTP.validateRelays()...)
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
	c.validateLifecycle(bad)
	seen := map[string]bool{}
	for i := range c.Digests {
		d := &c.Digests[i]
		key := fmt.Sprintf("digests[%d]", i)
		if !model.ValidName(d.Name) {
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
		if strings.ContainsAny(d.Description, "\r\n") || len(d.Description) > 300 {
			bad(key+".description", "must be one line of at most 300 bytes")
		}
		if !model.ValidName(d.Template) {
			bad(key+".template", "must be a template name such as digest, got %q", d.Template)
		}
		if d.Delivery != DeliveryDigest && d.Delivery != DeliveryLocal {
			bad(key+".delivery", "must be digest or local, got %q", d.Delivery)
		}
	}
	// The editors' web UI.
	for key, d := range map[string]Duration{"admin.session_idle": c.Admin.SessionIdle,
		"admin.session_lifetime": c.Admin.SessionLifetime, "admin.progress_interval": c.Admin.ProgressInterval} {
		if d.D() <= 0 {
			bad(key, "must be a positive duration, got %s", d)
		}
	}
	if c.Admin.SessionIdle > c.Admin.SessionLifetime {
		bad("admin.session_idle", "must not be longer than admin.session_lifetime (%s), got %s", c.Admin.SessionLifetime, c.Admin.SessionIdle)
	}
	if c.Admin.LoginPerHour < 0 {
		bad("admin.login_per_hour", "must be 0 (no limit) or more, got %d", c.Admin.LoginPerHour)
	}
	if c.Admin.LoginPerAddress < 0 {
		bad("admin.login_per_address", "must be 0 (no limit) or more, got %d", c.Admin.LoginPerAddress)
	}
	return errors.Join(errs...)
}

func absHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validateFeeds checks the keys of issue 13: content modes, archives, the
// id date and the page URL templates.
func (c *Config) validateFeeds(bad func(key, format string, a ...any)) {
	mode := func(key, v string, empty bool) {
		if !(v == "full" || v == "summary" || (empty && v == "")) {
			bad(key, "must be full or summary, got %q", v)
		}
	}
	mode("feeds.content", c.Feeds.Content, false)
	for slug, s := range c.Feeds.Sections {
		if !slugRule.MatchString(slug) {
			bad("feeds.sections."+slug, "is not a section slug (^[a-z0-9][a-z0-9._-]*$)")
		}
		mode("feeds.sections."+slug+".content", s.Content, true)
	}
	if c.Feeds.ArchivePageSize < 10 || c.Feeds.ArchivePageSize > 10000 {
		bad("feeds.archive_page_size", "must be between 10 and 10000, got %d", c.Feeds.ArchivePageSize)
	}
	if !validIDDate(c.Feeds.IDDate) {
		bad("feeds.id_date", "must be a date YYYY, YYYY-MM or YYYY-MM-DD (RFC 4151), got %q", c.Feeds.IDDate)
	}
	for key, t := range map[string]string{"site.section_url": c.Site.SectionURL, "site.author_url": c.Site.AuthorURL} {
		if t == "" {
			continue
		}
		u := strings.ReplaceAll(t, "{slug}", "x")
		switch {
		case !strings.Contains(t, "{slug}"):
			bad(key, "must contain {slug}, got %q", t)
		case strings.ContainsAny(t, " \t\r\n\"<>"):
			bad(key, "invalid URL template %q", t)
		case !absHTTP(u) && !strings.HasPrefix(u, "/"):
			bad(key, "must be an absolute http(s) URL or a path starting with /, got %q", t)
		}
	}
}

var slugRule = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// validIDDate reports whether s is an RFC 4151 date: YYYY, YYYY-MM or
// YYYY-MM-DD, a real day.
func validIDDate(s string) bool {
	for _, layout := range []string{"2006", "2006-01", "2006-01-02"} {
		if len(s) == len(layout) {
			if _, err := time.Parse(layout, s); err == nil {
				return true
			}
		}
	}
	return false
}
