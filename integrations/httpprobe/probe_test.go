package httpprobe

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
)

var fixedNow = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func newTestProber(t *testing.T, cfg Config, hc *http.Client) *Prober {
	t.Helper()
	cfg.AllowPrivate = true
	cfg.Now = func() time.Time { return fixedNow }
	return New(cfg, hc, nil)
}

// testServer serves the paths the Check tests use.
func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "status: all ok") })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/created", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/host", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "host="+r.Host) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/hop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", maxBody)+"needle")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestCheck(t *testing.T) {
	srv := testServer(t)
	p := newTestProber(t, Config{}, nil)
	refused := closedPort(t)
	tests := []struct {
		name      string
		target    Target
		wantState integrations.CheckState
		wantCode  int
		wantErr   string
	}{
		{"up 200", Target{URL: srv.URL + "/ok"}, integrations.StateUp, 200, ""},
		{"503 down", Target{URL: srv.URL + "/fail"}, integrations.StateDown, 503, "status 503 (expected 2xx/3xx)"},
		{"keyword found", Target{URL: srv.URL + "/ok", Keyword: "all ok"}, integrations.StateUp, 200, ""},
		{"keyword missing", Target{URL: srv.URL + "/ok", Keyword: "ok!"}, integrations.StateDown, 200, `keyword "ok!" not found`},
		{"keyword past 1 MiB", Target{URL: srv.URL + "/big", Keyword: "needle"}, integrations.StateDown, 200, `keyword "needle" not found in the first 1 MiB`},
		{"timeout", Target{URL: srv.URL + "/slow", Timeout: 100 * time.Millisecond}, integrations.StateDown, 0, "timeout after 100ms"},
		{"connection refused", Target{URL: "http://" + refused + "/"}, integrations.StateDown, 0, "connection refused"},
		{"expected status listed", Target{URL: srv.URL + "/fail", ExpectStatus: []int{503}}, integrations.StateUp, 503, ""},
		{"expected status not listed", Target{URL: srv.URL + "/created", ExpectStatus: []int{200, 204}}, integrations.StateDown, 201, "status 201 (expected 200, 204)"},
		{"host header", Target{URL: srv.URL + "/host", Host: "new.example.com", Keyword: "host=new.example.com"}, integrations.StateUp, 200, ""},
		{"HEAD", Target{URL: srv.URL + "/ok", Method: "head"}, integrations.StateUp, 200, ""},
		{"HEAD with keyword", Target{URL: srv.URL + "/ok", Method: "HEAD", Keyword: "ok"}, integrations.StateDown, 0, "keyword check needs GET (HEAD has no body)"},
		{"POST refused", Target{URL: srv.URL + "/ok", Method: "POST"}, integrations.StateDown, 0, "method POST not allowed (use GET or HEAD)"},
		{"one redirect followed", Target{URL: srv.URL + "/hop", Keyword: "all ok"}, integrations.StateUp, 200, ""},
		{"redirect loop", Target{URL: srv.URL + "/loop"}, integrations.StateDown, 0, "too many redirects (more than 5)"},
		{"invalid URL", Target{URL: "ftp://example.com/"}, integrations.StateDown, 0, `invalid URL: scheme "ftp" is not allowed (use http or https)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.target.ID, tt.target.Name = "id-"+tt.name, "name-"+tt.name
			got := p.Check(t.Context(), tt.target)
			if got.State != tt.wantState || got.StatusCode != tt.wantCode || got.Error != tt.wantErr {
				t.Errorf("Check = state %q code %d error %q; want %q %d %q", got.State, got.StatusCode, got.Error, tt.wantState, tt.wantCode, tt.wantErr)
			}
			if got.Source != "probe" || got.Uptime != -1 || !got.CheckedAt.Equal(fixedNow) || got.ID != tt.target.ID || got.Name != tt.target.Name || got.URL != tt.target.URL {
				t.Errorf("Check identity fields = %+v", got)
			}
			if got.StatusCode != 0 && got.ResponseTime <= 0 {
				t.Errorf("ResponseTime = %v, want > 0 with a response", got.ResponseTime)
			}
			if !got.CertExpiry.IsZero() {
				t.Errorf("CertExpiry = %v for http, want zero", got.CertExpiry)
			}
		})
	}
}

func TestCheckCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		cancel() // the caller gives up while the request is in flight
		<-r.Context().Done()
	}))
	defer srv.Close()
	p := newTestProber(t, Config{}, nil)
	got := p.Check(ctx, Target{URL: srv.URL, Timeout: time.Minute})
	if got.State != integrations.StateUnknown || got.Error != "check cancelled" {
		t.Errorf("Check = %q %q, want unknown, check cancelled", got.State, got.Error)
	}
}

func TestCheckAllOrderAndConcurrency(t *testing.T) {
	const limit, n = 3, 24
	var inflight, peak, total atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		cur := inflight.Add(1)
		defer inflight.Add(-1)
		for old := peak.Load(); cur > old && !peak.CompareAndSwap(old, cur); old = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond) // let checks overlap
		fmt.Fprint(w, r.URL.Path)
	}))
	defer srv.Close()
	p := newTestProber(t, Config{MaxConcurrency: limit}, nil)
	ts := make([]Target, n)
	for i := range ts {
		path := fmt.Sprintf("/t%d", i)
		ts[i] = Target{ID: fmt.Sprint(i), URL: srv.URL + path, Keyword: path}
	}
	got := p.CheckAll(t.Context(), ts)
	if len(got) != n {
		t.Fatalf("len = %d, want %d", len(got), n)
	}
	for i, r := range got {
		if r.ID != ts[i].ID || r.State != integrations.StateUp {
			t.Errorf("result %d = id %q state %q (%s), want id %q up", i, r.ID, r.State, r.Error, ts[i].ID)
		}
	}
	if p := peak.Load(); p > limit || p < 1 {
		t.Errorf("peak in flight = %d, want 1..%d", p, limit)
	}
	if total.Load() != n {
		t.Errorf("requests = %d, want %d", total.Load(), n)
	}
}

func TestCheckAllCancelled(t *testing.T) {
	p := newTestProber(t, Config{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got := p.CheckAll(ctx, []Target{{ID: "a", URL: "http://example.com/"}, {ID: "b", URL: "http://example.com/"}})
	for i, r := range got {
		if r.State != integrations.StateUnknown || r.Error != "check cancelled" || r.ID != []string{"a", "b"}[i] {
			t.Errorf("result %d = %+v, want unknown, check cancelled", i, r)
		}
	}
}
