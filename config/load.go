package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds the configuration file; a real one is a few KiB.
const maxFileSize = 1 << 20

// Defaults applied by Load to settings left empty.
const (
	DefaultTimeZone    = "UTC"
	DefaultRedisPrefix = "opsbot:"
	DefaultSlackAPIURL = "https://slack.com/api/"
	DefaultHTTPAddr    = ":8080" // only when Slack is enabled
	DefaultLogLevel    = "info"
	DefaultLogFormat   = "json"
)

// Load builds the configuration from the YAML file at path ("" means no file:
// defaults and environment only) and the environment seen through getenv
// (os.Getenv in production; nil means an empty environment).
//
// In the file, ${VAR} and ${VAR:-default} are expanded in values (never in
// keys) and unknown keys are errors, which includes any attempt to put a token
// in the file: secrets come only from the environment. The environment
// overrides the file (see the package doc), then defaults fill what is still
// empty. Unknown keys are found by walking the parsed tree against the Go
// types (yaml's Node.Decode has no KnownFields option), so each is reported
// with its path and line, together with every other problem.
//
// If anything is invalid, Load returns a nil Config and a Problems error
// listing every problem at once, with the file line where there is one. A
// file that cannot be read is returned as a wrapped error instead, so
// errors.Is(err, fs.ErrNotExist) works.
//
// rules are further checks made outside this package, reported with the
// others (see Rule).
func Load(path string, getenv func(string) string, rules ...Rule) (*Config, error) {
	var data []byte
	if path != "" {
		var err error
		if data, err = readFile(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	return load(path, data, getenv, rules)
}

// LoadData is Load for a configuration held in memory (such as the demo's,
// built into the binary); name stands for the file in problems.
func LoadData(name string, data []byte, getenv func(string) string, rules ...Rule) (*Config, error) {
	return load(name, data, getenv, rules)
}

func load(name string, data []byte, getenv func(string) string, rules []Rule) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := newCollector(name)
	cfg := &Config{}
	if data != nil {
		parse(data, cfg, getenv, c)
	}
	applyEnv(cfg, getenv, c)
	readSecrets(cfg, getenv, c)
	applyDefaults(cfg)
	validate(cfg, c)
	for _, r := range rules {
		r(cfg, c.add)
	}
	if ps := c.problems(); ps != nil {
		return nil, ps
	}
	cfg.Admins = dedupe(cfg.Admins)
	return cfg, nil
}

// Rule is a check of the loaded configuration made by code this leaf
// package cannot import (e.g. a probe URL against the prober's SSRF guard).
// It reports each problem at a YAML path through add, which gives it the
// file line like every other problem. It runs after defaults and the
// built-in validation, also when that found problems.
type Rule func(cfg *Config, add func(path, format string, args ...any))

// Check validates the file at path with the environment seen through getenv,
// for the `opsbot config check FILE` subcommand. It returns nil, a Problems
// error listing everything wrong, or a wrapped error if the file cannot be read.
func Check(path string, getenv func(string) string, rules ...Rule) error {
	if path == "" {
		return errors.New("config check: no file given")
	}
	_, err := Load(path, getenv, rules...)
	return err
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, maxFileSize>>20)
	}
	return data, nil
}

// parse reads one YAML document into cfg: parse to a node tree, walk it
// (lines, unknown keys, ${VAR} expansion), then decode it.
func parse(data []byte, cfg *Config, getenv func(string) string, c *collector) {
	root, err := parseNode(data, c)
	if err != nil {
		c.yamlError(err)
		return
	}
	if root == nil {
		return // empty file
	}
	if root.Kind != yaml.MappingNode {
		c.addLine(root.Line, "", "the file must be a mapping of keys (timezone:, clients: ...) at the top level")
		return
	}
	newWalker(c, getenv).walk(root, reflect.TypeFor[Config](), "")
	if err := safely(func() error { return root.Decode(cfg) }); err != nil {
		c.yamlError(err)
	}
}

// parseNode returns the root node of the single document in data, or nil for
// an empty document.
func parseNode(data []byte, c *collector) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safely(func() error { return dec.Decode(&doc) }); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	switch err := safely(func() error { return dec.Decode(&next) }); {
	case err == nil:
		c.addLine(next.Line, "", "only one YAML document is allowed (remove the second ---)")
	case !errors.Is(err, io.EOF):
		c.yamlError(err)
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		root = doc.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	return root, nil
}

// safely runs a yaml call, turning a panic inside the library into an error:
// Load must survive any input.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot parse the file: %v", r)
		}
	}()
	return f()
}

// applyDefaults fills settings still empty after the file and the environment.
func applyDefaults(cfg *Config) {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.TimeZone, DefaultTimeZone)
	applyRedisDefaults(&cfg.Redis)
	def(&cfg.Slack.APIURL, DefaultSlackAPIURL)
	def(&cfg.Log.Level, DefaultLogLevel)
	def(&cfg.Log.Format, DefaultLogFormat)
	cfg.Log.Level = strings.ToLower(cfg.Log.Level)
	cfg.Log.Format = strings.ToLower(cfg.Log.Format)
	if cfg.SlackEnabled() {
		def(&cfg.HTTP.Addr, DefaultHTTPAddr)
	}
	for key, cl := range cfg.Clients {
		if cl.Name == "" {
			cl.Name = key
			cfg.Clients[key] = cl
		}
	}
	applyUptimeDefaults(cfg)
	applyAWSDefaults(cfg)
	applyChangeDefaults(cfg)
	applyAlertDefaults(cfg)
	applyDetectifyDefaults(cfg)
	applySecurityDefaults(cfg)
	applyChecklistDefaults(cfg)
}

func dedupe(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
