// Command probecpu is scripts/probe-cpu's helper: the local HTTP target the
// probes check, the opsbot config that probes it, the bare GET loop opsbot
// is compared with, and the /proc reading. Not part of opsbot.
//
//	probecpu serve ADDRFILE            answer 200 "ok" on a loopback port (written to ADDRFILE); GET /count?prefix=P
//	probecpu config N BASEURL          print a config probing N sites at BASEURL/site/i every 10 s
//	probecpu bare N INTERVAL DURATION BASEURL   GET N URLs each INTERVAL for DURATION, new connection each; print CPU µs per GET
//	probecpu cpu PID...                print the summed utime+stime of the processes, in µs
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: probecpu serve|config|bare|cpu ...")
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2])
	case "config":
		err = config(atoi(os.Args[2]), os.Args[3])
	case "bare":
		err = bare(atoi(os.Args[2]), duration(os.Args[3]), duration(os.Args[4]), os.Args[5])
	case "cpu":
		var total int64
		for _, p := range os.Args[2:] {
			us, err := procCPU(p)
			if err != nil {
				fail(err.Error())
			}
			total += us
		}
		fmt.Println(total)
	default:
		fail("unknown subcommand " + os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "probecpu:", msg)
	os.Exit(1)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail(err.Error())
	}
	return n
}

func duration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		fail(err.Error())
	}
	return d
}

// serve answers every path 200 "ok" and counts requests by their first
// path segment (/site/… from opsbot, /bare/… from the loop).
func serve(addrFile string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var mu sync.Mutex
	counts := map[string]int64{}
	mux := http.NewServeMux()
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w, counts[r.URL.Query().Get("prefix")])
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		mu.Lock()
		counts[seg]++
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	})
	if err := os.WriteFile(addrFile, []byte(ln.Addr().String()), 0o600); err != nil {
		return err
	}
	return http.Serve(ln, mux)
}

// config is a minimal opsbot config: one client, n probed sites.
func config(n int, base string) error {
	var b strings.Builder
	b.WriteString("channels:\n  support: C0PERF00001\nuptime:\n  allow_private: true\nclients:\n  perf:\n    channels:\n      alerts: C0PERF00002\n    sites:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - name: s%d\n        url: %s/site/%d\n        probe: {interval: 10s, timeout: 5s}\n", i, base, i)
	}
	_, err := os.Stdout.WriteString(b.String())
	return err
}

// bare is the floor: a plain net/http GET with a new connection per
// request, n URLs each every interval, paced evenly, for d.
func bare(n int, interval, d time.Duration, base string) error {
	tr := &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	period := interval / time.Duration(n)
	var done, failed atomic.Int64
	var wg sync.WaitGroup
	cpu0 := selfCPU()
	start := time.Now()
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * period)
		if at.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(at))
		wg.Go(func() {
			resp, err := hc.Get(fmt.Sprintf("%s/bare/%d", base, i%n))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			if err != nil || resp.StatusCode != http.StatusOK {
				failed.Add(1)
			}
			done.Add(1)
		})
	}
	wg.Wait()
	cpu := selfCPU() - cpu0
	fmt.Printf("%d %d %d\n", done.Load(), failed.Load(), cpu.Microseconds())
	return nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is a process's utime+stime from /proc/PID/stat, in µs.
func procCPU(pid string) (int64, error) {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count fields after ")".
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	const clkTck = 100                          // USER_HZ on Linux
	return (utime + stime) * 1_000_000 / clkTck, nil
}
