package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// CostSource fetches one client's costs from Cost Explorer
// (integrations/awscost's *Client satisfies it).
type CostSource interface {
	Report(ctx context.Context, scope integrations.CostScope, now time.Time) (integrations.CostReport, error)
}

// CostStore is the cost cache and the once-only announcements (*store.Store).
type CostStore interface {
	SaveCostSnapshot(ctx context.Context, client string, snap store.CostSnapshot) error
	MarkCostFailure(ctx context.Context, client string, f store.CostFailure) error
	CostRecords(ctx context.Context, clients ...string) (map[string]store.CostRecord, error)
	EnqueueOnce(ctx context.Context, marker string, ttl time.Duration, now time.Time, items ...store.OutboxItem) (bool, error)
	EnqueueAtLevel(ctx context.Context, marker string, level int, ttl time.Duration, now time.Time, items ...store.OutboxItem) (bool, error)
}

// CostClient is one client whose AWS costs are watched.
type CostClient struct {
	Key   string // config key, e.g. "acme"
	Name  string // display name; default Key
	Scope integrations.CostScope
	Quote float64 // monthly hosting quote in the cost currency; 0: none (no quote alerts)
}

// CostOptions configure the cost jobs; zero values take the defaults of
// config.Cost (factor 1.5, minimum 10, step 10 %).
type CostOptions struct {
	SupportChannel string // anomalies and access problems
	FinanceChannel string // anomalies, forecast over quote, the weekly report
	// AnomalyFactor and AnomalyMinimum: yesterday is an anomaly when above
	// AnomalyFactor × the trailing 14-day average and above it by at least
	// AnomalyMinimum (money).
	AnomalyFactor  float64
	AnomalyMinimum float64
	QuoteStep      float64        // percent: alert again at each step over the quote
	Location       *time.Location // weekly report's week; nil: UTC
	FetchTimeout   time.Duration  // one client's fetch, SDK retries included; default 60 s
	Now            func() time.Time
	Nudge          func() // wakes the outbox worker after queueing; may be nil
	Logger         *slog.Logger
}

// Cost is the daily cost job: it fetches every client's costs into the
// cache and announces anomalies and forecasts over the quote, each once
// however often it runs (replicas, retries). Refresh serves
// `/ops cost --refresh` through the same fetch-and-store path.
type Cost struct {
	clients []CostClient
	byKey   map[string]CostClient
	src     CostSource
	st      CostStore
	o       CostOptions
	log     *slog.Logger
}

// ErrUnknownCostClient is returned by Refresh for a client without AWS cost scope.
var ErrUnknownCostClient = errors.New("jobs: client has no AWS cost scope configured")

// NewCost builds the daily cost job for clients.
func NewCost(clients []CostClient, src CostSource, st CostStore, o CostOptions) *Cost {
	o.AnomalyFactor = cmp.Or(o.AnomalyFactor, 1.5)
	o.AnomalyMinimum = cmp.Or(o.AnomalyMinimum, 10)
	o.QuoteStep = cmp.Or(o.QuoteStep, 10)
	o.FetchTimeout = cmp.Or(o.FetchTimeout, time.Minute)
	o.Location = cmp.Or(o.Location, time.UTC)
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	c := &Cost{src: src, st: st, o: o, byKey: map[string]CostClient{}, log: o.Logger.With("job", "cost")}
	for _, cl := range clients {
		cl.Name = cmp.Or(cl.Name, cl.Key)
		c.clients = append(c.clients, cl)
		c.byKey[cl.Key] = cl
	}
	return c
}

// Name implements Job.
func (c *Cost) Name() string { return "cost" }

// CatchUpWindow implements CatchUp: a refresh missed today still runs.
func (c *Cost) CatchUpWindow() time.Duration { return 23 * time.Hour }

