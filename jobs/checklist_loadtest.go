package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// LoadTester runs load tests (integrations/loaderio through an adapter).
type LoadTester interface {
	// VerifyFile checks the target still serves its verification token.
	VerifyFile(ctx context.Context, target, token string) error
	StartLoadTest(ctx context.Context, s LoadSpec) (testID, resultID string, err error)
	LoadResult(ctx context.Context, testID, resultID string) (LoadResult, error)
}

// LoadSpec is one client's load test and its pass criteria.
type LoadSpec struct {
	Name             string
	URL              string
	Token            string // the target's loaderio-<hex> verification token
	Total            int    // clients over the whole test (per-test) ...
	ClientsPerSecond int    // ... or per second (per-second)
	Duration         int    // seconds
	MaxAvgMS         float64
	MaxErrorRate     float64 // percent, as loader.io reports avg_error_rate
}

// LoadResult is a run as loader.io reports it.
type LoadResult struct {
	Ready           bool
	ReportURL       string
	Success, Errors int64 // Errors: HTTP and network errors
	AvgMS           float64
	ErrorRate       float64 // percent
}

// Claimer runs work under an account-wide lock, renewed while work runs,
// with a note on who holds it (*store.Store).
type Claimer interface {
	Claim(ctx context.Context, name string, ttl time.Duration, note string, work func(ctx context.Context) error) (held bool, holder string, err error)
}

// LoadRuns keeps the test running on the account, so a check carried on
// by another replica reads it rather than starting another (*store.Store).
type LoadRuns interface {
	SaveLoadRun(ctx context.Context, r store.LoadRun, ttl time.Duration) error
	CurrentLoadRun(ctx context.Context) (store.LoadRun, bool, error)
	ClearLoadRun(ctx context.Context) error
}

// LoadtestCheck is "load test passed": one loader.io run at a time per
// account, after checking the verification file; the run's public report
// is attached.
type LoadtestCheck struct {
	Tester LoadTester // nil: LOADERIO_API_KEY not set
	Tests  map[string]LoadSpec
	Locks  Claimer
	Runs   LoadRuns      // nil: a check carried on after a death starts a new test
	Poll   time.Duration // between result reads; default 5s
	// LockTTL is how long the account's lock outlives a replica that died
	// running a test; it is renewed while the test runs. Default 8s:
	// it lapses before a checklist run's lease (15s, renewed every 5s: at
	// least 10s after its holder died), so the replica that takes
	// the run up finds loader.io free.
	LockTTL time.Duration
	Now     func() time.Time
}

// Check runs the client's load test without progress reports.
func (l LoadtestCheck) Check(ctx context.Context, client string) store.CheckResult {
	return l.CheckProgress(ctx, client, nil)
}

// CheckProgress runs the client's load test, telling progress (may be nil)
// how it goes.
func (l LoadtestCheck) CheckProgress(ctx context.Context, client string, progress func(string)) store.CheckResult {
	spec, ok := l.Tests[client]
	switch {
	case !ok:
		return failing("no load test is configured for %s (launch.loadtest)", client)
	case l.Tester == nil:
		return failing("loader.io is not configured (LOADERIO_API_KEY)")
	}
	if progress == nil {
		progress = func(string) {}
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	note := fmt.Sprintf("the load test of %s (%s) started %s", client, spec.URL, now().UTC().Format("15:04 MST"))
	ttl := l.LockTTL
	if ttl <= 0 {
		ttl = 8 * time.Second
	}
	var out store.CheckResult
	held, holder, err := l.Locks.Claim(ctx, "loaderio", ttl, note, func(ctx context.Context) error {
		out = l.run(ctx, client, spec, progress, now)
		return nil
	})
	switch {
	case err != nil:
		return failing("the loader.io lock could not be taken: %v", err)
	case !held:
		return failing("loader.io runs one test at a time and is busy with %s: press Re-verify when it ends", cmpOr(holder, "another test"))
	}
	return out
}

// run checks the verification file, starts the test and polls its result,
// under the account's lock (ctx ends when the lock is lost). A test of the
// client that a replica now gone started is read instead.
func (l LoadtestCheck) run(ctx context.Context, client string, spec LoadSpec, progress func(string), now func() time.Time) store.CheckResult {
	var testID, resultID string
	if l.Runs != nil {
		if r, ok, err := l.Runs.CurrentLoadRun(ctx); err == nil && ok && r.Client == client {
			testID, resultID = r.TestID, r.ResultID
			progress("load test: reading the test started " + r.Started.UTC().Format("15:04 MST") + " by a replica that stopped")
		}
	}
	if testID == "" {
		progress("load test: checking the verification file")
		if err := l.Tester.VerifyFile(ctx, spec.URL, spec.Token); err != nil {
			return failing("%v; no test was started", err)
		}
		var err error
		if testID, resultID, err = l.Tester.StartLoadTest(ctx, spec); err != nil {
			return failing("loader.io refused the test: %v", err)
		}
		if l.Runs != nil {
			// Kept even when ctx ended just now (a shutdown, the lock lost):
			// that is when the replica carrying the check on needs it. Not
			// kept (Redis down), that one starts another test.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = l.Runs.SaveLoadRun(sctx, store.LoadRun{Client: client, TestID: testID, ResultID: resultID, Started: now()},
				time.Duration(spec.Duration)*time.Second+10*time.Minute)
			cancel()
		}
	}
	poll := l.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	started := now()
	for {
		res, err := l.Tester.LoadResult(ctx, testID, resultID)
		if err == nil && res.Ready {
			if l.Runs != nil {
				_ = l.Runs.ClearLoadRun(context.WithoutCancel(ctx))
			}
			return judge(spec, res)
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			progress("load test: reading the result failed, retrying: " + err.Error())
		} else {
			progress(fmt.Sprintf("load test running: %s of about %ds", now().Sub(started).Round(time.Second), spec.Duration))
		}
		wait := poll
		if re := (*integrations.RetryableError)(nil); errors.As(err, &re) && re.RetryAfter > wait {
			wait = re.RetryAfter // a 429: as long as loader.io asked
		}
		select {
		case <-ctx.Done():
			if l.Runs != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// Given up by a live replica (its budget over): the next
				// Re-verify must start its own test, not read this one's.
				// Cancelled (a shutdown, the lock lost), the run is kept for
				// the replica that carries the check on.
				_ = l.Runs.ClearLoadRun(context.WithoutCancel(ctx))
			}
			return failing("the load test did not finish in time (loader.io test %s)", testID)
		case <-time.After(wait):
		}
	}
}

// judge applies the pass criteria to a finished run.
func judge(spec LoadSpec, res LoadResult) store.CheckResult {
	words := fmt.Sprintf("%d requests, %d errors, error rate %.2f %% (max %.2f %%), average %.0f ms (max %.0f ms)",
		res.Success+res.Errors, res.Errors, res.ErrorRate, spec.MaxErrorRate, res.AvgMS, spec.MaxAvgMS)
	out := store.CheckResult{State: store.ItemVerified, Detail: words, URL: res.ReportURL}
	if res.ErrorRate > spec.MaxErrorRate || (spec.MaxAvgMS > 0 && res.AvgMS > spec.MaxAvgMS) {
		out.State, out.Detail = store.ItemFailing, "failed: "+words
	}
	return out
}
