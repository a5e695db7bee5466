package jobs_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// BenchmarkHealthyCheckRecording is what recording a healthy check whose
// state did not change costs in Redis: every site was checked up once
// before the timer starts, then b.N more healthy results are observed
// round-robin over 1,000 sites on an injected clock (10 s apart per site),
// against a real redis-server. redis-cmds/check is the delta of INFO
// commandstats (commands run inside scripts included) over the checks,
// the write-behind of unchanged checks running as in the program and
// flushed at the end; redis-cpu-µs/check is redis-server's
// used_cpu_user+sys over the same span, cpu-µs/check this process's.
//
//	go test -run '^$' -bench HealthyCheckRecording -benchtime 20000x ./jobs/
func BenchmarkHealthyCheckRecording(b *testing.B) {
	const sites = 1000
	srv := redistest.Start(b)
	st := store.New(srv.Client(b), "opsbot:")
	ss := make([]jobs.UptimeSite, sites)
	for i := range ss {
		ss[i] = uptimeSite(fmt.Sprintf("uptime/acme/site-%d", i), fmt.Sprintf("site-%d", i), "")
	}
	u := jobs.NewUptime(ss, jobs.NewAlerter(st, nil), st, nil, nil)
	ctx := context.Background()
	if err := u.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	observe := func(n int) {
		site := ss[n%sites]
		at := t0.Add(time.Duration(n/sites) * 10 * time.Second)
		res := integrations.CheckResult{ID: site.Key, Source: "probe", State: integrations.StateUp, CheckedAt: at, ResponseTime: 3 * time.Millisecond}
		u.OnProbe(site.Key, res, at) // as the probe engine delivers it
	}
	for i := range sites {
		observe(i) // the change to up
	}
	flush := func() {
		if f, ok := any(u).(interface{ Flush(context.Context) error }); ok {
			if err := f.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	flush()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- u.WriteBehind(wctx) }() // as app runs it beside the probe engine
	defer func() { stop(); <-done }()
	if _, err := srv.Do("config", "resetstat"); err != nil {
		b.Fatal(err)
	}
	rcpu0 := redisCPU(b, srv)
	cpu0 := cpuTime()
	b.ResetTimer()
	for n := range b.N {
		observe(sites + n)
		if n%100 == 99 {
			flush() // a flush carries each site's check once, as at 10 s intervals (100 checks/s, one flush a second)
		}
	}
	flush()
	b.StopTimer()
	cpu := cpuTime() - cpu0
	rcpu := redisCPU(b, srv) - rcpu0
	cmds := redisCalls(b, srv)
	b.ReportMetric(float64(cmds)/float64(b.N), "redis-cmds/check")
	b.ReportMetric(float64(rcpu.Microseconds())/float64(b.N), "redis-cpu-µs/check")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/check")
}

// redisCalls is the number of commands the server ran since CONFIG
// RESETSTAT (INFO commandstats), the INFO calls themselves and the
// handshake of new connections (HELLO, CLIENT SETINFO) left out.
func redisCalls(tb testing.TB, srv *redistest.Server) int64 {
	tb.Helper()
	v, err := srv.Do("info", "commandstats")
	if err != nil {
		tb.Fatal(err)
	}
	var total int64
	for line := range strings.Lines(fmt.Sprint(v)) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		switch name {
		case "cmdstat_info", "cmdstat_config|resetstat", "cmdstat_hello", "cmdstat_client|setinfo":
			continue
		}
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		c, _ := strconv.ParseInt(n, 10, 64)
		total += c
	}
	return total
}

// redisCPU is redis-server's CPU time so far (INFO cpu, user+sys).
func redisCPU(tb testing.TB, srv *redistest.Server) time.Duration {
	tb.Helper()
	v, err := srv.Do("info", "cpu")
	if err != nil {
		tb.Fatal(err)
	}
	var sec float64
	for line := range strings.Lines(fmt.Sprint(v)) {
		for _, f := range []string{"used_cpu_user:", "used_cpu_sys:"} {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), f); ok {
				x, _ := strconv.ParseFloat(rest, 64)
				sec += x
			}
		}
	}
	return time.Duration(sec * float64(time.Second))
}
