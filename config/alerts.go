package config

import (
	"fmt"
	"slices"
	"time"
)

// Alerts tunes what happens to an alert after it fires: the escalation
// ladder while it stays open, the grouping of a client's site alerts under
// a failing server, and which unusual server activity pages.
type Alerts struct {
	// Escalation is the ladder of every client's open alerts (a client's
	// own escalation replaces it). Default: one step, a reminder after 2h.
	Escalation []EscalationStep `yaml:"escalation"`
	// GroupWindow: a client's site alerts that fire within this time of one
	// of its EC2 instances failing its status checks (before or after) are
	// gathered under the instance's alert. Default 10m; 0s turns grouping off.
	GroupWindow *Duration `yaml:"group_window"`
	// UnusualPages lists the unusual server activity that pages PagerDuty
	// (besides the post to the support channel): vanished (default),
	// appeared, type_changed, spike. A client's unusual_pages replaces it.
	UnusualPages []string `yaml:"unusual_pages"`
}

// EscalationStep is one rung of the ladder: After the alert fired, and
// while it is still open and not silenced, a reminder goes in its thread
// ("still down after 2h"); Channel, when set, is told too; Severity, when
// set, pages PagerDuty again at that severity (critical and error page at
// high urgency) unless someone has acknowledged the alert.
type EscalationStep struct {
	After    Duration `yaml:"after"`
	Channel  string   `yaml:"channel"`
	Severity string   `yaml:"severity"`
}

// Defaults and limits of the alert settings.
const (
	DefaultEscalationAfter = 2 * time.Hour
	DefaultGroupWindow     = 10 * time.Minute
	MaxEscalationSteps     = 10
	MaxGroupWindow         = time.Hour
)

// UnusualEvents are the kinds of unusual server activity.
var UnusualEvents = []string{"vanished", "appeared", "type_changed", "spike"}

func applyAlertDefaults(cfg *Config) {
	a := &cfg.Alerts
	if a.Escalation == nil {
		a.Escalation = []EscalationStep{{After: Duration(DefaultEscalationAfter)}}
	}
	if a.GroupWindow == nil {
		d := Duration(DefaultGroupWindow)
		a.GroupWindow = &d
	}
	if a.UnusualPages == nil {
		a.UnusualPages = []string{"vanished"}
	}
}

// Escalation is the ladder of client key's alerts.
func (c *Config) Escalation(key string) []EscalationStep {
	if cl, ok := c.Clients[key]; ok && cl.Escalation != nil {
		return *cl.Escalation
	}
	return c.Alerts.Escalation
}

// UnusualPages is the unusual server activity of client key that pages.
func (c *Config) UnusualPages(key string) []string {
	if cl, ok := c.Clients[key]; ok && cl.UnusualPages != nil {
		return *cl.UnusualPages
	}
	return c.Alerts.UnusualPages
}

func validateAlerts(cfg *Config, c *collector) {
	validateLadder(c, "alerts.escalation", cfg.Alerts.Escalation)
	if w := cfg.Alerts.GroupWindow; w != nil && (w.Std() < 0 || w.Std() > MaxGroupWindow) {
		c.add("alerts.group_window", "%v is not between 0s and %v", *w, Duration(MaxGroupWindow))
	}
	validateUnusual(c, "alerts.unusual_pages", cfg.Alerts.UnusualPages)
	for _, key := range cfg.ClientKeys() {
		cl, p := cfg.Clients[key], joinPath("clients", key)
		if cl.Escalation != nil {
			validateLadder(c, p+".escalation", *cl.Escalation)
		}
		if cl.UnusualPages != nil {
			validateUnusual(c, p+".unusual_pages", *cl.UnusualPages)
		}
	}
}

func validateLadder(c *collector, p string, steps []EscalationStep) {
	if len(steps) > MaxEscalationSteps {
		c.add(p, "%d steps: at most %d", len(steps), MaxEscalationSteps)
	}
	var prev Duration
	for i, s := range steps {
		sp := fmt.Sprintf("%s[%d]", p, i)
		switch {
		case s.After.Std() < time.Minute:
			c.add(sp+".after", "%v: a step comes at least 1m after the alert fired (e.g. after: 2h)", s.After)
		case s.After <= prev:
			c.add(sp+".after", "%v: each step comes after the one before (%v)", s.After, prev)
		}
		prev = s.After
		checkChannel(c, sp+".channel", s.Channel)
		if s.Severity != "" {
			checkSeverity(c, sp+".severity", s.Severity)
		}
	}
}

func validateUnusual(c *collector, p string, events []string) {
	for i, e := range events {
		if !slices.Contains(UnusualEvents, e) {
			c.add(fmt.Sprintf("%s[%d]", p, i), "%q is not one of %v", e, UnusualEvents)
		}
	}
}

// GroupWindowOrDefault is alerts.group_window (the default when unset).
func (a Alerts) GroupWindowOrDefault() time.Duration {
	if a.GroupWindow == nil {
		return DefaultGroupWindow
	}
	return a.GroupWindow.Std()
}
