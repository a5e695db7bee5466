package jobs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/httpprobe"
	"github.com/383project/opsbot/jobs"
)

// The probe benchmarks run a fixed-rate, fixed-duration scenario once,
// whatever b.N is (run them with -benchtime=1x; with the default benchtime
// the first run already exceeds it, so they still run once). Both sides
// check one in-process loopback server answering 200 "ok", so cpu-µs/check
// includes the server's share of each request (the same for both).
//
//	go test -run '^$' -bench 'ProbeEngine|BareBaseline' -benchtime 1x ./jobs/
type probeScenario struct {
	endpoints int
	interval  time.Duration
	duration  time.Duration // one interval and a bit, so the first pass completes
}

var probeScenarios = []probeScenario{
	{1000, 10 * time.Second, 11500 * time.Millisecond},  // 100 checks/s
	{10000, 30 * time.Second, 31500 * time.Millisecond}, // ≈333 checks/s
}

// BenchmarkProbeEngine runs jobs.ProbeEngine with httpprobe (a new
// connection per check, the default) against loopback endpoints.
func BenchmarkProbeEngine(b *testing.B) {
	for _, sc := range probeScenarios {
		b.Run(fmt.Sprintf("endpoints=%d", sc.endpoints), func(b *testing.B) {
			if testing.Short() {
				b.Skip("fixed-duration scenario")
			}
			raiseNoFile(b)
			urls := okServer(b, sc.endpoints)
			p := httpprobe.New(httpprobe.Config{AllowPrivate: true}, nil, nil)
			targets := make(map[string]httpprobe.Target, sc.endpoints)
			ts := make([]jobs.ProbeTarget, sc.endpoints)
			for i, u := range urls {
				key := strconv.Itoa(i)
				targets[key] = httpprobe.Target{ID: key, URL: u}
				ts[i] = jobs.ProbeTarget{Key: key, Interval: sc.interval}
			}
			seen := make([]atomic.Bool, sc.endpoints)
			var firstPass, firstDone, down atomic.Int64
			e := jobs.NewProbeEngine(func(ctx context.Context, key string) integrations.CheckResult {
				return p.Check(ctx, targets[key])
			}, jobs.ProbeEngineOptions{OnResult: func(key string, res integrations.CheckResult, _ time.Time) {
				if res.State != integrations.StateUp {
					down.Add(1)
				}
				i, _ := strconv.Atoi(key)
				if !seen[i].Swap(true) && firstPass.Add(1) == int64(sc.endpoints) {
					firstDone.Store(time.Now().UnixNano())
				}
			}})
			heap0 := heapInuse()
			e.SetTargets(ts)
			engineBytes := float64(heapInuse()-heap0) / float64(sc.endpoints)

			ctx, cancel := context.WithTimeout(b.Context(), sc.duration)
			defer cancel()
			cpu0, start := cpuTime(), time.Now()
			if err := e.Run(ctx); err != nil {
				b.Fatal(err)
			}
			elapsed, cpu := time.Since(start), cpuTime()-cpu0
			st := e.Stats()
			if st.Checks == 0 {
				b.Fatal("no checks ran")
			}
			firstPassS := -1.0 // not every endpoint was checked
			if d := firstDone.Load(); d != 0 {
				firstPassS = time.Unix(0, d).Sub(start).Seconds()
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(st.Checks), "cpu-µs/check")
			b.ReportMetric(float64(st.Checks)/elapsed.Seconds(), "checks/s")
			b.ReportMetric(float64(sc.endpoints)/sc.interval.Seconds(), "expected-checks/s")
			b.ReportMetric(firstPassS, "first-pass-s")
			b.ReportMetric(float64(st.JitterP99)/float64(time.Millisecond), "jitter-p99-ms")
			b.ReportMetric(float64(st.Late), "late")
			b.ReportMetric(float64(down.Load()), "down")
			b.ReportMetric(engineBytes, "engine-B/endpoint")
			b.ReportMetric(rssMB(), "rss-MB")
			runtime.KeepAlive(e)
		})
	}
}

// BenchmarkBareBaseline is the floor: a plain net/http GET loop with a new
// connection per request, paced at the same rate for the same time.
func BenchmarkBareBaseline(b *testing.B) {
	for _, sc := range probeScenarios {
		b.Run(fmt.Sprintf("endpoints=%d", sc.endpoints), func(b *testing.B) {
			if testing.Short() {
				b.Skip("fixed-duration scenario")
			}
			raiseNoFile(b)
			urls := okServer(b, sc.endpoints)
			tr := &http.Transport{DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			period := sc.interval / time.Duration(sc.endpoints)
			jitter := make([]time.Duration, 0, int(sc.duration/period)+1)
			var down int
			cpu0, start := cpuTime(), time.Now()
			end := start.Add(sc.duration)
			for i := 0; ; i++ {
				at := start.Add(time.Duration(i) * period)
				if !at.Before(end) {
					break
				}
				if d := time.Until(at); d > 0 {
					time.Sleep(d)
				}
				jitter = append(jitter, time.Since(at))
				resp, err := hc.Get(urls[i%len(urls)])
				if err != nil {
					down++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					down++
				}
			}
			elapsed, cpu := time.Since(start), cpuTime()-cpu0
			slices.Sort(jitter)
			b.ReportMetric(float64(cpu.Microseconds())/float64(len(jitter)), "cpu-µs/check")
			b.ReportMetric(float64(len(jitter))/elapsed.Seconds(), "checks/s")
			b.ReportMetric(float64(sc.endpoints)/sc.interval.Seconds(), "expected-checks/s")
			b.ReportMetric(float64(jitter[len(jitter)*99/100])/float64(time.Millisecond), "jitter-p99-ms")
			b.ReportMetric(float64(down), "down")
			b.ReportMetric(rssMB(), "rss-MB")
		})
	}
}

// okServer starts a loopback server answering 200 "ok" and returns n
// distinct URLs on it.
func okServer(b *testing.B, n int) []string {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(srv.Close)
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/site/%d", srv.URL, i)
	}
	return urls
}

// raiseNoFile lifts the open-file soft limit to the hard limit: a new
// connection per check keeps many sockets open at once.
func raiseNoFile(b *testing.B) {
	b.Helper()
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		b.Logf("getrlimit: %v", err)
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			b.Logf("setrlimit: %v", err)
		}
	}
}

// cpuTime is the process's user+system CPU time so far (all goroutines,
// the in-process test server included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapInuse is runtime.MemStats.HeapInuse after a forced GC.
func heapInuse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// rssMB is the process's resident set (VmRSS) in MB, or -1 off Linux.
func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}