// Run fetches and checks every client; one client's failure does not stop
// the others. It returns the first error.
func (c *Cost) Run(ctx context.Context) error {
	var firstErr error
	for _, cl := range c.clients {
		now := c.o.Now()
		rec, err := c.fetch(ctx, cl, now)
		if err == nil {
			err = c.check(ctx, cl, rec.Snapshot, now)
		} else if rec.Failure != nil && rec.Failure.Kind == store.CostAccessDenied {
			if qerr := c.announceDenied(ctx, cl, *rec.Failure, now); qerr != nil {
				c.log.Warn("cost: could not queue the access-denied notice", "client", cl.Key, "err", qerr)
			}
		}
		if err != nil {
			c.log.Warn("cost check failed", "client", cl.Key, "err", err)
			firstErr = cmp.Or(firstErr, err)
		}
	}
	return firstErr
}

// Refresh fetches one client's costs now and stores them, as the daily run
// does (without its alerts). It returns the client's record as cached after
// the attempt: on a failed fetch err is non-nil, the record's Failure says
// why (store.CostThrottled, CostAccessDenied with the IAM action,
// CostFailed) and the last good snapshot is kept. An unknown client gives
// ErrUnknownCostClient.
func (c *Cost) Refresh(ctx context.Context, client string) (store.CostRecord, error) {
	cl, ok := c.byKey[client]
	if !ok {
		return store.CostRecord{}, fmt.Errorf("cost refresh %q: %w", client, ErrUnknownCostClient)
	}
	return c.fetch(ctx, cl, c.o.Now())
}

// fetch is the one fetch-and-store path of the job and of Refresh.
func (c *Cost) fetch(ctx context.Context, cl CostClient, now time.Time) (store.CostRecord, error) {
	fctx, cancel := context.WithTimeout(ctx, c.o.FetchTimeout)
	rep, err := c.src.Report(fctx, cl.Scope, now)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return store.CostRecord{}, fmt.Errorf("cost %s: %w", cl.Key, err)
		}
		f := costFailure(err, now)
		if merr := c.st.MarkCostFailure(ctx, cl.Key, f); merr != nil {
			c.log.Warn("cost: could not record the failure", "client", cl.Key, "err", merr)
		}
		recs, rerr := c.st.CostRecords(ctx, cl.Key)
		rec := recs[cl.Key]
		if rerr != nil {
			c.log.Warn("cost: could not read the cache", "client", cl.Key, "err", rerr)
		}
		rec.Failure = &f
		return rec, fmt.Errorf("cost %s: %w", cl.Key, err)
	}
	snap := snapshot(rep)
	if err := c.st.SaveCostSnapshot(ctx, cl.Key, snap); err != nil {
		return store.CostRecord{Snapshot: snap, HasSnapshot: true}, err
	}
	return store.CostRecord{Snapshot: snap, HasSnapshot: true}, nil
}

// costFailure classifies a fetch error: throttling (retried by the SDK
// already), access denied (naming the IAM action), or anything else.
func costFailure(err error, now time.Time) store.CostFailure {
	f := store.CostFailure{Kind: store.CostFailed, Message: err.Error(), At: now}
	var re *integrations.RetryableError
	switch {
	case errors.Is(err, integrations.ErrUnauthorized):
		f.Kind = store.CostAccessDenied
		action, _ := integrations.MissingPermission(err)
		f.Action = cmp.Or(action, "ce:GetCostAndUsage")
	case errors.As(err, &re) && re.StatusCode < 500 && re.StatusCode != 0:
		f.Kind = store.CostThrottled
	}
	return f
}

// snapshot copies a report into the store's record.
func snapshot(r integrations.CostReport) store.CostSnapshot {
	s := store.CostSnapshot{Currency: r.Currency, FetchedAt: r.FetchedAt, Month: r.Month,
		MonthToDate: r.MonthToDate, LastMonth: r.LastMonth, Forecast: r.Forecast, HasForecast: r.HasForecast}
	for _, d := range r.Days {
		s.Days = append(s.Days, store.CostDay{Day: d.Day, Amount: d.Amount})
	}
	for _, d := range r.PrevDays {
		s.PrevDays = append(s.PrevDays, store.CostDay{Day: d.Day, Amount: d.Amount})
	}
	for _, sv := range r.Services {
		s.Services = append(s.Services, store.CostService{Service: sv.Service, Amount: sv.Amount})
	}
	return s
}
