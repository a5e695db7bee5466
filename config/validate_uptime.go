package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
)

var (
	reSiteName     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	reStatusCakeID = regexp.MustCompile(`^[0-9]{1,20}$`)
	reScheduleName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	reScheduleID   = regexp.MustCompile(`^P[A-Z0-9]{5,}$`)

	severities = []string{"critical", "error", "warning", "info"}
)

// Limits of the uptime settings.
const (
	MinProbeInterval      = 10 * time.Second
	MaxProbeInterval      = 24 * time.Hour
	MinStatusCakeInterval = 15 * time.Second
	MaxProbeConcurrency   = 10000
	MaxConsecutive        = 20 // fail_after, recover_after
)

// validateUptime checks the clients' uptime settings, the uptime block and
// the PagerDuty schedules.
func validateUptime(cfg *Config, c *collector) {
	for _, key := range cfg.ClientKeys() {
		validateClientUptime(c, joinPath("clients", key), cfg.Clients[key])
	}
	u := cfg.Uptime
	if u.StatusCakeInterval.Std() < MinStatusCakeInterval {
		c.add("uptime.statuscake_interval", "%v: poll StatusCake at most every %v", u.StatusCakeInterval, Duration(MinStatusCakeInterval))
	}
	if u.ProbeConcurrency < 1 || u.ProbeConcurrency > MaxProbeConcurrency {
		c.add("uptime.probe_concurrency", "%d is not between 1 and %d", u.ProbeConcurrency, MaxProbeConcurrency)
	}
	const sp = "integrations.pagerduty.schedules"
	schedules := cfg.Integrations.PagerDuty.Schedules
	for _, name := range slices.Sorted(maps.Keys(schedules)) {
		p := joinPath(sp, name)
		if !reScheduleName.MatchString(name) {
			c.add(p, "%q is not a valid schedule name: use 1-40 lowercase letters, digits, - and _ "+
				"(it is typed in /ops oncall <name>)", name)
		}
		if id := schedules[name]; !reScheduleID.MatchString(id) {
			c.add(p, "%q is not a PagerDuty schedule ID (e.g. PABC123)", id)
		}
	}
}

func validateClientUptime(c *collector, p string, cl Client) {
	if !(cl.SLATarget > 0 && cl.SLATarget <= 100) {
		c.add(p+".sla_target", "%g is not a percentage above 0 and at most 100 (e.g. 99.9)", cl.SLATarget)
	}
	checkSeverity(c, p+".severity", cl.Severity)
	names := map[string]int{}
	for i, s := range cl.Sites {
		sp := fmt.Sprintf("%s.sites[%d]", p, i)
		switch first, dup := names[s.Name]; {
		case s.Name == "":
			c.add(sp, "needs a name: 1-63 lowercase letters, digits, ., - and _")
		case !reSiteName.MatchString(s.Name):
			c.add(sp+".name", "%q is not a valid site name: use 1-63 lowercase letters, digits, ., - and _", s.Name)
		case dup:
			c.add(sp+".name", "%q is already the name of sites[%d]", s.Name, first)
		default:
			names[s.Name] = i
		}
		if s.URL == "" && s.Probe != nil {
			c.add(sp, "needs a url for opsbot's own probe (or only a statuscake_id)")
		}
		checkURL(c, sp+".url", s.URL)
		if s.StatusCakeID != "" && !reStatusCakeID.MatchString(s.StatusCakeID) {
			c.add(sp+".statuscake_id", "%q is not a StatusCake test ID (digits only)", s.StatusCakeID)
		}
		if s.Severity != cl.Severity { // inherited: already checked
			checkSeverity(c, sp+".severity", s.Severity)
		}
		checkConsecutive(c, sp+".fail_after", s.FailAfter)
		checkConsecutive(c, sp+".recover_after", s.RecoverAfter)
		if s.Probe != nil {
			validateProbe(c, sp+".probe", s.Probe)
		}
	}
}

func validateProbe(c *collector, p string, pr *Probe) {
	intervalOK := pr.Interval.Std() >= MinProbeInterval && pr.Interval.Std() <= MaxProbeInterval
	if !intervalOK {
		c.add(p+".interval", "%v is not between %v and %v", pr.Interval, Duration(MinProbeInterval), Duration(MaxProbeInterval))
	}
	switch {
	case pr.Timeout <= 0:
		c.add(p+".timeout", "%v: the timeout must be positive", pr.Timeout)
	case intervalOK && pr.Timeout >= pr.Interval:
		c.add(p+".timeout", "%v: the timeout must be less than the interval (%v)", pr.Timeout, pr.Interval)
	}
	for i, code := range pr.ExpectStatus {
		if code < 100 || code > 599 {
			c.add(fmt.Sprintf("%s.expect_status[%d]", p, i), "%d is not an HTTP status (100-599)", code)
		}
	}
	if pr.Method != "GET" && pr.Method != "HEAD" {
		c.add(p+".method", "%q is not GET or HEAD", pr.Method)
	}
}

func checkSeverity(c *collector, path, sev string) {
	if !slices.Contains(severities, sev) {
		c.add(path, "%q is not one of critical, error, warning, info", sev)
	}
}

func checkConsecutive(c *collector, path string, n int) {
	if n < 1 || n > MaxConsecutive {
		c.add(path, "%d is not between 1 and %d", n, MaxConsecutive)
	}
}
