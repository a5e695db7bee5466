package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// ServerQuery is the metrics window of one snapshot.
type ServerQuery struct {
	Now      time.Time     // end of the window
	Period   time.Duration // one datapoint per period; 0 = the source's default
	Lookback time.Duration // window length, the spike baseline; 0 = the source's default
}

// ServerSource reads one client's servers. Package main adapts
// integrations/awsmon, which also needs the client's AWS account; errors
// follow awsapi.Classify (throttling is *integrations.RetryableError, a
// missing permission wraps integrations.ErrUnauthorized and names the IAM action).
type ServerSource interface {
	Snapshot(ctx context.Context, client string, scope integrations.ServerScope, q ServerQuery) (integrations.ServerSnapshot, error)
}

// ServerStore is what the server monitor reads and writes; *store.Store satisfies it.
type ServerStore interface {
	Servers(ctx context.Context, client string) (store.ServerRecord, bool, error)
	SaveServers(ctx context.Context, rec store.ServerRecord) error
	SetServersFetchError(ctx context.Context, client, reason string, at time.Time) error
	Thresholds(ctx context.Context, client string) (store.ServerThresholds, error)
	Mutes(ctx context.Context, now time.Time) ([]store.Silence, error) // silences and change windows
	EnqueueOnce(ctx context.Context, marker string, ttl time.Duration, now time.Time, items ...store.OutboxItem) (bool, error)
}

// ServerClient is one client whose servers are watched.
type ServerClient struct {
	Key      string // client key
	Name     string // display name
	Scope    integrations.ServerScope
	Channel  string // the support channel: alerts and unusual activity
	PagerRef string // names the PagerDuty routing (the client key); "" = no paging
	// Thresholds are the configured ones (the client's over
	// servers.thresholds); zero fields take ServersOptions.Defaults.
	// Overrides set with `/ops threshold set` win over both.
	Thresholds   store.ServerThresholds
	StatusChecks bool                  // alert (critical) on failed EC2 status checks
	Severity     integrations.Severity // of CPU and storage alerts; "" = error
	// PageOn lists the unusual activity that also pages (vanished,
	// appeared, type_changed, spike); it is always posted.
	PageOn []string
}

// ServersOptions tune the monitor; zero values get defaults.
type ServersOptions struct {
	Defaults store.ServerThresholds // built-in defaults (config.Default*); required
	Period   time.Duration          // CloudWatch period (config servers.period)
	Lookback time.Duration          // trailing window for the spike baseline; 0 = the source's
	// SpikeFloorCPU (percent) and SpikeFloorNetworkOut (bytes per period):
	// a spike must also reach these, so an idle box going from 0.5 % to 3 %
	// is not one. Defaults 20 and 100 MB.
	SpikeFloorCPU        float64
	SpikeFloorNetworkOut float64
	Concurrency          int           // clients read at once; 4
	ClientTimeout        time.Duration // bounds one client's round (AWS reads, Redis); 2 min
	Now                  func() time.Time
	Logger               *slog.Logger
	Nudge                func() // wakes the outbox worker; may be nil
}

// Servers is the scheduled server monitor: per client a snapshot, stored
// for `/ops servers`, compared with the last one (unusual activity), and
// fed to the one alert state machine (thresholds, status checks).
type Servers struct {
	clients []ServerClient
	src     ServerSource
	st      ServerStore
	al      *Alerter
	o       ServersOptions
}

// NewServers builds the monitor for clients.
func NewServers(clients []ServerClient, src ServerSource, st ServerStore, al *Alerter, o ServersOptions) *Servers {
	o.SpikeFloorCPU, o.SpikeFloorNetworkOut = cmp.Or(o.SpikeFloorCPU, 20), cmp.Or(o.SpikeFloorNetworkOut, 100e6)
	o.Concurrency, o.ClientTimeout = cmp.Or(o.Concurrency, 4), cmp.Or(o.ClientTimeout, 2*time.Minute)
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Servers{clients: clients, src: src, st: st, al: al, o: o}
}

// Name implements Job.
func (s *Servers) Name() string { return "servers" }

