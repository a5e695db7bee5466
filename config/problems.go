package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxProblems caps how many problems one Load reports; a file that is wrong
// everywhere (or garbage) is not worth a thousand lines.
const maxProblems = 100

// Problem is one thing wrong with the configuration. It never contains a
// secret's value.
type Problem struct {
	File string // the configuration file; used only when Line > 0
	Line int    // 1-based line in File; 0 when the problem is not from the file
	Path string // YAML path ("clients.acme.channels.alerts") or environment variable name; may be empty
	Msg  string
}

// String formats the problem as "file:line: path: msg", leaving out the parts
// it does not have.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		file := p.File
		if file == "" {
			file = "config"
		}
		fmt.Fprintf(&b, "%s:%d: ", file, p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is the error Load returns when the configuration is invalid: every
// problem found, problems in the file first (by line), then those from the
// environment.
type Problems []Problem

// Error lists the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// collector gathers problems while Load runs. It knows the line of every YAML
// path seen in the file and which paths an environment variable overrode, so
// a validation rule only names the path.
type collector struct {
	file   string
	lines  map[string]int    // YAML path → line of its key (or item)
	byLine map[int]string    // line → YAML path, to name the path of yaml's own errors
	env    map[string]string // YAML path → environment variable that set it
	failed map[string]bool   // paths already reported while parsing: no second problem
	probs  Problems
}

func newCollector(file string) *collector {
	return &collector{
		file:   file,
		lines:  map[string]int{},
		byLine: map[int]string{},
		env:    map[string]string{},
		failed: map[string]bool{},
	}
}

// add reports a problem with the value at a YAML path: at its line in the
// file, or under the environment variable that set it. A path whose value
// could not be expanded or decoded gets no second problem.
func (c *collector) add(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	name, fromEnv := c.env[path]
	if fromEnv {
		c.probs = append(c.probs, Problem{Path: name, Msg: msg})
		return
	}
	if c.failed[path] {
		return
	}
	c.probs = append(c.probs, Problem{File: c.file, Line: c.lines[path], Path: path, Msg: msg})
}

// addLine reports a problem at a known line of the file.
func (c *collector) addLine(line int, path, msg string) {
	if path != "" {
		c.failed[path] = true
	}
	c.probs = append(c.probs, Problem{File: c.file, Line: line, Path: path, Msg: msg})
}

// addEnv reports a problem with an environment variable.
func (c *collector) addEnv(name, format string, args ...any) {
	c.probs = append(c.probs, Problem{Path: name, Msg: fmt.Sprintf(format, args...)})
}

// record remembers where a path is in the file.
func (c *collector) record(path string, line int) {
	c.lines[path] = line
	c.byLine[line] = path
}

// problems returns the sorted, capped problems, or nil when there are none.
func (c *collector) problems() Problems {
	if len(c.probs) == 0 {
		return nil
	}
	ps := slices.Clone(c.probs)
	slices.SortStableFunc(ps, func(a, b Problem) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return a.Line - b.Line
	})
	ps = slices.CompactFunc(ps, func(a, b Problem) bool { return a == b })
	if len(ps) > maxProblems {
		more := len(ps) - maxProblems
		ps = append(ps[:maxProblems:maxProblems], Problem{Msg: fmt.Sprintf("... and %d more problems", more)})
	}
	return ps
}

var (
	reYAMLLine  = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	reUnmarshal = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
)

// yamlError turns an error from the yaml package into problems, keeping the
// line yaml gives.
func (c *collector) yamlError(err error) {
	msgs := []string{err.Error()}
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	}
	for _, msg := range msgs {
		line := 0
		if m := reYAMLLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		if m := reUnmarshal.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("want %s, not %s", goTypeWord(m[3]), yamlTagWord(m[1], m[2]))
		}
		c.addLine(line, c.byLine[line], msg)
	}
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case t == "string":
		return "text"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	default:
		return "a mapping (key: value)"
	}
}

func yamlTagWord(tag, value string) string {
	word := map[string]string{
		"seq": "a list", "map": "a mapping", "str": "text", "int": "a number",
		"float": "a number", "bool": "a boolean", "null": "null", "timestamp": "a date",
	}[tag]
	if word == "" {
		word = "!!" + tag
	}
	if value != "" {
		word += " " + strconv.Quote(value)
	}
	return word
}
