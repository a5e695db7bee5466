package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/httpprobe"
	"github.com/383project/opsbot/integrations/statuscake"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"golang.org/x/sync/errgroup"
)

// uptimeMonitor is capability 1 wired from config: own probes on their
// intervals, StatusCake polled on a schedule, and the SLA job.
type uptimeMonitor struct {
	st     *store.Store
	uptime *jobs.Uptime
	engine *jobs.ProbeEngine    // nil when no site is probed by opsbot
	check  jobs.ProbeCheck      // one own probe's check; nil with the engine
	poll   *jobs.StatusCakePoll // nil without StatusCake
	sla    jobs.SLA
}

// newUptimeMonitor builds the monitor and registers its scheduled jobs.
func newUptimeMonitor(cfg *config.Config, st *store.Store, bg *background, log *slog.Logger) (*uptimeMonitor, error) {
	sites, targets := uptimeSites(cfg)
	if len(sites) == 0 {
		return &uptimeMonitor{}, nil
	}
	u := jobs.NewUptime(sites, bg.alerter, st, log.With("component", "uptime"), nil)
	m := &uptimeMonitor{st: st, uptime: u}
	hc := &http.Client{Timeout: 30 * time.Second}
	var periods jobs.StatusCakePeriods
	if cfg.Secrets.StatusCakeToken != "" && slices.ContainsFunc(sites, func(s jobs.UptimeSite) bool { return s.StatusCakeID != "" }) {
		sc := statuscake.New(statuscake.Config{APIURL: cfg.Integrations.StatusCake.APIURL, Token: cfg.Secrets.StatusCakeToken.Reveal()},
			hc, log.With("component", "statuscake"))
		periods = sc
		spec := fmt.Sprintf("@every %s", cfg.Uptime.StatusCakeInterval.Std())
		m.poll = &jobs.StatusCakePoll{U: u, Source: sc, Detail: sc}
		if err := bg.sched.Add(spec, *m.poll); err != nil {
			return nil, err
		}
	}
	m.sla = jobs.SLA{U: u, Store: st, Periods: periods, Location: cfg.Location, Log: log.With("component", "sla")}
	if err := bg.sched.Add("*/5 * * * *", m.sla); err != nil {
		return nil, err
	}
	if len(targets) > 0 {
		prober := httpprobe.New(httpprobe.Config{MaxConcurrency: cfg.Uptime.ProbeConcurrency, AllowPrivate: cfg.Uptime.AllowPrivate},
			nil, log.With("component", "probe"))
		m.check = func(ctx context.Context, key string) integrations.CheckResult { return prober.Check(ctx, targets[key]) }
		m.engine = jobs.NewProbeEngine(m.check, jobs.ProbeEngineOptions{Concurrency: cfg.Uptime.ProbeConcurrency,
			Logger: log.With("component", "probes"), OnResult: u.OnProbe})
		m.engine.SetTargets(u.ProbeTargets())
	}
	return m, nil
}

// start runs the probe engine on one replica at a time (a Redis lease), so
// each site is checked once per interval however many replicas run; another
// replica takes over within the lease time if the leader dies.
func (m *uptimeMonitor) start(ctx context.Context, g *errgroup.Group, log *slog.Logger) {
	if m.uptime != nil {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := m.uptime.Sync(sctx); err != nil {
			log.Warn("configured sites not registered for status", "err", err)
		}
		cancel()
	}
	if m.engine != nil {
		g.Go(func() error { return m.st.Lead(ctx, "probe-engine", 30*time.Second, m.engine.Run) })
	}
}

// checkNow checks the own-probed site under key at once, besides its
// schedule, and records the result like any other (the demo's /demo down).
func (m *uptimeMonitor) checkNow(ctx context.Context, key string) error {
	if m.check == nil {
		return fmt.Errorf("no site is probed by opsbot")
	}
	return m.uptime.Observe(ctx, key, m.check(ctx, key))
}

// uptimeSites maps the config's clients and sites to monitored subjects and
// the own-probe targets by site key.
func uptimeSites(cfg *config.Config) ([]jobs.UptimeSite, map[string]httpprobe.Target) {
	var sites []jobs.UptimeSite
	targets := map[string]httpprobe.Target{}
	for _, client := range cfg.ClientKeys() {
		c := cfg.Clients[client]
		pagerRef := cfg.PagerRef(client)
		for _, s := range c.Sites {
			key := "uptime/" + client + "/" + s.Name
			site := jobs.UptimeSite{Subject: jobs.Subject{Key: key, Monitor: "uptime", Client: client, ClientName: cmp.Or(c.Name, client),
				Name: s.Name, Site: s.Name, URL: s.URL,
				Channel: cmp.Or(c.Channels.Alerts, cfg.Channels.Support), PagerRef: pagerRef,
				Severity:   integrations.Severity(cmp.Or(s.Severity, c.Severity)),
				Thresholds: store.Thresholds{FailAfter: s.FailAfter, RecoverAfter: s.RecoverAfter}},
				Site: s.Name, StatusCakeID: s.StatusCakeID, SLATarget: c.SLATarget}
			if probed(s) {
				site.Interval = s.Probe.Interval.Std()
				targets[key] = httpprobe.Target{ID: key, Name: s.Name, URL: s.URL, Timeout: s.Probe.Timeout.Std(),
					ExpectStatus: s.Probe.ExpectStatus, Keyword: s.Probe.Keyword, Host: s.Probe.Host, Method: s.Probe.Method}
			}
			sites = append(sites, site)
		}
	}
	return sites, targets
}

// probed reports whether opsbot itself probes site s (else StatusCake watches it).
func probed(s config.Site) bool { return s.StatusCakeID == "" && s.Probe != nil }

// probeRule refuses, when the file is loaded (and by `opsbot config check`),
// a probed site's URL that the prober's guard refuses at every check: such
// a site could never be up, so it would page PagerDuty forever. A literal
// private or loopback address needs uptime.allow_private; cloud metadata is
// never probed. (Host names are judged at connect time.)
func probeRule(cfg *config.Config, add func(path, format string, args ...any)) {
	guard := httpprobe.Guard{AllowPrivate: cfg.Uptime.AllowPrivate}
	for _, client := range cfg.ClientKeys() {
		for i, s := range cfg.Clients[client].Sites {
			if !probed(s) || s.URL == "" {
				continue
			}
			path := fmt.Sprintf("clients.%s.sites[%d].url", client, i)
			_, err := httpprobe.ValidateURL(s.URL, guard)
			var addr *httpprobe.BlockedAddrError
			var host *httpprobe.BlockedHostError
			switch {
			case errors.As(err, &host), errors.As(err, &addr) && addr.Kind == httpprobe.KindMetadata:
				add(path, "opsbot never probes cloud metadata (%v); probe the service's own health URL, e.g. https://www.example.com/health", err)
			case errors.As(err, &addr):
				add(path, "opsbot's probe would refuse it at every check: %v. For internal health URLs set uptime.allow_private: true (e.g. http://10.0.0.5:8080/healthz), or watch it with StatusCake", addr)
			}
		}
	}
}

// slaTargets maps client keys to their monthly uptime targets.
func slaTargets(cfg *config.Config) map[string]float64 {
	out := map[string]float64{}
	for k, c := range cfg.Clients {
		out[k] = c.SLATarget
	}
	return out
}
