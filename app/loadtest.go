package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations/loaderio"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// newLoadtestCheck is "load test passed" through loader.io: nil without
// LOADERIO_API_KEY (the item then says loader.io is not configured).
func newLoadtestCheck(cfg *config.Config, st *store.Store, log *slog.Logger) jobs.LoadtestCheck {
	chk := jobs.LoadtestCheck{Tests: map[string]jobs.LoadSpec{}, Locks: st, Runs: st, Poll: cfg.Checklists.LoadtestPoll.Std()}
	for key, cl := range cfg.Clients {
		lt := cl.Launch.Loadtest
		if lt == nil {
			continue
		}
		chk.Tests[key] = jobs.LoadSpec{Name: key + " launch", URL: lt.URL, Token: lt.Token, Total: lt.Total,
			ClientsPerSecond: lt.ClientsPerSecond, Duration: lt.Duration, MaxAvgMS: float64(lt.MaxAvgMS), MaxErrorRate: lt.MaxErrorRate}
	}
	if key := cfg.Secrets.LoaderIOKey.Reveal(); key != "" {
		chk.Tester = loadTester{loaderio.New(loaderio.Config{APIURL: cfg.Integrations.LoaderIO.APIURL, APIKey: key},
			&http.Client{Timeout: 30 * time.Second}, log.With("component", "loaderio"))}
	}
	return chk
}

// loadTester adapts the loader.io client to what the check consumes.
type loadTester struct{ c *loaderio.Client }

func (l loadTester) VerifyFile(ctx context.Context, target, token string) error {
	return l.c.VerifyFile(ctx, target, token)
}

func (l loadTester) StartLoadTest(ctx context.Context, s jobs.LoadSpec) (string, string, error) {
	return l.c.Create(ctx, loaderio.Test{Name: s.Name, URL: s.URL, Total: s.Total, ClientsPerSecond: s.ClientsPerSecond, Duration: s.Duration})
}

func (l loadTester) LoadResult(ctx context.Context, testID, resultID string) (jobs.LoadResult, error) {
	r, err := l.c.Result(ctx, testID, resultID)
	if err != nil {
		return jobs.LoadResult{}, err
	}
	return jobs.LoadResult{Ready: r.Ready(), ReportURL: r.PublicResultsURL, Success: r.Success, Errors: r.Error + r.NetworkError + r.TimeoutError,
		AvgMS: r.AvgResponseTime, ErrorRate: r.AvgErrorRate}, nil
}
