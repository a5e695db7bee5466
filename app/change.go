package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations"
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
	allow := github.Allowlist{Orgs: cfg.Integrations.GitHub.AllowedOrgs}
	for _, cl := range cfg.Clients {
		allow.Repos = append(allow.Repos, cl.Repos...)
	}
	w := &changeWiring{
		issues: &issueSource{gh: gh, rules: github.LinkRules{EnterpriseHosts: cfg.Integrations.GitHub.WebHosts}, allow: allow,
			log: log.With("component", "github")},
		smoke: smoke,
	}
	if cfg.Secrets.GitHubToken != "" {
		w.commenter = w.issues
	}
	r53cfg := route53.Config{Region: cfg.Integrations.AWS.Region, EndpointURL: cfg.Integrations.AWS.EndpointURL}
	w.dns = &dnsCutter{r53: route53.NewWithAWSConfig(awsBase, r53cfg, &http.Client{Timeout: 30 * time.Second}, log.With("component", "route53"))}
	s := commands.ChangeSettings{
		Channel: cfg.Changes.Channel, FinanceChannel: cfg.Channels.Finance, Approvers: cfg.Changes.Approvers,
		ClientChannels: map[string]string{}, ClientRepos: map[string][]string{}, ClientZones: map[string][]string{},
		AllowedOrgs: slices.Clone(cfg.Integrations.GitHub.AllowedOrgs), IssueComments: map[string]string{},
		Location: cfg.Location,
	}
	if cfg.Changes.ApprovalTTL != nil {
		s.ApprovalTTL = cfg.Changes.ApprovalTTL.Std()
	}
	for key, cl := range cfg.Clients {
		s.ClientChannels[key] = cmp.Or(cl.Channels.General, cl.Channels.Alerts)
		s.ClientRepos[key] = slices.Clone(cl.Repos)
		s.ClientZones[key] = slices.Clone(cl.DNSZones)
		s.IssueComments[key] = string(cl.GitHubComments)
	}
	w.settings = s
	return w, nil
}

// outboxOptions lets the outbox keep requests' messages and their issues'
// status comments (only with a GitHub token).
func (w *changeWiring) outboxOptions(o *jobs.OutboxOptions, st *store.Store) {
	o.Changes = st
	if w.commenter != nil {
		w.commenter.ids = st
		o.GitHub = w.commenter
	}
}

// wire hands the router its change request collaborators, and the nonce
// store that makes every sealed form (change, proposal, approve, reject,
// cancel, waive, role grant ...) single use.
func (w *changeWiring) wire(d *commands.Deps, st *store.Store) {
	d.Changes, d.Issues, d.Smoke, d.DNS, d.ChangeSettings = st, w.issues, w.smoke, w.dns, w.settings
	d.Nonces = st
}

// commentIDs remembers the status comment of each request (*store.Store).
type commentIDs interface {
	IssueCommentID(ctx context.Context, key string) (int64, error)
	SetIssueCommentID(ctx context.Context, key string, id int64) error
}

// issueSource validates links with the strict rules and the allowlist
// (clients' repos and allowed organisations), and reads issues and keeps
// status comments through go-github. Every use checks both again: a link
// stored before the allowlist changed is not read or commented on.
type issueSource struct {
	gh    *github.Client
	rules github.LinkRules
	allow github.Allowlist
	ids   commentIDs
	log   *slog.Logger
}

// ref parses a link and applies the allowlist (no I/O).
func (s *issueSource) ref(text string) (github.IssueRef, error) {
	ref, err := github.ParseIssueLink(text, s.rules)
	if err == nil {
		err = s.allow.Check(ref)
	}
	var le *github.LinkError
	if errors.As(err, &le) {
		return github.IssueRef{}, errors.New(le.Reason)
	}
	return ref, err
}

func (s *issueSource) ParseIssueLink(text string) (commands.IssueLink, error) {
	ref, err := s.ref(text)
	if err != nil {
		return commands.IssueLink{}, err
	}
	return commands.IssueLink{Ref: ref.String(), Repo: strings.ToLower(ref.Owner + "/" + ref.Repo), URL: ref.URL()}, nil
}

