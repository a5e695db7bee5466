package commands

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Examples of the finding verbs, shown with every mistake.
const (
	scanExample     = "/ops scan acme"
	findingsExample = "/ops findings acme --severity high"
	acceptExample   = "/ops findings accept e26b149d 30d WAF rule blocks it until the fix ships"
	fpExample       = "/ops findings accept e26b149d 30d the parameter is never reflected --false-positive"
)

// findingSeverities are the severities people may name, worst first.
var findingSeverities = []string{"critical", "high", "medium", "low", "information"}

// findingsQuery is what `/ops findings [client] [--severity S] [--all]` asks.
type findingsQuery struct {
	client   string // as typed; "" = every client the caller may see
	severity string // the least severe shown; "" = every severity
	all      bool   // fixed and accepted findings too, not only those needing work
}

// flagWord normalises a flag as people type it: Slack (and phones) often
// turn "--" into an en or em dash.
func flagWord(w string) (string, bool) {
	for _, dash := range []string{"--", "—", "–"} {
		if rest, ok := strings.CutPrefix(w, dash); ok {
			return "--" + strings.ToLower(rest), true
		}
	}
	return w, false
}

// parseSeverity reads a severity word ("info" for information).
func parseSeverity(w string) (string, bool) {
	w = strings.ToLower(strings.TrimSpace(w))
	if w == "info" {
		w = "information"
	}
	return w, slices.Contains(findingSeverities, w)
}

// parseFindingsArgs reads the words after `/ops findings`.
func parseFindingsArgs(args []string) (findingsQuery, error) {
	var q findingsQuery
	for i := 0; i < len(args); i++ {
		w, isFlag := flagWord(args[i])
		if !isFlag {
			if q.client != "" {
				return q, userErrorf(findingsExample, "Name at most one client; `/ops findings` alone lists every client you can see.")
			}
			q.client = w
			continue
		}
		name, value, hasValue := strings.Cut(w, "=")
		switch name {
		case "--all":
			if hasValue {
				return q, userErrorf(findingsExample+" --all", "`--all` takes no value.")
			}
			q.all = true
		case "--severity":
			if !hasValue {
				if i+1 >= len(args) {
					return q, userErrorf(findingsExample, "Say which severity after `--severity`: %s.", strings.Join(findingSeverities, ", "))
				}
				i++
				value = args[i]
			}
			sev, ok := parseSeverity(value)
			if !ok {
				return q, userErrorf(findingsExample, "%q is not a severity; use %s (that one and worse are shown).",
					Escape(truncate(value, 30)), strings.Join(findingSeverities, ", "))
			}
			q.severity = sev
		default:
			return q, userErrorf(findingsExample, "I don't know the option %q; `/ops findings` takes a client, `--severity <level>` and `--all`.",
				Escape(truncate(args[i], 30)))
		}
	}
	return q, nil
}

// acceptArgs is `/ops findings accept <id> <duration> <reason...> [--false-positive]`.
type acceptArgs struct {
	id            string
	d             time.Duration
	reason        string
	falsePositive bool
}

// findingIDPrefix is a finding ID, or the start of one (6 characters at least).
var findingIDPrefix = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{5,63}$`)

// parseAcceptArgs reads the words after `/ops findings accept`. The duration
// is the house's (1m to 30d); the reason is required.
func parseAcceptArgs(args []string) (acceptArgs, error) {
	var a acceptArgs
	var words []string
	for _, arg := range args {
		w, isFlag := flagWord(arg)
		switch {
		case isFlag && w == "--false-positive":
			a.falsePositive = true
		case isFlag:
			return a, userErrorf(acceptExample, "I don't know the option %q; `accept` takes only `--false-positive`.", Escape(truncate(arg, 30)))
		default:
			words = append(words, arg)
		}
	}
	example := acceptExample
	if a.falsePositive {
		example = fpExample
	}
	if len(words) == 0 {
		return a, userErrorf(example, "Say which finding (its ID from `/ops findings`), for how long (at most 30 days) and why.")
	}
	a.id = strings.ToLower(words[0])
	if !findingIDPrefix.MatchString(a.id) {
		return a, userErrorf(example, "%q is not a finding ID: use the ID `/ops findings` shows (at least its first 6 characters).",
			Escape(truncate(words[0], 40)))
	}
	if len(words) < 2 {
		return a, userErrorf(example, "Say for how long, e.g. `30d` or `7d` (at most 30 days), then why.")
	}
	d, err := ParseDuration(words[1])
	if err != nil {
		return a, userErrorf(example, "%q is not a duration I can use: %s.", Escape(truncate(words[1], 30)), err)
	}
	a.d = d
	a.reason = strings.TrimSpace(strings.Join(words[2:], " "))
	switch n := len([]rune(a.reason)); {
	case n == 0:
		what := "accepting the risk"
		if a.falsePositive {
			what = "calling it a false positive"
		}
		return a, userErrorf(example, "Say why, after the duration: the reason for %s goes to the audit log and the security team.", what)
	case n > maxReasonLen:
		return a, userErrorf(example, "That reason is %d characters long; keep it to %d.", n, maxReasonLen)
	}
	return a, nil
}

// severityAtLeast reports whether sev is min or worse ("" min: any).
func severityAtLeast(sev, min string) bool {
	if min == "" {
		return true
	}
	i, j := slices.Index(findingSeverities, sev), slices.Index(findingSeverities, min)
	return i >= 0 && i <= j
}

// severityBadge is a severity as an emoji and a word (never colour alone).
func severityBadge(sev string) string {
	emoji := map[string]string{"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵"}[sev]
	if emoji == "" {
		emoji = "⚪"
	}
	word := sev
	if word == "" {
		word = "unknown"
	}
	return fmt.Sprintf("%s *%s%s*", emoji, strings.ToUpper(word[:1]), word[1:])
}
