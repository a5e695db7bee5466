package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Checklists are the pre-launch checklists: templates of items (a built-in
// "default" encodes the creation policy; a template of that name in config
// replaces it) and the tolerances of the verified items.
type Checklists struct {
	Templates map[string]ChecklistTemplate `yaml:"templates"`
	// QuoteTolerance is how far (in percent, either way) the cost
	// forecast may be from the client's hosting_quote for "provisioned as
	// quoted" to pass; default 15.
	QuoteTolerance float64 `yaml:"quote_tolerance"`
	// StaleAfter is how long a verification counts when its item sets no
	// ttl; default 24h.
	StaleAfter Duration `yaml:"stale_after"`
	// Expire is when expired waivers are looked for (cron); default every
	// 15 minutes.
	Expire string `yaml:"expire"`
	// LoadtestPoll is how often a running loader.io test's result is read;
	// default 5s.
	LoadtestPoll Duration `yaml:"loadtest_poll"`
}

// ChecklistTemplate is a named list of items.
type ChecklistTemplate struct {
	Items []ChecklistItem `yaml:"items"`
}

// ChecklistItem is one item of a template.
type ChecklistItem struct {
	Key   string   `yaml:"key"`   // short name, unique in the template (e.g. monitoring)
	Title string   `yaml:"title"` // as shown
	Kind  string   `yaml:"kind"`  // verified (the bot proves it) or attested (a person ticks it)
	Check string   `yaml:"check"` // verified: one of ChecklistChecks
	Role  string   `yaml:"role"`  // attested: who ticks it (admin always may)
	When  string   `yaml:"when"`  // applies only when the client has it: detectify, pentest
	TTL   Duration `yaml:"ttl"`   // a verification older than this is stale; default stale_after
}

// ClientLaunch is what a client's launch checklist needs to know.
type ClientLaunch struct {
	Pentest string `yaml:"pentest"` // "requested": the pentest item applies
	// Team are the Slack user IDs of the engineers on the client: "engineers
	// trained" checks them (default: everyone training applies to).
	Team []string `yaml:"team"`
	// Loadtest is the loader.io test the "load test passed" item runs.
	Loadtest *Loadtest `yaml:"loadtest"`
	// Databases (RDS instance identifiers) and Buckets (S3) that "backups
	// and recovery" checks.
	Databases []string `yaml:"databases"`
	Buckets   []string `yaml:"buckets"`
}

// Loadtest is one client's loader.io test and its pass criteria.
type Loadtest struct {
	URL string `yaml:"url"`
	// Token is the target's verification token from loader.io
	// (loaderio-<hex>), served at https://<host>/<token>.txt.
	Token            string  `yaml:"token"`
	ClientsPerSecond int     `yaml:"clients_per_second"`
	Total            int     `yaml:"total"`
	Duration         int     `yaml:"duration"` // seconds
	MaxAvgMS         int     `yaml:"max_avg_ms"`
	MaxErrorRate     float64 `yaml:"max_error_rate"` // percent, as loader.io's avg_error_rate
}

// ChecklistChecks are the sources a verified item may name.
var ChecklistChecks = []string{"quoted", "pipeline", "loadtest", "owasp", "shield", "backups", "monitoring", "training"}

// ChecklistConditions are the conditions an item's when may name.
var ChecklistConditions = []string{"detectify", "pentest"}

// Defaults of the checklists.
const (
	DefaultQuoteTolerance  = 15.0
	DefaultStaleAfter      = 24 * time.Hour
	DefaultChecklistExpire = "*/15 * * * *"
	DefaultTemplate        = "default"
	MaxChecklistItems      = 20
)

// DefaultChecklistItems is the built-in "default" template: the creation
// policy's pre-launch checklist, each item proven where an API can prove it.
func DefaultChecklistItems() []ChecklistItem {
	return []ChecklistItem{
		{Key: "quote", Title: "Hosting quote re-reviewed", Kind: "attested", Role: "admin"},
		{Key: "quoted", Title: "Provisioned as quoted", Kind: "verified", Check: "quoted"},
		{Key: "pipeline", Title: "Deployment pipeline tested", Kind: "verified", Check: "pipeline"},
		{Key: "loadtest", Title: "Load test passed", Kind: "verified", Check: "loadtest", TTL: Duration(7 * 24 * time.Hour)},
		{Key: "owasp", Title: "OWASP scan clean", Kind: "verified", Check: "owasp", When: "detectify", TTL: Duration(14 * 24 * time.Hour)},
		{Key: "shield", Title: "AWS Shield active on every EC2", Kind: "verified", Check: "shield"},
		{Key: "pentest", Title: "Pentest done", Kind: "attested", Role: "security", When: "pentest"},
		{Key: "backups", Title: "Backups and recovery", Kind: "verified", Check: "backups"},
		{Key: "monitoring", Title: "Monitoring in place", Kind: "verified", Check: "monitoring"},
		{Key: "training", Title: "Engineers trained", Kind: "verified", Check: "training"},
		{Key: "compliance", Title: "Compliance reviewed", Kind: "attested", Role: "security"},
	}
}

// LaunchConditions are the conditions the client meets, for items' when:
// pentest (launch.pentest: requested) and detectify (a detectify block:
// the client pays for scans).
func (c Client) LaunchConditions() map[string]bool {
	return map[string]bool{"pentest": strings.EqualFold(c.Launch.Pentest, "requested"), "detectify": c.Detectify != nil}
}

// TemplateNames lists the templates, sorted.
func (c Checklists) TemplateNames() []string { return slices.Sorted(maps.Keys(c.Templates)) }

var reItemKey = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

func applyChecklistDefaults(cfg *Config) {
	cl := &cfg.Checklists
	defFloat(&cl.QuoteTolerance, DefaultQuoteTolerance)
	defDuration(&cl.StaleAfter, DefaultStaleAfter)
	defString(&cl.Expire, DefaultChecklistExpire)
	defDuration(&cl.LoadtestPoll, 5*time.Second)
	if cl.Templates == nil {
		cl.Templates = map[string]ChecklistTemplate{}
	}
	if _, ok := cl.Templates[DefaultTemplate]; !ok {
		cl.Templates[DefaultTemplate] = ChecklistTemplate{Items: DefaultChecklistItems()}
	}
	for name, t := range cl.Templates {
		for i := range t.Items {
			it := &t.Items[i]
			it.Kind, it.Check, it.Role, it.When = strings.ToLower(it.Kind), strings.ToLower(it.Check), strings.ToLower(it.Role), strings.ToLower(it.When)
			defString(&it.Title, it.Key)
			defDuration(&it.TTL, cl.StaleAfter.Std())
		}
		cl.Templates[name] = t
	}
}

// validateChecklists checks every template and each client's launch block.
func validateChecklists(cfg *Config, c *collector) {
	cl := cfg.Checklists
	if cl.QuoteTolerance <= 0 || cl.QuoteTolerance > 100 {
		c.add("checklists.quote_tolerance", "%v is not a percentage between 0 and 100 (e.g. quote_tolerance: 15)", cl.QuoteTolerance)
	}
	for _, name := range cl.TemplateNames() {
		p := joinPath("checklists.templates", name)
		if !reItemKey.MatchString(name) {
			c.add(p, "%q is not a template name: 1-40 lowercase letters, digits, - and _", truncate(name, 40))
		}
		items := cl.Templates[name].Items
		switch {
		case len(items) == 0:
			c.add(p+".items", "a template needs at least one item")
		case len(items) > MaxChecklistItems:
			// Each item is two blocks of the checklist's one message, and a
			// Slack message holds at most 50.
			c.add(p+".items", "has %d items; a checklist holds at most %d (one Slack message)", len(items), MaxChecklistItems)
		}
		seen := map[string]bool{}
		for i, it := range items {
			ip := fmt.Sprintf("%s.items[%d]", p, i)
			switch {
			case !reItemKey.MatchString(it.Key):
				c.add(ip+".key", "%q is not an item key: 1-40 lowercase letters, digits, - and _ (e.g. key: monitoring)", truncate(it.Key, 40))
			case seen[it.Key]:
				c.add(ip+".key", "%q appears twice in the template", it.Key)
			}
			seen[it.Key] = true
			switch it.Kind {
			case "verified":
				if !slices.Contains(ChecklistChecks, it.Check) {
					c.add(ip+".check", "%q is not a check opsbot can run (%s)", truncate(it.Check, 40), strings.Join(ChecklistChecks, ", "))
				}
				if it.Role != "" {
					c.add(ip+".role", "a verified item is proven by opsbot: it has no role (use kind: attested)")
				}
			case "attested":
				if !slices.Contains(roleNames, it.Role) || it.Role == "stakeholder" {
					c.add(ip+".role", "%q is not a staff role who may tick it (admin, support, engineer, finance, security)", truncate(it.Role, 40))
				}
				if it.Check != "" {
					c.add(ip+".check", "an attested item is ticked by a person: it has no check (use kind: verified)")
				}
			default:
				c.add(ip+".kind", "%q is not verified or attested", truncate(it.Kind, 40))
			}
			if it.When != "" && !slices.Contains(ChecklistConditions, it.When) {
				c.add(ip+".when", "%q is not a condition (%s)", truncate(it.When, 40), strings.Join(ChecklistConditions, ", "))
			}
			if len(it.Title) > 150 {
				c.add(ip+".title", "is %d characters long; keep it under 150", len(it.Title))
			}
		}
	}
	for _, key := range cfg.ClientKeys() {
		l := cfg.Clients[key].Launch
		p := joinPath("clients", key) + ".launch"
		if l.Pentest != "" && !strings.EqualFold(l.Pentest, "requested") && !strings.EqualFold(l.Pentest, "no") {
			c.add(p+".pentest", "%q is not requested or no", truncate(l.Pentest, 40))
		}
		if lt := l.Loadtest; lt != nil {
			validateLoadtest(c, p+".loadtest", *lt)
		}
		for i, u := range l.Team {
			if !reUserID.MatchString(u) {
				c.add(fmt.Sprintf("%s.team[%d]", p, i), "%q is not a Slack user ID (U0123ABCD)", truncate(u, 40))
			}
		}
	}
}

var reLoaderToken = regexp.MustCompile(`^loaderio-[0-9a-f]{16,64}$`)

func validateLoadtest(c *collector, p string, lt Loadtest) {
	if lt.URL == "" {
		c.add(p+".url", "a load test needs the url to load (e.g. url: https://www.acme.example/)")
	} else {
		checkURL(c, p+".url", lt.URL)
	}
	if !reLoaderToken.MatchString(lt.Token) {
		c.add(p+".token", "%q is not loader.io's verification token (loaderio-<hex>, from the target's verification file)", truncate(lt.Token, 80))
	}
	if (lt.Total > 0) == (lt.ClientsPerSecond > 0) || lt.Total < 0 || lt.ClientsPerSecond < 0 {
		c.add(p, "set one of total (clients over the test) or clients_per_second, above 0")
	}
	if lt.Duration < 1 || lt.Duration > 600 {
		c.add(p+".duration", "%d is not 1 to 600 seconds", lt.Duration)
	}
	if lt.MaxAvgMS <= 0 {
		c.add(p+".max_avg_ms", "the pass criterion needs an average response time in ms above 0 (e.g. max_avg_ms: 500)")
	}
	if lt.MaxErrorRate < 0 || lt.MaxErrorRate > 100 {
		c.add(p+".max_error_rate", "%v is not a percentage from 0 to 100", lt.MaxErrorRate)
	}
}
