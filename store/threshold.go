package store

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ThresholdMetric names one server threshold that `/ops threshold set` may override.
type ThresholdMetric string

// The overridable thresholds of the server monitor.
const (
	ThresholdCPU           ThresholdMetric = "cpu"             // percent, 1-100
	ThresholdFreeStorageGB ThresholdMetric = "free_storage_gb" // GB, > 0 and <= 65536
	ThresholdPeriods       ThresholdMetric = "periods"         // whole periods, 1-60
	ThresholdSpikeFactor   ThresholdMetric = "spike_factor"    // times the baseline, 1.5-100
)

// ThresholdMetrics lists the overridable thresholds in display order.
var ThresholdMetrics = []ThresholdMetric{ThresholdCPU, ThresholdFreeStorageGB, ThresholdPeriods, ThresholdSpikeFactor}

// ServerThresholds are the server monitor's thresholds for one client. A
// zero field is unset: the next layer (config, then the built-in default)
// applies. Every valid value is above zero, so zero never means "off".
type ServerThresholds struct {
	CPU           float64 // alert when CPU utilisation is above this percentage
	FreeStorageGB float64 // alert when RDS free storage is below this many GB
	Periods       int     // consecutive periods in breach before alerting
	SpikeFactor   float64 // this many times the trailing baseline is unusual
}

// Get returns the value of metric m (0 when unset or m is unknown).
func (t ServerThresholds) Get(m ThresholdMetric) float64 {
	switch m {
	case ThresholdCPU:
		return t.CPU
	case ThresholdFreeStorageGB:
		return t.FreeStorageGB
	case ThresholdPeriods:
		return float64(t.Periods)
	case ThresholdSpikeFactor:
		return t.SpikeFactor
	}
	return 0
}

func (t *ServerThresholds) set(m ThresholdMetric, v float64) {
	switch m {
	case ThresholdCPU:
		t.CPU = v
	case ThresholdFreeStorageGB:
		t.FreeStorageGB = v
	case ThresholdPeriods:
		t.Periods = int(v)
	case ThresholdSpikeFactor:
		t.SpikeFactor = v
	}
}

// ThresholdSource says which layer an effective threshold comes from.
type ThresholdSource string

// Threshold sources, weakest first.
const (
	SourceDefault  ThresholdSource = "default"  // opsbot's built-in default
	SourceConfig   ThresholdSource = "config"   // opsbot.yaml (servers.thresholds or the client's thresholds)
	SourceOverride ThresholdSource = "override" // set with `/ops threshold set`, stored in Redis
)

// EffectiveThresholds are the thresholds in force for a client and, per
// metric, where each value comes from.
type EffectiveThresholds struct {
	ServerThresholds
	Sources map[ThresholdMetric]ThresholdSource
}

// ResolveThresholds layers override over configured over defaults, field by
// field: the first non-zero value wins.
func ResolveThresholds(defaults, configured, override ServerThresholds) EffectiveThresholds {
	out := EffectiveThresholds{Sources: make(map[ThresholdMetric]ThresholdSource, len(ThresholdMetrics))}
	for _, m := range ThresholdMetrics {
		v, src := defaults.Get(m), SourceDefault
		if c := configured.Get(m); c > 0 {
			v, src = c, SourceConfig
		}
		if o := override.Get(m); o > 0 {
			v, src = o, SourceOverride
		}
		out.set(m, v)
		out.Sources[m] = src
	}
	return out
}

// ThresholdValue is a parsed `/ops threshold set` argument: a value for
// Metric, or Default to remove the override.
type ThresholdValue struct {
	Metric  ThresholdMetric
	Value   float64 // 0 when Default
	Default bool
}

// Format renders the value with its unit ("80 %", "20 GB", "3 periods", "4×").
func (v ThresholdValue) Format() string {
	if v.Default {
		return "default"
	}
	return FormatThreshold(v.Metric, v.Value)
}

