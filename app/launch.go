package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsmon"
	"github.com/383project/opsbot/integrations/github"
	"github.com/383project/opsbot/integrations/s3"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// launchWiring is the pre-launch checklists: the templates, the sources
// that prove verified items, and the job that ends expired waivers.
type launchWiring struct {
	cfg    *config.Config
	st     *store.Store
	router *commands.Router // set once built: the waiver job renders through it
	log    *slog.Logger
	aws    aws.Config
}

// newLaunch registers the waiver-expiry job on checklists.expire.
func newLaunch(cfg *config.Config, base aws.Config, st *store.Store, bg *background, log *slog.Logger) (*launchWiring, error) {
	l := &launchWiring{cfg: cfg, st: st, log: log, aws: base}
	job := &jobs.ChecklistWaivers{St: st, Nudge: bg.changed, Logger: log.With("component", "checklists"),
		Render: func(cl store.Checklist, events []store.ChecklistEvent, now time.Time) ([]store.OutboxItem, error) {
			if l.router == nil {
				return nil, fmt.Errorf("checklists: the router is not built yet")
			}
			return l.router.ChecklistDeliveries(cl, events, now)
		}}
	if err := bg.sched.Add(cfg.Checklists.Expire, job); err != nil {
		return nil, fmt.Errorf("checklists.expire %q: %w", cfg.Checklists.Expire, err)
	}
	return l, nil
}

// wire hands /ops checklist the templates and every item's source.
func (l *launchWiring) wire(d *commands.Deps, bg *background) {
	cfg := l.cfg
	s := commands.ChecklistSettings{Templates: map[string][]store.ItemSpec{}, Conditions: map[string]map[string]bool{},
		Checks: map[string]commands.ChecklistCheck{}, Budget: 15 * time.Minute}
	for name, t := range cfg.Checklists.Templates {
		for _, it := range t.Items {
			s.Templates[name] = append(s.Templates[name], store.ItemSpec{Key: it.Key, Title: it.Title, Kind: store.ItemKind(it.Kind),
				Check: it.Check, Role: store.Role(it.Role), When: it.When, TTL: it.TTL.Std()})
		}
	}
	sites, repos, teams := map[string][]string{}, map[string][]string{}, map[string][]string{}
	for key, cl := range cfg.Clients {
		s.Conditions[key] = cl.LaunchConditions()
		for _, site := range cl.Sites {
			sites[key] = append(sites[key], site.Name)
		}
		repos[key], teams[key] = cl.Repos, cl.Launch.Team
	}
	s.Announce = func(client string) []string {
		var out []string
		for _, ch := range []string{cfg.Channels.Support, cfg.Clients[client].Channels.General} {
			if ch != "" {
				out = append(out, ch)
			}
		}
		return out
	}
	s.Checks["monitoring"] = jobs.MonitoringCheck{Sites: l.st, Expect: sites, Routed: func(client string) bool {
		_, ok := cfg.RoutingKey(client)
		return ok
	}}
	if bg.aws.cost != nil {
		s.Checks["quoted"] = jobs.QuotedCheck{Cost: bg.aws.cost, Quotes: bg.aws.quotes, Tolerance: cfg.Checklists.QuoteTolerance}
	}
	if bg.shield.job != nil {
		s.Checks["shield"] = jobs.ShieldCheck{Shield: bg.shield.job, Levels: bg.shield.levels}
	}
	if bg.train.job != nil {
		s.Checks["training"] = jobs.TrainingCheck{St: l.st, Rules: bg.train.settings.Rules, Teams: teams, Who: bg.train.settings.Who}
	}
	if cfg.Secrets.GitHubToken != "" {
		s.Checks["pipeline"] = jobs.PipelineCheck{GitHub: pipelines{bg.changes.issues.gh}, Repos: repos}
	}
	s.Checks["loadtest"] = newLoadtestCheck(cfg, l.st, l.log)
	s.Checks["backups"] = newBackupsCheck(cfg, l.aws, l.log)
	s.Checks["owasp"] = jobs.OwaspCheck{Findings: l.st}
	d.Checklists, d.ChecklistSettings = l.st, s
}

// pipelines words a repository's CI for the "deployment pipeline tested" item.
type pipelines struct{ gh *github.Client }

func (p pipelines) PipelineGreen(ctx context.Context, owner, repo string) (bool, string, error) {
	pl, err := p.gh.Pipeline(ctx, owner, repo)
	if err != nil {
		return false, "", err
	}
	head := pl.Branch + "@" + pl.SHA[:min(7, len(pl.SHA))]
	switch {
	case len(pl.Failed) > 0:
		return false, head + " failed: " + strings.Join(pl.Failed, ", "), nil
	case len(pl.Pending) > 0:
		return false, head + " still running: " + strings.Join(pl.Pending, ", "), nil
	case len(pl.Passed) == 0:
		return false, head + " has no CI status or check run", nil
	}
	return true, fmt.Sprintf("%s passed (%s)", head, strings.Join(pl.Passed, ", ")), nil
}

// backupSource reads RDS retention and S3 versioning in each client's account.
type backupSource struct {
	mon      *awsmon.Client
	s3       *s3.Client
	accounts map[string]awsapi.Config
}

func (b backupSource) BackupRetention(ctx context.Context, client string, ids []string) (map[string]int32, error) {
	acct, ok := b.accounts[client]
	if !ok {
		return nil, fmt.Errorf("backups: %s has no aws block", client)
	}
	return b.mon.BackupRetention(ctx, acct, ids)
}

func (b backupSource) Versioning(ctx context.Context, client, bucket string) (string, error) {
	acct, ok := b.accounts[client]
	if !ok {
		return "", fmt.Errorf("backups: %s has no aws block", client)
	}
	return b.s3.Versioning(ctx, acct, bucket)
}

// newBackupsCheck is "backups and recovery" for the clients with an aws
// block, reached as the server monitor reaches them.
func newBackupsCheck(cfg *config.Config, base aws.Config, log *slog.Logger) jobs.BackupsCheck {
	src := backupSource{mon: awsmon.New(base, &http.Client{Timeout: 30 * time.Second}, log.With("component", "awsmon")),
		s3: s3.New(base, &http.Client{Timeout: 30 * time.Second}, log.With("component", "s3")), accounts: map[string]awsapi.Config{}}
	chk := jobs.BackupsCheck{Source: src, Databases: map[string][]string{}, Buckets: map[string][]string{}}
	endpoint := cfg.Integrations.AWS.EndpointURL
	for key, cl := range cfg.Clients {
		if a := cl.AWS; a != nil {
			src.accounts[key] = awsapi.Config{Region: firstOr(a.Regions, cfg.Integrations.AWS.Region), RoleARN: a.RoleARN,
				ExternalID: a.ExternalID, EndpointURL: endpoint, STSEndpointURL: endpoint}
		}
		chk.Databases[key], chk.Buckets[key] = cl.Launch.Databases, cl.Launch.Buckets
	}
	return chk
}
