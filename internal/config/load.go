package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	_ "time/tzdata" // timezones work on machines without /usr/share/zoneinfo

	"gopkg.in/yaml.v3"
)

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
	if err := c.fillRelays(b, getenv); err != nil {
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
	if err := checkDuplicateKeys(doc.Content[0], ""); err != nil {
		return err
	}
	return decodeNode(doc.Content[0], reflect.ValueOf(c).Elem(), "")
}

// checkDuplicateKeys refuses a mapping that gives one key twice: YAML
// decoders keep the last silently, so half of what the operator wrote
// would be ignored. The error names the key and both lines. Aliases are
// not followed (their target is checked where it is written).
func checkDuplicateKeys(n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.MappingNode:
		lines := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			key := join(path, k.Value)
			if k.Value != "<<" {
				if first, ok := lines[k.Value]; ok {
					return fmt.Errorf("config: key %s is given twice (lines %d and %d): keep one", key, first, k.Line)
				}
				lines[k.Value] = k.Line
			}
			if err := checkDuplicateKeys(n.Content[i+1], key); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if err := checkDuplicateKeys(item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
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
	case reflect.Map:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			v.Set(reflect.Zero(v.Type()))
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("config: %s (line %d): want a mapping", path, n.Line)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeNode(val, elem, join(path, k.Value)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
		}
		v.Set(out)
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
		if fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map {
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