// Run checks every client once, a few at a time. A client AWS refuses or
// throttles is handled (noted, announced) and does not fail the run; other
// failures are returned joined.
func (s *Servers) Run(ctx context.Context) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, s.o.Concurrency)
	for _, c := range s.clients {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, s.o.ClientTimeout)
			defer cancel()
			if err := s.check(cctx, c); err != nil {
				s.o.Logger.Warn("server check failed", "client", c.Key, "err", err)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// check runs one client's round: snapshot, unusual activity, store, alerts.
func (s *Servers) check(ctx context.Context, c ServerClient) error {
	now := s.o.Now()
	prev, hadPrev, err := s.st.Servers(ctx, c.Key)
	if err != nil {
		return fmt.Errorf("jobs: servers %s: last snapshot: %w", c.Key, err)
	}
	snap, err := s.src.Snapshot(ctx, c.Key, c.Scope, ServerQuery{Now: now, Period: s.o.Period, Lookback: s.o.Lookback})
	if err != nil {
		return s.fetchFailed(ctx, c, err, now)
	}
	at := snap.TakenAt
	if at.IsZero() {
		at = now
	}
	rec := recordOf(c.Key, snap, at)
	eff, err := s.thresholds(ctx, c)
	if err != nil {
		return err
	}
	// Announce before saving: if saving fails, the next round diffs against
	// the same previous snapshot and the event markers keep it to one post.
	if hadPrev && !prev.TakenAt.IsZero() {
		if err := s.announceInventory(ctx, c, prev, rec, now); err != nil {
			return err
		}
	}
	if err := s.announceSpikes(ctx, c, snap, rec, eff.SpikeFactor, now); err != nil {
		return err
	}
	if err := s.st.SaveServers(ctx, rec); err != nil {
		return fmt.Errorf("jobs: servers %s: save snapshot: %w", c.Key, err)
	}
	return s.observe(ctx, c, prev, rec, snap, eff, at)
}

// thresholds are the client's effective thresholds: override, config, default.
func (s *Servers) thresholds(ctx context.Context, c ServerClient) (store.EffectiveThresholds, error) {
	over, err := s.st.Thresholds(ctx, c.Key)
	if err != nil {
		return store.EffectiveThresholds{}, fmt.Errorf("jobs: servers %s: threshold overrides: %w", c.Key, err)
	}
	return store.ResolveThresholds(s.o.Defaults, c.Thresholds, over), nil
}

// fetchFailed handles a failed snapshot: the old snapshot stays and the
// reason is noted for `/ops servers`. Throttling skips the round quietly;
// a missing IAM permission is announced once per client per day.
func (s *Servers) fetchFailed(ctx context.Context, c ServerClient, err error, now time.Time) error {
	if ctx.Err() != nil {
		return fmt.Errorf("jobs: servers %s: %w", c.Key, err)
	}
	retryable, _ := integrations.IsRetryable(err)
	denied := errors.Is(err, integrations.ErrUnauthorized)
	reason := err.Error()
	switch {
	case denied:
		reason = "AWS denied access: " + deniedAction(err)
	case retryable:
		reason = "AWS is throttling or unavailable: " + err.Error()
	}
	if serr := s.st.SetServersFetchError(ctx, c.Key, truncate(reason, 500), now); serr != nil {
		return fmt.Errorf("jobs: servers %s: note fetch error: %w", c.Key, serr)
	}
	switch {
	case denied:
		s.o.Logger.Warn("aws access denied", "client", c.Key, "err", err)
		return s.announceDenied(ctx, c, err, now)
	case retryable:
		s.o.Logger.Info("aws throttled; round skipped", "client", c.Key, "err", err)
		return nil
	}
	return fmt.Errorf("jobs: servers %s: snapshot: %w", c.Key, err)
}

// recordOf turns a snapshot into the stored record: inventory plus the
// newest point of every metric.
func recordOf(client string, snap integrations.ServerSnapshot, at time.Time) store.ServerRecord {
	rec := store.ServerRecord{Client: client, TakenAt: at}
	latest := map[string]map[string]store.MetricValue{}
	for _, m := range snap.Metrics {
		if p, ok := m.Latest(); ok {
			if latest[m.Resource] == nil {
				latest[m.Resource] = map[string]store.MetricValue{}
			}
			latest[m.Resource][m.Metric] = store.MetricValue{Value: p.Value, At: p.At}
		}
	}
	for _, i := range snap.Instances {
		rec.Resources = append(rec.Resources, store.ServerResource{Kind: store.ResourceInstance, ID: i.ID, Name: i.Name,
			Region: i.Region, Type: i.Type, State: i.State, SystemStatus: i.SystemStatus, InstanceStatus: i.InstanceStatus,
			Metrics: latest[i.ID]})
	}
	for _, d := range snap.Databases {
		rec.Resources = append(rec.Resources, store.ServerResource{Kind: store.ResourceDatabase, ID: d.ID, Region: d.Region,
			Type: d.Class, State: d.Status, Engine: d.Engine, StorageBytes: d.StorageBytes, Metrics: latest[d.ID]})
	}
	return rec
}

// present reports whether a resource exists for the purposes of diffing:
// EC2 lists terminated instances for a while after they are gone.
func present(r store.ServerResource) bool {
	return r.State != "terminated" && r.State != "shutting-down" && r.State != "deleting"
}
