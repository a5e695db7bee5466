package httpprobe

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

const benchTargets = 1000

func benchServer(b *testing.B) (*httptest.Server, []string) {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	b.Cleanup(srv.Close)
	urls := make([]string, benchTargets)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/site/%d", srv.URL, i)
	}
	return srv, urls
}

// BenchmarkProbe checks 1,000 loopback targets (one server, distinct paths)
// per op with CheckAll at the default concurrency and pooled connections.
func BenchmarkProbe(b *testing.B) {
	_, urls := benchServer(b)
	ts := make([]Target, len(urls))
	for i, u := range urls {
		ts[i] = Target{ID: fmt.Sprint(i), URL: u, Keyword: "ok"}
	}
	p := New(Config{AllowPrivate: true}, nil, nil)
	b.ReportAllocs()
	before := mallocs()
	for b.Loop() {
		for i, r := range p.CheckAll(b.Context(), ts) {
			if r.Error != "" {
				b.Fatalf("target %d: %s", i, r.Error)
			}
		}
	}
	reportPerCheck(b, before)
}

// BenchmarkBareGET is the baseline: the same 1,000 GETs per op, one after
// another, with plain net/http and a new connection per request.
func BenchmarkBareGET(b *testing.B) {
	_, urls := benchServer(b)
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer hc.CloseIdleConnections()
	b.ReportAllocs()
	before := mallocs()
	for b.Loop() {
		for _, u := range urls {
			resp, err := hc.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	reportPerCheck(b, before)
}

// reportPerCheck reports checks/s and allocs/check (client and server side:
// the test server runs in the same process).
func reportPerCheck(b *testing.B, before uint64) {
	checks := float64(b.N * benchTargets)
	b.ReportMetric(checks/b.Elapsed().Seconds(), "checks/s")
	b.ReportMetric(float64(mallocs()-before)/checks, "allocs/check")
}

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}
