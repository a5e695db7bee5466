package app

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awscost"
	"github.com/383project/opsbot/integrations/awsmon"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// awsMonitors is capability 2 wired from config: the server monitor (every
// servers.interval) and the cost jobs (daily at cost.refresh_at, weekly
// report), and what /ops servers, /ops cost and /ops threshold read.
type awsMonitors struct {
	cost    *jobs.Cost // nil: no client's costs can be selected
	servers *jobs.Servers
	quotes  map[string]float64
	configd map[string]store.ServerThresholds
	st      *store.Store
}

// newAWSMonitors builds the monitors from the clients' aws blocks and
// registers their schedules. base is the default AWS configuration (the
// credential chain); it is resolved lazily, so nothing here reaches AWS.
func newAWSMonitors(cfg *config.Config, base aws.Config, st *store.Store, bg *background, log *slog.Logger) (*awsMonitors, error) {
	m := &awsMonitors{quotes: map[string]float64{}, configd: map[string]store.ServerThresholds{}, st: st}
	hc := &http.Client{Timeout: 60 * time.Second}
	endpoint := cfg.Integrations.AWS.EndpointURL
	var costClients []jobs.CostClient
	var serverClients []jobs.ServerClient
	accounts := map[string]awsapi.Config{}
	for _, key := range cfg.ClientKeys() {
		cl := cfg.Clients[key]
		a := cl.AWS
		if a == nil {
			continue
		}
		if a.SelectsCosts() {
			scope := integrations.CostScope{LinkedAccount: a.AccountID}
			if a.CostTag != nil {
				scope.TagKey, scope.TagValue = a.CostTag.Key, a.CostTag.Value
			}
			costClients = append(costClients, jobs.CostClient{Key: key, Name: cl.Name, Scope: scope, Quote: cl.HostingQuote})
			m.quotes[key] = cl.HostingQuote
		}
		if a.WatchesServers() {
			scope := integrations.ServerScope{Regions: a.Regions, InstanceIDs: a.Instances, DBInstances: a.Databases}
			if a.ResourceTag != nil {
				scope.TagKey, scope.TagValue = a.ResourceTag.Key, a.ResourceTag.Value
			}
			eff := cfg.EffectiveThresholds(key)
			configured := serverThresholds(cl.Thresholds.Or(cfg.Servers.Thresholds))
			m.configd[key] = configured
			serverClients = append(serverClients, jobs.ServerClient{Key: key, Name: cl.Name, Scope: scope,
				Channel: cfg.Channels.Support, PagerRef: cfg.PagerRef(key), Thresholds: configured,
				StatusChecks: eff.StatusChecks == nil || *eff.StatusChecks, Severity: integrations.Severity(cl.Severity),
				PageOn: cfg.UnusualPages(key)})
			accounts[key] = awsapi.Config{Region: firstOr(a.Regions, cfg.Integrations.AWS.Region), RoleARN: a.RoleARN,
				ExternalID: a.ExternalID, EndpointURL: endpoint, STSEndpointURL: endpoint}
		}
	}
	if len(costClients) > 0 {
		src := awscost.New(base, awsapi.Config{EndpointURL: endpoint}, hc, log.With("component", "awscost"))
		m.cost = jobs.NewCost(costClients, src, st, jobs.CostOptions{
			SupportChannel: cfg.Channels.Support, FinanceChannel: cfg.Channels.Finance,
			AnomalyFactor: cfg.Cost.AnomalyFactor, AnomalyMinimum: cfg.Cost.AnomalyMinimum, QuoteStep: cfg.Cost.QuoteStep,
			Location: cfg.Location, Nudge: bg.outbox.Nudge, Logger: log.With("component", "cost"),
		})
		spec, err := dailySpec(cfg.Cost.RefreshAt)
		if err != nil {
			return nil, fmt.Errorf("cost.refresh_at: %w", err)
		}
		if err := bg.sched.Add(spec, m.cost); err != nil {
			return nil, err
		}
		if w := cfg.Cost.WeeklyReport; w.Enabled != nil && *w.Enabled {
			spec, err := weeklySpec(w)
			if err != nil {
				return nil, fmt.Errorf("cost.weekly_report: %w", err)
			}
			if err := bg.sched.Add(spec, m.cost.Weekly()); err != nil {
				return nil, err
			}
		}
	}
	if len(serverClients) > 0 {
		src := &serverSource{mon: awsmon.New(base, hc, log.With("component", "awsmon")), accounts: accounts}
		m.servers = jobs.NewServers(serverClients, src, st, bg.alerter, jobs.ServersOptions{
			Defaults: serverThresholds(config.Thresholds{CPU: config.DefaultCPU, FreeStorageGB: config.DefaultFreeStorageGB,
				Periods: config.DefaultPeriods, SpikeFactor: config.DefaultSpikeFactor}),
			Period: cfg.Servers.Period.Std(), Logger: log.With("component", "servers"), Nudge: bg.outbox.Nudge,
		})
		if err := bg.sched.Add("@every "+cfg.Servers.Interval.Std().String(), m.servers); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

func serverThresholds(t config.Thresholds) store.ServerThresholds {
	return store.ServerThresholds{CPU: t.CPU, FreeStorageGB: t.FreeStorageGB, Periods: t.Periods, SpikeFactor: t.SpikeFactor}
}

// dailySpec is the cron spec of "HH:MM" every day (in the scheduler's zone).
func dailySpec(hhmm string) (string, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return "", fmt.Errorf("%q is not HH:MM", hhmm)
	}
	return fmt.Sprintf("%d %d * * *", t.Minute(), t.Hour()), nil
}

// weeklySpec is the cron spec of the weekly report, in its own time zone.
func weeklySpec(w config.WeeklyReport) (string, error) {
	t, err := time.Parse("15:04", w.Time)
	if err != nil {
		return "", fmt.Errorf("time %q is not HH:MM", w.Time)
	}
	day := strings.ToUpper(w.Day)
	if len(day) < 3 {
		return "", fmt.Errorf("day %q is not a weekday", w.Day)
	}
	spec := fmt.Sprintf("%d %d * * %s", t.Minute(), t.Hour(), day[:3])
	if w.TimeZone != "" {
		spec = "CRON_TZ=" + w.TimeZone + " " + spec
	}
	return spec, nil
}

// wire hands the router what /ops servers, /ops cost and /ops threshold read.
func (m *awsMonitors) wire(d *commands.Deps) {
	d.Thresholds = m.st
	d.ThresholdDefaults = serverThresholds(config.Thresholds{CPU: config.DefaultCPU, FreeStorageGB: config.DefaultFreeStorageGB,
		Periods: config.DefaultPeriods, SpikeFactor: config.DefaultSpikeFactor})
	d.ServerThresholds = m.configd
	if m.servers != nil {
		d.Servers = m.st
	}
	if m.cost != nil {
		d.Costs, d.CostRefresh, d.CostQuotes = m.st, m.cost, m.quotes
		d.CostEstimates = costEstimate{st: m.st}
	}
}

// serverSource reads one client's servers in its own account.
type serverSource struct {
	mon      *awsmon.Client
	accounts map[string]awsapi.Config
}

func (s *serverSource) Snapshot(ctx context.Context, client string, scope integrations.ServerScope, q jobs.ServerQuery) (integrations.ServerSnapshot, error) {
	acct, ok := s.accounts[client]
	if !ok {
		return integrations.ServerSnapshot{}, fmt.Errorf("servers: no AWS account configured for %s", client)
	}
	return s.mon.Snapshot(ctx, acct, scope, awsmon.Query{Now: q.Now, Period: q.Period, Lookback: q.Lookback})
}

// costEstimate is a change proposal's cost basis: the cached Cost
// Explorer forecast of the month (in cents) and when it was fetched.
type costEstimate struct{ st *store.Store }

func (c costEstimate) CurrentMonthly(ctx context.Context, client string) (store.CostMeasure, bool, error) {
	recs, err := c.st.CostRecords(ctx, client)
	if err != nil {
		return store.CostMeasure{}, false, err
	}
	r, ok := recs[client]
	if !ok || !r.HasSnapshot || !r.Snapshot.HasForecast {
		return store.CostMeasure{}, false, nil
	}
	return store.CostMeasure{Monthly: store.Money(math.Round(r.Snapshot.Forecast * 100)), At: r.Snapshot.FetchedAt}, true, nil
}
