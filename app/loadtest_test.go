package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations/loaderio/loaderiotest"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

const loadToken = "loaderio-0123456789abcdef0123456789abcdef"

// TestLoadtestCheck: the "load test passed" item through the real loader.io
// client against the wire-format fake and a real Redis lock.
func TestLoadtestCheck(t *testing.T) {
	fake := loaderiotest.New(t)
	var serving atomic.Bool
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/"+loadToken+".txt" && serving.Load() {
			_, _ = w.Write([]byte(loadToken))
			return
		}
		if r.URL.Path == "/" {
			_, _ = w.Write([]byte("home"))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(site.Close)
	fake.Verify(strings.TrimPrefix(site.URL, "http://"), loadToken)
	lt := &config.Loadtest{URL: site.URL + "/", Token: loadToken, Total: 250, Duration: 60, MaxAvgMS: 500, MaxErrorRate: 1}
	cfg := &config.Config{Clients: map[string]config.Client{"acme": {Launch: config.ClientLaunch{Loadtest: lt}}, "beta": {Launch: config.ClientLaunch{Loadtest: lt}}},
		Integrations: config.Integrations{LoaderIO: config.Endpoint{APIURL: fake.APIURL()}}}
	cfg.Checklists.LoadtestPoll = config.Duration(20 * time.Millisecond)
	cfg.Secrets.LoaderIOKey = loaderiotest.Key
	st := store.New(redistest.Start(t).Client(t), "opsbot:")
	chk := newLoadtestCheck(cfg, st, slog.New(slog.DiscardHandler))
	ctx := context.Background()

	// The verification file is missing: said in words, and no test made.
	res := chk.Check(ctx, "acme")
	if res.State != store.ItemFailing || !strings.Contains(res.Detail, "verification file missing") || !strings.Contains(res.Detail, "404") || len(fake.Created()) != 0 {
		t.Fatalf("file missing: %+v, %d tests created", res, len(fake.Created()))
	}
	serving.Store(true)

	// A passing run: not_ready twice, then ready; the report is attached.
	var notes []string
	res = chk.CheckProgress(ctx, "acme", func(s string) { notes = append(notes, s) })
	if res.State != store.ItemVerified || !strings.HasPrefix(res.URL, "https://loader.io/reports/") || len(notes) < 3 {
		t.Fatalf("passing run: %+v, progress %q", res, notes)
	}
	if c := fake.Created(); len(c) != 1 || c[0]["test_type"] != "per-test" || c[0]["total"] != float64(250) {
		t.Fatalf("created %+v", c)
	}

	// A failing run: errors over the threshold.
	fake.SetOutcome(loaderiotest.Outcome{Success: 5000, Error: 400, AvgResponseTime: 90, AvgErrorRate: 7.4}, 1)
	if res = chk.Check(ctx, "acme"); res.State != store.ItemFailing || !strings.Contains(res.Detail, "error rate 7.40 %") {
		t.Fatalf("failing run: %+v", res)
	}

	// Two at once on the account: one runs, the other is told who runs what.
	fake.SetOutcome(loaderiotest.Outcome{Success: 6000, AvgResponseTime: 100}, 10)
	var wg sync.WaitGroup
	out := map[string]store.CheckResult{}
	var mu sync.Mutex
	for _, client := range []string{"acme", "beta"} {
		wg.Go(func() {
			r := chk.Check(ctx, client)
			mu.Lock()
			out[client] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	ran, told := 0, 0
	for _, r := range out {
		switch {
		case r.State == store.ItemVerified:
			ran++
		case strings.Contains(r.Detail, "busy with the load test of"):
			told++
		}
	}
	if ran != 1 || told != 1 || len(fake.Created()) != 3 {
		t.Fatalf("simultaneous runs: %+v, %d tests created", out, len(fake.Created()))
	}
}