func (s *issueSource) FetchIssue(ctx context.Context, link commands.IssueLink) (commands.Issue, error) {
	ref, err := s.ref(link.URL)
	if err != nil {
		return commands.Issue{}, err
	}
	is, err := s.gh.Issue(ctx, ref)
	if err != nil {
		return commands.Issue{}, err
	}
	return commands.Issue{Title: is.Title, Body: is.Body, State: is.State}, nil
}

// StatusComment keeps one comment per key on the issue at issueURL: it
// edits the comment it wrote before (PATCH), or writes one (and remembers
// its ID) the first time, or when someone deleted it on GitHub.
func (s *issueSource) StatusComment(ctx context.Context, issueURL, key, markdown string) error {
	ref, err := s.ref(issueURL)
	if err != nil {
		return fmt.Errorf("github comment: %w", err)
	}
	if s.ids == nil || key == "" {
		_, err = s.gh.Comment(ctx, ref, markdown)
		return err
	}
	id, err := s.ids.IssueCommentID(ctx, key)
	if err != nil {
		return &integrations.RetryableError{Op: "read status comment of " + key, Err: err}
	}
	if id != 0 {
		_, err := s.gh.EditComment(ctx, ref, id, markdown)
		if !errors.Is(err, integrations.ErrNotFound) {
			return err
		}
	}
	cm, err := s.gh.Comment(ctx, ref, markdown)
	if err != nil {
		return err
	}
	if err := s.ids.SetIssueCommentID(context.WithoutCancel(ctx), key, cm.ID); err != nil {
		// Written but not remembered: the next step would write a second
		// comment. Retrying would too; say so in the log instead.
		s.log.Error("github status comment written but its ID not saved", "change_id", key, "comment_id", cm.ID, "err", err)
	}
	return nil
}

// dnsCutter is the Route 53 cut-over: kept records are the JSON of the
// record sets at the plan's name and type, restored exactly. Zone names
// are cached: a hosted zone's name never changes.
type dnsCutter struct {
	r53   *route53.Client
	zones sync.Map // zone ID → name
}

// plainError carries Route 53's refusal in words for people.
type plainError struct {
	msg string
	err error
}

func (e *plainError) Error() string { return e.err.Error() }
func (e *plainError) Unwrap() error { return e.err }
func (e *plainError) Plain() string { return e.msg }

// plain wraps a final Route 53 refusal with its words for people.
func plain(err error) error {
	if msg, ok := route53.Plain(err); ok {
		return &plainError{msg: msg, err: err}
	}
	return err
}

func (d *dnsCutter) ZoneName(ctx context.Context, zoneID string) (string, error) {
	if v, ok := d.zones.Load(zoneID); ok {
		return v.(string), nil
	}
	name, err := d.r53.ZoneName(ctx, zoneID)
	if err != nil {
		return "", plain(err)
	}
	d.zones.Store(zoneID, name)
	return name, nil
}

// inSyncPoll is how often a change's status is read while waiting for INSYNC.
const inSyncPoll = 2 * time.Second

func (d *dnsCutter) Keep(ctx context.Context, plan store.DNSPlan) ([]byte, error) {
	recs, err := d.r53.Records(ctx, plan.ZoneID, plan.Name, plan.Type)
	if err != nil {
		return nil, plain(err)
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
	return id, plain(err)
}

func (d *dnsCutter) Restore(ctx context.Context, plan store.DNSPlan, kept []byte, comment string) (string, error) {
	var old []route53.Record
	if err := json.Unmarshal(kept, &old); err != nil {
		return "", fmt.Errorf("kept records: %w", err)
	}
	cur, err := d.r53.Records(ctx, plan.ZoneID, plan.Name, plan.Type)
	if err != nil {
		return "", plain(err)
	}
	id, err := d.r53.Restore(ctx, plan.ZoneID, old, cur, comment)
	return id, plain(err) // "" with no error: already as kept
}

func (d *dnsCutter) Wait(ctx context.Context, changeID string) error {
	return plain(d.r53.WaitInSync(ctx, changeID, inSyncPoll))
}