// FormatThreshold renders a threshold value with its unit.
func FormatThreshold(m ThresholdMetric, v float64) string {
	n := strconv.FormatFloat(v, 'f', -1, 64)
	switch m {
	case ThresholdCPU:
		return n + " %"
	case ThresholdFreeStorageGB:
		return n + " GB"
	case ThresholdPeriods:
		if v == 1 {
			return "1 period"
		}
		return n + " periods"
	case ThresholdSpikeFactor:
		return n + "×"
	}
	return n
}

// ThresholdInputError explains a bad metric or value in words a person
// understands, with a correct invocation to copy.
type ThresholdInputError struct {
	Msg     string
	Example string // the arguments after `threshold set <client>`, e.g. "cpu 85"
}

func (e *ThresholdInputError) Error() string { return e.Msg }

// thresholdRule is the valid range and an example of one metric.
type thresholdRule struct {
	lo, hi   float64
	loOpen   bool   // lo itself is not allowed (free storage must be > 0)
	integer  bool   // whole numbers only
	suffixes string // accepted unit suffixes, lower case, "|"-separated
	what     string // the range in words
	example  string
}

var thresholdRules = map[ThresholdMetric]thresholdRule{
	ThresholdCPU:           {lo: 1, hi: 100, suffixes: "%", what: "a CPU percentage from 1 to 100", example: "cpu 85"},
	ThresholdFreeStorageGB: {lo: 0, hi: 65536, loOpen: true, suffixes: "gb", what: "free storage in GB, above 0 and at most 65536", example: "free_storage_gb 20"},
	ThresholdPeriods:       {lo: 1, hi: 60, integer: true, what: "a whole number of periods from 1 to 60", example: "periods 3"},
	ThresholdSpikeFactor:   {lo: 1.5, hi: 100, suffixes: "x|×", what: "a factor from 1.5 to 100 (times the trailing baseline)", example: "spike_factor 4"},
}

// plainNumber is what a value may look like: digits with an optional
// fraction. No signs, exponents, hex, NaN or Inf.
var plainNumber = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,6})?$`)

// ParseThreshold validates a metric name and a value as typed after
// `/ops threshold set <client>`. The value "default" removes the override.
// Units are optional ("85%", "20GB", "4x"). Errors are *ThresholdInputError.
func ParseThreshold(metric, value string) (ThresholdValue, error) {
	m := ThresholdMetric(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(metric)), "-", "_"))
	rule, ok := thresholdRules[m]
	if !ok {
		names := make([]string, len(ThresholdMetrics))
		for i, tm := range ThresholdMetrics {
			names[i] = string(tm)
		}
		return ThresholdValue{}, &ThresholdInputError{
			Msg:     fmt.Sprintf("%q is not a threshold I know. Thresholds: %s.", shorten(metric, 40), strings.Join(names, ", ")),
			Example: "cpu 85",
		}
	}
	v := strings.ToLower(strings.TrimSpace(value))
	if v == "default" {
		return ThresholdValue{Metric: m, Default: true}, nil
	}
	if rule.suffixes != "" {
		for suf := range strings.SplitSeq(rule.suffixes, "|") {
			v = strings.TrimSpace(strings.TrimSuffix(v, suf))
		}
	}
	bad := func(why string) error {
		return &ThresholdInputError{Msg: fmt.Sprintf("%s for %s: it must be %s (or `default` to remove the override).", why, m, rule.what), Example: rule.example}
	}
	if !plainNumber.MatchString(v) {
		return ThresholdValue{}, bad(fmt.Sprintf("%q is not a number", shorten(value, 40)))
	}
	f, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil:
		return ThresholdValue{}, bad(fmt.Sprintf("%q is not a number", shorten(value, 40)))
	case rule.integer && f != float64(int(f)):
		return ThresholdValue{}, bad(fmt.Sprintf("%s is not a whole number", v))
	case f < rule.lo || (rule.loOpen && f == rule.lo) || f > rule.hi:
		return ThresholdValue{}, bad(fmt.Sprintf("%s is out of range", v))
	}
	return ThresholdValue{Metric: m, Value: f}, nil
}

// shorten cuts s to n runes for echoing back in an error.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
