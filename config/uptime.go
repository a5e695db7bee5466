package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of the uptime settings, applied by Load to values left empty.
const (
	DefaultSLATarget          = 99.9
	DefaultSeverity           = "critical"
	DefaultFailAfter          = 3
	DefaultRecoverAfter       = 2
	DefaultProbeInterval      = 60 * time.Second
	DefaultProbeTimeout       = 10 * time.Second
	DefaultProbeMethod        = "GET"
	DefaultStatusCakeInterval = 60 * time.Second
	DefaultProbeConcurrency   = 64
)

var durationType = reflect.TypeFor[Duration]()

// String formats the duration like time.Duration without zero trailing
// units: "1m30s", "5m", "24h".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// UnmarshalYAML reads a duration written as "30s", "5m" or "1h30m". A bad
// value is a *yaml.TypeError naming its line, like yaml's own type errors.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a duration (e.g. 30s, 5m), not %s", n.Line, nodeKindWord(n))}}
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as text, so a marshalled config loads again.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// parseDuration parses text such as "30s"; the error quotes the value.
func parseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 30s, 5m)", truncate(s, 40))
	}
	return Duration(v), nil
}

func nodeKindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "an alias"
}

// walkDuration checks a scalar that will be decoded into a Duration, after
// expanding ${VAR}: a bad value is reported at its line and path and replaced
// by "0s", so that decoding does not report it a second time.
func (w *walker) walkDuration(n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode {
		return // Duration.UnmarshalYAML reports it
	}
	w.expand(n, path)
	if n.ShortTag() == "!!null" {
		return
	}
	if _, err := parseDuration(n.Value); err != nil {
		if !w.c.failed[path] {
			w.c.addLine(n.Line, path, err.Error())
		}
		n.Value, n.Tag, n.Style = "0s", "!!str", 0
	}
}

// applyUptimeDefaults fills the uptime settings left empty: per client, per
// site (which inherits its client's severity) and per probe. A site without
// a statuscake_id and without a probe block gets a default probe.
func applyUptimeDefaults(cfg *Config) {
	for key, cl := range cfg.Clients {
		if cl.SLATarget == 0 {
			cl.SLATarget = DefaultSLATarget
		}
		if cl.Severity == "" {
			cl.Severity = DefaultSeverity
		}
		for i := range cl.Sites {
			s := &cl.Sites[i]
			if s.Severity == "" {
				s.Severity = cl.Severity
			}
			if s.FailAfter == 0 {
				s.FailAfter = DefaultFailAfter
			}
			if s.RecoverAfter == 0 {
				s.RecoverAfter = DefaultRecoverAfter
			}
			if s.Probe == nil && s.StatusCakeID == "" {
				s.Probe = &Probe{}
			}
			if s.Probe != nil {
				probeDefaults(s.Probe)
			}
		}
		cfg.Clients[key] = cl
	}
	u := &cfg.Uptime
	if u.StatusCakeInterval == 0 {
		u.StatusCakeInterval = Duration(DefaultStatusCakeInterval)
	}
	if u.ProbeConcurrency == 0 {
		u.ProbeConcurrency = DefaultProbeConcurrency
	}
}

// probeDefaults fills a probe's empty settings. The timeout defaults to 10s,
// or half the interval when the interval is 10s or less, so that a short
// interval alone stays valid.
func probeDefaults(p *Probe) {
	if p.Interval == 0 {
		p.Interval = Duration(DefaultProbeInterval)
	}
	if p.Timeout == 0 {
		p.Timeout = Duration(DefaultProbeTimeout)
		if p.Interval > 0 && p.Interval <= p.Timeout {
			p.Timeout = p.Interval / 2
		}
	}
	if p.Method == "" {
		p.Method = DefaultProbeMethod
	}
	p.Method = strings.ToUpper(p.Method)
}
