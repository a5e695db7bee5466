package jobs

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
)

// The verified items of launch checklists, each proven from a source that
// exists today. Each answers in words and never fails: what went wrong is
// the item's reason to be red. They satisfy commands.ChecklistCheck.

func failing(format string, args ...any) store.CheckResult {
	return store.CheckResult{State: store.ItemFailing, Detail: fmt.Sprintf(format, args...)}
}

func verified(format string, args ...any) store.CheckResult {
	return store.CheckResult{State: store.ItemVerified, Detail: fmt.Sprintf(format, args...)}
}

// CostRefresher fetches a client's costs from Cost Explorer now ((*Cost).Refresh).
type CostRefresher interface {
	Refresh(ctx context.Context, client string) (store.CostRecord, error)
}

// QuotedCheck is "provisioned as quoted": this month's forecast within
// Tolerance percent of the client's hosting quote.
type QuotedCheck struct {
	Cost      CostRefresher
	Quotes    map[string]float64 // client → monthly hosting quote
	Tolerance float64            // percent, either way
}

// Check compares a fresh forecast with the quote.
func (q QuotedCheck) Check(ctx context.Context, client string) store.CheckResult {
	quote := q.Quotes[client]
	if quote <= 0 {
		return failing("no hosting_quote is configured for %s: nothing to compare the forecast with", client)
	}
	rec, err := q.Cost.Refresh(ctx, client)
	if err != nil {
		return failing("Cost Explorer could not be read: %v", err)
	}
	s := rec.Snapshot
	if !s.HasForecast {
		return failing("Cost Explorer has no forecast for this month yet")
	}
	delta := (s.Forecast - quote) / quote * 100
	words := fmt.Sprintf("forecast %s %.2f/month vs quote %.2f (%+.0f %%, tolerance ±%.0f %%)", s.Currency, s.Forecast, quote, delta, q.Tolerance)
	if math.Abs(delta) > q.Tolerance {
		return failing("%s", words)
	}
	return verified("%s", words)
}

// SiteStatuses are the uptime monitor's latest states (*store.Store).
type SiteStatuses interface {
	SiteStatuses(ctx context.Context) ([]store.SiteStatus, error)
}

// MonitoringCheck is "monitoring in place": every configured site of the
// client watched and up, and PagerDuty routing configured for the client.
type MonitoringCheck struct {
	Sites  SiteStatuses
	Expect map[string][]string // client → its configured site names
	Routed func(client string) bool
}

