package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/shield"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// shieldCheck is the daily Shield coverage check of every client with an
// aws block, and what /ops shield reads.
type shieldCheck struct {
	job    *jobs.Shield // nil: no client has an aws block
	levels map[string]string
	st     *store.Store
}

// newShieldCheck builds the check from the clients' aws blocks and
// registers it on shield.schedule. Accounts are reached as the server
// monitor reaches them: the client's role_arn (+ external_id) assumed with
// opsbot's credentials.
func newShieldCheck(cfg *config.Config, base aws.Config, st *store.Store, bg *background, log *slog.Logger) (*shieldCheck, error) {
	s := &shieldCheck{levels: map[string]string{}, st: st}
	endpoint := cfg.Integrations.AWS.EndpointURL
	accounts := map[string]awsapi.Config{}
	var clients []jobs.ShieldClient
	for _, key := range cfg.ClientKeys() {
		cl := cfg.Clients[key]
		a := cl.AWS
		if a == nil {
			continue
		}
		level := cl.ShieldLevel()
		s.levels[key] = level
		scope := integrations.ServerScope{Regions: a.Regions, InstanceIDs: a.Instances}
		if a.ResourceTag != nil {
			scope.TagKey, scope.TagValue = a.ResourceTag.Key, a.ResourceTag.Value
		}
		sc := jobs.ShieldClient{Key: key, Name: cl.Name, Scope: scope, Advanced: level == config.ShieldAdvanced, PagerRef: cfg.PagerRef(key)}
		clients = append(clients, sc)
		accounts[key] = awsapi.Config{Region: firstOr(a.Regions, cfg.Integrations.AWS.Region), RoleARN: a.RoleARN,
			ExternalID: a.ExternalID, EndpointURL: endpoint, STSEndpointURL: endpoint}
	}
	if len(clients) == 0 {
		return s, nil
	}
	src := &shieldSource{c: shield.New(base, &http.Client{Timeout: 60 * time.Second}, log.With("component", "shield")), accounts: accounts}
	s.job = jobs.NewShield(clients, src, st, jobs.ShieldOptions{Channel: cfg.Channels.Security, Nudge: bg.changed,
		Logger: log.With("component", "shield")})
	if err := bg.sched.Add(cfg.Shield.Schedule, s.job); err != nil {
		return nil, fmt.Errorf("shield.schedule %q: %w", cfg.Shield.Schedule, err)
	}
	return s, nil
}

// wire hands /ops shield the last checks and the way to check now.
func (s *shieldCheck) wire(d *commands.Deps) {
	if s.job == nil {
		return
	}
	d.Shield, d.ShieldRefresh, d.ShieldLevels = s.st, s.job, s.levels
}

// shieldSource reads one client's coverage in its own account.
type shieldSource struct {
	c        *shield.Client
	accounts map[string]awsapi.Config
}

func (s *shieldSource) Coverage(ctx context.Context, client string, scope integrations.ServerScope, advanced bool) (integrations.ShieldReport, error) {
	acct, ok := s.accounts[client]
	if !ok {
		return integrations.ShieldReport{}, fmt.Errorf("shield: no AWS account configured for %s", client)
	}
	return s.c.Coverage(ctx, acct, scope, advanced)
}
