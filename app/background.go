package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations/pagerduty"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/metrics"
	"github.com/383project/opsbot/store"
	"golang.org/x/sync/errgroup"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// background is the work opsbot does on its own: the outbox worker (on every
// replica: leases keep each delivery with one worker), the scheduler (each
// fire runs once across replicas) and the alerter the monitors report to.
type background struct {
	outbox  *jobs.Outbox
	sched   *jobs.Scheduler
	alerter *jobs.Alerter
	pager   *pagerduty.Client // nil without PAGERDUTY_TOKEN and routing keys
	uptime  *uptimeMonitor
	changes *changeWiring
	aws     *awsMonitors
	scans   *scanWiring
	shield  *shieldCheck
	train   *trainingCheck
	launch  *launchWiring
	cfg     *config.Config
	st      *store.Store
	log     *slog.Logger
	// onChange are told when an alert, a request or a security record
	// changed (App Home);
	// set before start.
	onChange []func()
}

// world is what a run reaches besides Slack and Redis, and how. By default
// the real one: AWS through the SDK's default configuration read with the
// run's environment, the outbox's default workers. The demo (demo.go)
// points it at its fakes.
type world struct {
	getenv func(string) string // the run's environment (its AWS_* settings)
	aws    *aws.Config         // nil: awsConfig(getenv), the credential chain
	// outboxWorkers is deliveries in flight per lane; 0 is the default. The
	// console takes 1, so what one command caused prints in a stable order.
	outboxWorkers int
}

// awsConfig is the default AWS configuration of the run.
func (w world) awsConfig() (aws.Config, error) {
	if w.aws != nil {
		return *w.aws, nil
	}
	getenv := w.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c, err := awsConfig(context.Background(), getenv)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return c, nil
}

// newBackground builds the background machinery around poster (Slack or console).
func newBackground(cfg *config.Config, st *store.Store, poster chat.Poster, w world, log *slog.Logger) (*background, error) {
	bg := &background{cfg: cfg, st: st, log: log}
	hc := &http.Client{Timeout: 20 * time.Second}
	pdCfg := pagerduty.Config{APIURL: cfg.Integrations.PagerDuty.APIURL, EventsURL: cfg.Integrations.PagerDuty.EventsURL,
		Token: cfg.Secrets.PagerDutyToken.Reveal()}
	routing := func(ref string) (string, bool) {
		key, ok := cfg.RoutingKey(ref)
		return key.Reveal(), ok
	}
	var pager jobs.Pager
	if _, def := cfg.RoutingKey(""); def || cfg.Secrets.PagerDutyToken != "" || len(cfg.Secrets.RoutingKeys) > 0 {
		bg.pager = pagerduty.New(pdCfg, hc, log.With("component", "pagerduty"))
		pager = bg.pager
	}
	awsBase, err := w.awsConfig()
	if err != nil {
		return nil, err
	}
	cw, err := newChangeWiring(cfg, awsBase, log)
	if err != nil {
		return nil, err
	}
	bg.changes = cw
	obo := jobs.OutboxOptions{Logger: log.With("component", "outbox"), RoutingKey: routing, Kept: st, Workers: w.outboxWorkers}
	cw.outboxOptions(&obo, st)
	obo.Checklists = st
	bg.outbox = jobs.NewOutbox(st, poster, pager, obo)
	bg.sched = jobs.NewScheduler(st, st, jobs.Options{Location: cfg.Location, Logger: log.With("component", "scheduler"), FireLog: st})
	bg.alerter = jobs.NewAlerter(st, bg.changed).GroupWithin(cfg.Alerts.GroupWindowOrDefault())
	um, err := newUptimeMonitor(cfg, st, bg, log)
	if err != nil {
		return nil, err
	}
	bg.uptime = um
	if err := addAlertTimers(cfg, st, bg, log); err != nil {
		return nil, err
	}
	if bg.aws, err = newAWSMonitors(cfg, awsBase, st, bg, log); err != nil {
		return nil, err
	}
	if bg.scans, err = newScanWiring(cfg, st, bg, log); err != nil {
		return nil, err
	}
	if bg.shield, err = newShieldCheck(cfg, awsBase, st, bg, log); err != nil {
		return nil, err
	}
	if bg.train, err = newTrainingCheck(cfg, st, poster, bg, log); err != nil {
		return nil, err
	}
	if bg.launch, err = newLaunch(cfg, awsBase, st, bg, log); err != nil {
		return nil, err
	}
	return bg, nil
}

// changed wakes the outbox (something was queued) and tells whoever shows
// alerts and requests (App Home) that they changed. The scans, Shield,
// training and waiver-expiry jobs nudge through it too: Home counts their
// findings, gaps, overdue people and blocked launches.
func (bg *background) changed() {
	bg.outbox.Nudge()
	for _, f := range bg.onChange {
		f()
	}
}

// wire hands the command router what it needs of the background.
func (bg *background) wire(d *commands.Deps) {
	d.Alerts = bg.alerter
	d.Sites, d.SLATargets = bg.st, slaTargets(bg.cfg)
	d.Schedules = bg.cfg.Integrations.PagerDuty.Schedules
	bg.changes.wire(d, bg.st)
	d.Nudge = bg.changed
	bg.aws.wire(d)
	bg.scans.wire(d)
	bg.shield.wire(d)
	bg.train.wire(d)
	bg.launch.wire(d, bg)
	if bg.pager != nil && bg.cfg.Secrets.PagerDutyToken != "" {
		d.OnCall = bg.pager
		if d.Emails != nil {
			d.Incidents = bg.pager // acting as a person needs their email
		}
	}
}

// instrument exports the background's state to Prometheus, read at scrape
// time: the outbox backlog and dead letters, and the probe engine's counters.
func (bg *background) instrument(m *metrics.Metrics) {
	backlog := func(dead bool) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			queues, deadLetters, err := bg.st.OutboxBacklog(ctx)
			if err != nil {
				return -1 // Redis did not answer; /readyz says so too
			}
			if dead {
				return float64(deadLetters)
			}
			return float64(queues)
		}
	}
	m.GaugeFunc("opsbot_outbox_queues", "Outbox queues with undelivered Slack posts or PagerDuty events (-1: Redis unavailable).", backlog(false))
	m.GaugeFunc("opsbot_outbox_dead_letters", "Deliveries given up on (kept for inspection, capped at 1000; -1: Redis unavailable).", backlog(true))
	if e := bg.uptime.engine; e != nil {
		m.CounterFunc("opsbot_probe_checks_total", "Own HTTP probe checks run on this replica.", func() float64 { return float64(e.Stats().Checks) })
		m.CounterFunc("opsbot_probe_late_total", "Probe checks started more than 1 s after they were due.", func() float64 { return float64(e.Stats().Late) })
		m.CounterFunc("opsbot_probe_skipped_total", "Probe slots skipped because the engine was behind or the previous check was still running.", func() float64 { return float64(e.Stats().Skipped) })
		m.GaugeFunc("opsbot_probe_jitter_p99_seconds", "p99 of probe start minus due time over recent checks.", func() float64 { return e.Stats().JitterP99.Seconds() })
	}
}

// start runs the outbox worker and the scheduler until ctx ends.
func (bg *background) start(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error { return bg.outbox.Run(ctx) })
	g.Go(func() error { return bg.sched.Run(ctx) })
	bg.uptime.start(ctx, g, bg.log)
}
