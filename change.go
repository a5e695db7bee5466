package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations/github"
	"github.com/383project/opsbot/integrations/route53"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// changeWiring adapts the GitHub, HTTP probe and Route 53 integrations to
// what the change request commands and the outbox consume.
type changeWiring struct {
	issues    *issueSource
	commenter *issueSource // nil without GITHUB_TOKEN: comments need one
	smoke     *smokeRunner
	dns       *dnsCutter
	settings  commands.ChangeSettings
}

func newChangeWiring(cfg *config.Config, awsBase aws.Config, log *slog.Logger) (*changeWiring, error) {
	gh, err := github.New(github.Config{APIURL: cfg.Integrations.GitHub.APIURL, Token: cfg.Secrets.GitHubToken.Reveal()},
		&http.Client{Timeout: 15 * time.Second}, log.With("component", "github"))
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	smoke, err := newSmokeRunner(cfg, log)
	if err != nil {
		return nil, err
	}
	w := &changeWiring{
		issues: &issueSource{gh: gh, rules: github.LinkRules{EnterpriseHosts: cfg.Integrations.GitHub.WebHosts}},
		smoke:  smoke,
	}
	if cfg.Secrets.GitHubToken != "" {
		w.commenter = w.issues
	}
	r53cfg := route53.Config{Region: cfg.Integrations.AWS.Region, EndpointURL: cfg.Integrations.AWS.EndpointURL}
	w.dns = &dnsCutter{r53: route53.NewWithAWSConfig(awsBase, r53cfg, &http.Client{Timeout: 30 * time.Second}, log.With("component", "route53"))}
	s := commands.ChangeSettings{
		Channel: cfg.Changes.Channel, FinanceChannel: cfg.Channels.Finance, Approvers: cfg.Changes.Approvers,
		ClientChannels: map[string]string{}, ClientRepos: map[string][]string{}, NoIssueComment: map[string]bool{},
		Location: cfg.Location,
	}
	if cfg.Changes.ApprovalTTL != nil {
		s.ApprovalTTL = cfg.Changes.ApprovalTTL.Std()
	}
	for key, cl := range cfg.Clients {
		s.ClientChannels[key] = cmp.Or(cl.Channels.General, cl.Channels.Alerts)
		s.ClientRepos[key] = slices.Clone(cl.Repos)
		if cl.GitHubComments != nil && !*cl.GitHubComments {
			s.NoIssueComment[key] = true
		}
	}
	w.settings = s
	return w, nil
}

// outboxOptions lets the outbox keep requests' messages and comment on
// their issues (only with a GitHub token).
func (w *changeWiring) outboxOptions(o *jobs.OutboxOptions, st *store.Store) {
	o.Changes = st
	if w.commenter != nil {
		o.GitHub = w.commenter
	}
}

// wire hands the router its change request collaborators.
func (w *changeWiring) wire(d *commands.Deps, st *store.Store) {
	d.Changes, d.Issues, d.Smoke, d.DNS, d.ChangeSettings = st, w.issues, w.smoke, w.dns, w.settings
}

// issueSource validates links with the strict rules and reads and comments
// on issues through go-github.
type issueSource struct {
	gh    *github.Client
	rules github.LinkRules
}

func (s *issueSource) ParseIssueLink(text string) (commands.IssueLink, error) {
	ref, err := github.ParseIssueLink(text, s.rules)
	if err != nil {
		var le *github.LinkError
		if errors.As(err, &le) {
			return commands.IssueLink{}, errors.New(le.Reason)
		}
		return commands.IssueLink{}, err
	}
	return commands.IssueLink{Ref: ref.String(), Repo: ref.Owner + "/" + ref.Repo, URL: ref.URL()}, nil
}

func (s *issueSource) FetchIssue(ctx context.Context, link commands.IssueLink) (commands.Issue, error) {
	ref, err := github.ParseIssueLink(link.URL, s.rules)
	if err != nil {
		return commands.Issue{}, err
	}
	is, err := s.gh.Issue(ctx, ref)
	if err != nil {
		return commands.Issue{}, err
	}
	return commands.Issue{Title: is.Title, Body: is.Body, State: is.State}, nil
}

// CommentOnIssue comments on the issue at issueURL (a link validated when
// the request was opened; validated again here).
func (s *issueSource) CommentOnIssue(ctx context.Context, issueURL, markdown string) error {
	ref, err := github.ParseIssueLink(issueURL, s.rules)
	if err != nil {
		return fmt.Errorf("github comment: %w", err)
	}
	_, err = s.gh.Comment(ctx, ref, markdown)
	return err
}

// dnsCutter is the Route 53 cut-over: kept records are the JSON of the
// record sets at the plan's name and type, restored exactly.
type dnsCutter struct{ r53 *route53.Client }

// inSyncPoll is how often a change's status is read while waiting for INSYNC.
const inSyncPoll = 2 * time.Second

func (d *dnsCutter) Keep(ctx context.Context, plan store.DNSPlan) ([]byte, error) {
	recs, err := d.r53.Records(ctx, plan.ZoneID, plan.Name, plan.Type)
	if err != nil {
		return nil, err
	}
	if recs == nil {
		recs = []route53.Record{}
	}
	return json.Marshal(recs)
}

func (d *dnsCutter) Apply(ctx context.Context, plan store.DNSPlan, kept []byte, comment string) (string, error) {
	var old []route53.Record
	if err := json.Unmarshal(kept, &old); err != nil {
		return "", fmt.Errorf("kept records: %w", err)
	}
	ttl := int64(300)
	if len(old) > 0 && old[0].TTL > 0 {
		ttl = old[0].TTL
	}
	id, err := d.r53.Upsert(ctx, plan.ZoneID, []route53.Record{{Name: plan.Name, Type: plan.Type, TTL: ttl, Values: plan.NewValues}}, comment)
	if err != nil {
		return "", err
	}
	return id, d.r53.WaitInSync(ctx, id, inSyncPoll)
}

func (d *dnsCutter) Restore(ctx context.Context, plan store.DNSPlan, kept []byte, comment string) error {
	var old []route53.Record
	if err := json.Unmarshal(kept, &old); err != nil {
		return fmt.Errorf("kept records: %w", err)
	}
	cur, err := d.r53.Records(ctx, plan.ZoneID, plan.Name, plan.Type)
	if err != nil {
		return err
	}
	id, err := d.r53.Restore(ctx, plan.ZoneID, old, cur, comment)
	if err != nil {
		return err
	}
	if id == "" {
		return nil // already as kept
	}
	return d.r53.WaitInSync(ctx, id, inSyncPoll)
}
