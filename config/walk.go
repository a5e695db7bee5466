package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// walkBudget bounds the nodes one walk visits, so aliases that fan out
// (a "billion laughs" file) cannot make Load run for ever.
const walkBudget = 200_000

// walker checks a parsed YAML tree against the Go type it will be decoded
// into, before decoding: it records the line of every path, reports unknown
// keys (what yaml's KnownFields does, but with the path, a hint and all of
// them at once) and expands ${VAR} in the scalar values.
type walker struct {
	c      *collector
	getenv func(string) string
	seen   map[*yaml.Node]bool // scalars already expanded (aliases share nodes)
	budget int
}

func newWalker(c *collector, getenv func(string) string) *walker {
	return &walker{c: c, getenv: getenv, seen: map[*yaml.Node]bool{}, budget: walkBudget}
}

// walk visits n, which will be decoded into a value of type t at path.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	w.budget--
	if w.budget < 0 {
		if w.budget == -1 {
			w.c.addLine(n.Line, path, "file too large or too deeply aliased")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias != nil {
			w.walk(n.Alias, t, path)
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		w.walkDuration(n, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // yaml's decoder reports the type mismatch
		}
		fields := yamlFields(t)
		w.entries(n, 0, func(k, v *yaml.Node) {
			p := joinPath(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok || k.Kind != yaml.ScalarNode {
				w.c.addLine(k.Line, p, unknownKey(p, k.Value, fields))
				return
			}
			w.c.record(p, k.Line)
			w.c.byLine[v.Line] = p // yaml reports a bad value at the value's line
			w.walk(v, ft, p)
		})
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		w.entries(n, 0, func(k, v *yaml.Node) {
			p := joinPath(path, k.Value)
			w.c.record(p, k.Line)
			w.c.byLine[v.Line] = p
			w.walk(v, t.Elem(), p)
		})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			w.c.record(p, item.Line)
			w.walk(item, t.Elem(), p)
		}
	default:
		if n.Kind == yaml.ScalarNode {
			w.expand(n, path)
		}
	}
}

// entries calls fn for each key/value of mapping n, following merge keys
// ("<<: *base") into the mappings they merge.
func (w *walker) entries(n *yaml.Node, depth int, fn func(k, v *yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!merge" {
			fn(k, v)
			continue
		}
		if depth > 10 {
			continue // yaml's decoder reports a merge loop, if any
		}
		merged := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			merged = v.Content
		}
		for _, m := range merged {
			if m.Kind == yaml.AliasNode && m.Alias != nil {
				m = m.Alias
			}
			if m.Kind == yaml.MappingNode {
				w.entries(m, depth+1, fn)
			}
		}
	}
}

// yamlFields maps the YAML keys of struct type t to their field types, as
// yaml.v3 names them: the tag's name, else the lower-cased field name.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

var (
	reSecretKey    = regexp.MustCompile(`(?i)token|secret|passw|api_?key|routing_?key|credential|redis_url`)
	reAWSSecretKey = regexp.MustCompile(`(?i)^aws_|access_?key|session_?token|secret_?key`)
)

// unknownKey explains an unknown key: a secret that belongs in the
// environment, a likely typo, or the keys allowed there.
func unknownKey(path, key string, fields map[string]reflect.Type) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if reAWSSecretKey.MatchString(key) {
		return msg + ": AWS credentials are never read from the file; the AWS SDK takes them from its own chain " +
			"(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, IRSA or an instance role)"
	}
	if reSecretKey.MatchString(key) || path == "redis.url" {
		return msg + ": secrets are never read from the file; set SLACK_BOT_TOKEN, SLACK_APP_TOKEN, " +
			"REDIS_URL, PAGERDUTY_TOKEN, PAGERDUTY_ROUTING_KEY[_<CLIENT>], STATUSCAKE_TOKEN, GITHUB_TOKEN, DETECTIFY_API_KEY or DETECTIFY_API_SECRET " +
			"(or NAME_FILE) in the environment"
	}
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	slices.Sort(known)
	for _, k := range known {
		if strings.EqualFold(k, key) || editDistance(k, key) <= min(2, len(k)/3) || strings.HasPrefix(k, key+"_") {
			return fmt.Sprintf("%s (did you mean %q?)", msg, k)
		}
	}
	return fmt.Sprintf("%s (known keys here: %s)", msg, strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance, for typo hints on short keys.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var reSimpleKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// joinPath appends a key to a dotted path, quoting keys that are not plain words.
func joinPath(path, key string) string {
	if !reSimpleKey.MatchString(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}
