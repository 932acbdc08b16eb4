package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Relay is one SMTP relay of smtp.relays. The mailer spreads messages over
// the relays by weight and moves a failing relay's work to the others.
type Relay struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	TLS      string `yaml:"tls"` // none | starttls | tls
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
	// PasswordEnv names an environment variable holding the password
	// (read when the config is loaded).
	PasswordEnv    string  `yaml:"password_env"`
	MaxConnections int     `yaml:"max_connections"`
	RatePerSecond  float64 `yaml:"rate_per_second"`
	Weight         int     `yaml:"weight"`
}

// Name is how logs, metrics and deliveries name the relay: host:port.
func (r Relay) Name() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// singleRelayKeys are the smtp keys of the one-relay case (design.md):
// with smtp.relays they must be absent, from the file and the environment.
var singleRelayKeys = []string{"host", "port", "tls", "username", "password", "max_connections", "rate_per_second"}

// EffectiveRelays returns smtp.relays, or the one relay the single keys
// describe when none are given.
func (s *SMTP) EffectiveRelays() []Relay {
	if len(s.Relays) > 0 {
		return s.Relays
	}
	return []Relay{{Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username, Password: s.Password,
		MaxConnections: s.MaxConnections, RatePerSecond: s.RatePerSecond, Weight: 1}}
}

// fillRelays checks that no single-relay key is given alongside
// smtp.relays (in the YAML b or the environment), fills each relay's
// defaults and reads password_env.
func (c *Config) fillRelays(b []byte, getenv func(string) (string, bool)) error {
	if len(c.SMTP.Relays) == 0 {
		return nil
	}
	var errs []error
	given := yamlKeys(b, "smtp")
	for _, k := range singleRelayKeys {
		env := "HERALD_SMTP_" + strings.ToUpper(k)
		_, inEnv := getenv(env)
		switch {
		case given[k]:
			errs = append(errs, fmt.Errorf("config: smtp.%s: must be absent when smtp.relays is given (set it on each relay)", k))
		case inEnv:
			errs = append(errs, fmt.Errorf("config: smtp.%s (from %s): must be absent when smtp.relays is given (set it on each relay)", k, env))
		}
	}
	for i := range c.SMTP.Relays {
		r := &c.SMTP.Relays[i]
		if r.Port == 0 {
			r.Port = 587
		}
		if r.TLS == "" {
			r.TLS = "starttls"
		}
		if r.MaxConnections == 0 {
			r.MaxConnections = 4
		}
		if r.Weight == 0 {
			r.Weight = 1
		}
		if r.PasswordEnv == "" {
			continue
		}
		key := fmt.Sprintf("smtp.relays[%d]", i)
		if r.Password != "" {
			errs = append(errs, fmt.Errorf("config: %s: give password or password_env, not both", key))
			continue
		}
		v, ok := getenv(r.PasswordEnv)
		if !ok {
			errs = append(errs, fmt.Errorf("config: %s.password_env: environment variable %s is not set", key, r.PasswordEnv))
			continue
		}
		r.Password = v
	}
	return errors.Join(errs...)
}

// yamlKeys returns the keys of the mapping under top-level key section.
func yamlKeys(b []byte, section string) map[string]bool {
	out := map[string]bool{}
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return out
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != section || top.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := top.Content[i+1]
		for j := 0; j+1 < len(m.Content); j += 2 {
			out[m.Content[j].Value] = true
		}
	}
	return out
}

// validateRelays checks each of smtp.relays.
func (s *SMTP) validateRelays() []error {
	var errs []error
	seen := map[string]bool{}
	for i, r := range s.Relays {
		key := fmt.Sprintf("smtp.relays[%d]", i)
		bad := func(field, format string, a ...any) {
			errs = append(errs, fmt.Errorf("config: %s.%s: %s", key, field, fmt.Sprintf(format, a...)))
		}
		if strings.TrimSpace(r.Host) == "" {
			bad("host", "must not be empty")
		}
		if r.Port < 1 || r.Port > 65535 {
			bad("port", "must be between 1 and 65535, got %d", r.Port)
		}
		switch r.TLS {
		case "none", "starttls", "tls":
		default:
			bad("tls", "must be none, starttls or tls, got %q", r.TLS)
		}
		if r.TLS == "none" && r.Password != "" && !loopbackHost(r.Host) {
			bad("tls", "is none while the relay has a password: it would cross the network in clear (use starttls or tls)")
		}
		if r.MaxConnections < 1 || r.MaxConnections > 100 {
			bad("max_connections", "must be between 1 and 100, got %d", r.MaxConnections)
		}
		if r.RatePerSecond < 0 {
			bad("rate_per_second", "must be 0 (no limit) or more, got %v", r.RatePerSecond)
		}
		if r.Weight < 1 || r.Weight > 1000 {
			bad("weight", "must be between 1 and 1000, got %d", r.Weight)
		}
		if seen[r.Name()] {
			bad("host", "%s is listed twice", r.Name())
		}
		seen[r.Name()] = true
	}
	return errs
}