// Check reads the sites' states as /ops status shows them.
func (m MonitoringCheck) Check(ctx context.Context, client string) store.CheckResult {
	want := m.Expect[client]
	if len(want) == 0 {
		return failing("no uptime check (StatusCake or probe) is configured for %s", client)
	}
	all, err := m.Sites.SiteStatuses(ctx)
	if err != nil {
		return failing("the site states could not be read: %v", err)
	}
	state := map[string]string{}
	for _, s := range all {
		if s.Client == client {
			state[s.Site] = s.State
		}
	}
	var bad []string
	for _, site := range want {
		if st := state[site]; st != "up" {
			bad = append(bad, site+" is "+cmpOr(st, "not checked yet"))
		}
	}
	if m.Routed == nil || !m.Routed(client) {
		bad = append(bad, "no PagerDuty routing key for "+client)
	}
	if len(bad) > 0 {
		return failing("%s", strings.Join(bad, "; "))
	}
	return verified("%d sites up (%s); PagerDuty routing configured", len(want), strings.Join(want, ", "))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ShieldRefresher checks a client's Shield coverage now ((*Shield).Refresh).
type ShieldRefresher interface {
	Refresh(ctx context.Context, client string) (store.ShieldRecord, error)
}

// ShieldCheck is "AWS Shield active on every EC2": the Shield check's
// verdicts for advanced clients, not applicable for standard ones.
type ShieldCheck struct {
	Shield ShieldRefresher
	Levels map[string]string // client → advanced or standard (clients with an aws block)
}

// Check runs the Shield check for the client now.
func (s ShieldCheck) Check(ctx context.Context, client string) store.CheckResult {
	level, ok := s.Levels[client]
	switch {
	case !ok:
		return failing("%s has no aws block: its instances cannot be checked", client)
	case level != "advanced":
		return store.CheckResult{State: store.ItemNA, Detail: "the client has Shield Standard (automatic, and not verifiable through the API); Shield Advanced is not bought for it"}
	}
	rec, err := s.Shield.Refresh(ctx, client)
	if err != nil {
		return failing("the Shield check failed: %v", err)
	}
	inactive, exposed := rec.Gaps()
	switch {
	case inactive:
		return failing("the Shield Advanced subscription is %s: nothing in the account is protected", strings.ToLower(cmpOr(rec.Subscription, "unknown")))
	case len(exposed) > 0:
		names := make([]string, len(exposed))
		for i, e := range exposed {
			names[i] = e.Label() + " (" + e.Verdict + ")"
		}
		return failing("%d of %d instances not protected: %s", len(exposed), len(rec.Instances), strings.Join(names, ", "))
	}
	return verified("subscription active; all %d running instances protected or private", len(rec.Instances))
}

// TrainingReader reads training compliance (*store.Store).
type TrainingReader interface {
	LoadTrainingSync(ctx context.Context) (store.TrainingSync, bool, error)
	TrainingRecords(ctx context.Context) (map[string][]store.TrainingRecord, error)
	AllGrants(ctx context.Context) (map[string][]store.Grant, error)
}

// TrainingCheck is "engineers trained": the client's team (or, without
// one, everyone training applies to) current with security training.
type TrainingCheck struct {
	St    TrainingReader
	Rules store.TrainingRules
	Teams map[string][]string // client → Slack user IDs of its engineers
	Who   []store.Role
	Now   func() time.Time
}

// Check judges each team member as /ops training does.
func (c TrainingCheck) Check(ctx context.Context, client string) store.CheckResult {
	if c.St == nil {
		return failing("security-training compliance is not configured (training.courses)")
	}
	team := c.Teams[client]
	if len(team) == 0 {
		grants, err := c.St.AllGrants(ctx)
		if err != nil {
			return failing("the team could not be read: %v", err)
		}
		team = store.TrainingTeam(grants, c.Who)
	}
	if len(team) == 0 {
		return failing("nobody holds a role that must be trained, and %s has no launch.team", client)
	}
	sync, _, err := c.St.LoadTrainingSync(ctx)
	if err != nil {
		return failing("the training status could not be read: %v", err)
	}
	recs, err := c.St.TrainingRecords(ctx)
	if err != nil {
		return failing("the training records could not be read: %v", err)
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	var bad []string
	for _, s := range c.Rules.TrainingStatuses(team, sync, recs, now) {
		if s.State != store.TrainingCurrent && s.State != store.TrainingDueSoon {
			bad = append(bad, cmpOr(s.Email, s.User)+" "+string(s.State))
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		return failing("%d of %d not trained: %s", len(bad), len(team), strings.Join(bad, ", "))
	}
	return verified("all %d of the team current with security training", len(team))
}

// Pipelines reads a repository's default-branch CI (integrations/github).
type Pipelines interface {
	PipelineGreen(ctx context.Context, owner, repo string) (green bool, words string, err error)
}

// PipelineCheck is "deployment pipeline tested": the default branch of each
// client repository has passed CI.
type PipelineCheck struct {
	GitHub Pipelines
	Repos  map[string][]string // client → owner/name
}

// Check reads each repository's CI.
func (p PipelineCheck) Check(ctx context.Context, client string) store.CheckResult {
	repos := p.Repos[client]
	if len(repos) == 0 {
		return failing("no repository is configured for %s (repos)", client)
	}
	if p.GitHub == nil {
		return failing("GitHub is not configured (GITHUB_TOKEN)")
	}
	var good, bad []string
	for _, full := range repos {
		owner, name, _ := strings.Cut(full, "/")
		green, words, err := p.GitHub.PipelineGreen(ctx, owner, name)
		switch {
		case err != nil:
			bad = append(bad, full+": "+err.Error())
		case !green:
			bad = append(bad, full+": "+words)
		default:
			good = append(good, full+": "+words)
		}
	}
	if len(bad) > 0 {
		return failing("%s", strings.Join(bad, "; "))
	}
	return verified("%s", strings.Join(good, "; "))
}
