package app

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

// TestSmokeChecksTypedInSlackAreGuarded: with uptime.allow_private on (for
// internal health URLs) and no changes.smoke_allow, a support person's
// smoke checks are refused at submission when they name loopback, private
// or metadata addresses (NAT64 and 6to4 forms included) or a keyword
// against someone else's host; a name resolving to loopback fails when run,
// and the target never sees a request.
func TestSmokeChecksTypedInSlackAreGuarded(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("secret admin page"))
	}))
	t.Cleanup(target.Close)
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	yaml := `channels:
  support: C0SUPPORT
uptime:
  allow_private: true
clients:
  acme:
    name: Acme Ltd
    sites:
      - name: www
        url: https://www.acme.example/
        statuscake_id: "1234"
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &changeEnv{opsbot: start(t, map[string]string{"OPSBOT_CONFIG": cfg})}
	e.command(t, admin, "role grant @alice support")
	st := store.New(e.rdb, "opsbot:")
	now := time.Now()
	if err := st.CreateChange(context.Background(), &store.ChangeRequest{ID: "CR-1", Client: "acme", Title: "New web servers",
		RequestedBy: "UBOB000001", State: store.ChangeSmokeTesting, CreatedAt: now,
		Proposal: &store.Proposal{Plan: "two new servers", Magnitude: store.MagnitudeMinor, By: "UALICE0001", At: now, Version: 1,
			DNS: &store.DNSPlan{ZoneID: zone, Name: "shop.acme.example.", Type: "A", NewValues: []string{"203.0.113.10"}}}}); err != nil {
		t.Fatal(err)
	}
	submit := func(checks string) string {
		t.Helper()
		_, meta, _ := e.openForm(t, func() string { return e.fake.BlockAction("UALICE0001", slackAction("change_smoke", "CR-1")) })
		return e.submit(t, "UALICE0001", "change_smoke", "", meta, vals(map[string]map[string]any{"cr_checks": txt(checks)}))
	}
	refused := []struct{ checks, want string }{
		{"http://127.0.0.1:" + port + "/", "address 127.0.0.1 is loopback (not allowed)"},
		{"https://203.0.113.10/health\nhttp://10.0.0.1/admin", "Check 2: address 10.0.0.1 is private (not allowed)"},
		{"http://169.254.169.254/latest/meta-data/iam/", "opsbot never fetches cloud metadata"},
		{"http://[fd00:ec2::254]/latest/api/token", "opsbot never fetches cloud metadata"},
		{"http://metadata.google.internal/computeMetadata/v1/", "opsbot never fetches cloud metadata"},
		{"http://[64:ff9b::7f00:1]:" + port + "/", "carries 127.0.0.1, which is loopback"},
		{"http://[2002:a00:1::1]/", "carries 10.0.0.1, which is private"},
		{"https://203.0.113.10/ host=www.other.example keyword=a", "keyword= is accepted only for the client's own hosts"},
	}
	for _, tt := range refused {
		ack := submit(tt.checks)
		if !strings.Contains(ack, `"response_action":"errors"`) || !strings.Contains(ack, tt.want) {
			t.Errorf("smoke checks %q: ack %s, want a field error containing %q", tt.checks, ack, tt.want)
		}
		if strings.Contains(tt.want, "not allowed") && !strings.Contains(ack, "changes.smoke_allow") {
			t.Errorf("smoke checks %q: the refusal does not say what an admin can do: %s", tt.checks, ack)
		}
	}
	if cr := e.change(t, "CR-1"); len(cr.SmokeChecks) != 0 {
		t.Fatalf("refused checks were saved: %+v", cr.SmokeChecks)
	}
	// Keywords against the client's own hosts (a site, the DNS record) are
	// fine; a host name is judged when dialled, so it fails when run.
	ok := "https://203.0.113.10/ host=www.acme.example keyword=ok\nhttps://203.0.113.10/ host=shop.acme.example keyword=ok\nhttp://localhost:" + port + "/"
	if ack := submit(ok); ack != "" {
		t.Fatalf("own-host checks refused: %s", ack)
	}
	cr := e.afterStep(t, "UALICE0001", "change_smoke_run", "CR-1", "Running the 3 smoke check", wait)
	if len(cr.SmokeResults) != 3 || !strings.Contains(cr.SmokeResults[2].Detail, "is loopback (not allowed)") || cr.SmokeResults[2].OK {
		t.Fatalf("results: %+v", cr.SmokeResults)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the internal target saw %d requests", n)
	}
}

// TestConfigCheckRefusesGuardedProbeURLs: a probed site the guard refuses
// at every check fails `config check` at its line, with what to do;
// cloud metadata even with uptime.allow_private.
func TestConfigCheckRefusesGuardedProbeURLs(t *testing.T) {
	site := func(url string) string {
		return fmt.Sprintf("      - name: s%d\n        url: %s\n        probe: {interval: 60s}\n", len(url), url)
	}
	tests := []struct {
		name, uptime, sites string
		want                []string // "" entries: must pass
	}{
		{"private without allow_private", "false", site("http://10.0.0.5:8080/healthz") + site("http://[64:ff9b::10.0.0.5]/"),
			[]string{"x.yaml:9: clients.acme.sites[0].url: opsbot's probe would refuse it at every check: address 10.0.0.5 is private",
				"x.yaml:12: clients.acme.sites[1].url:", "carries 10.0.0.5", "uptime.allow_private: true"}},
		{"metadata even with allow_private", "true", site("http://169.254.169.254/latest/meta-data/") + site("http://metadata.google.internal/"),
			[]string{"x.yaml:9: clients.acme.sites[0].url: opsbot never probes cloud metadata", "x.yaml:12: clients.acme.sites[1].url: opsbot never probes cloud metadata"}},
		{"private with allow_private", "true", site("http://10.0.0.5:8080/healthz"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.yaml")
			src := "uptime:\n  allow_private: " + tt.uptime + "\nchannels:\n  support: C0SUPPORT\nclients:\n  acme:\n    sites:\n" + tt.sites
			if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := Run(context.Background(), []string{"opsbot", "config", "check", path}, exampleEnv, nil, &out, &out)
			if tt.want == nil {
				if code != exitOK {
					t.Fatalf("exit %d:\n%s", code, out.String())
				}
				return
			}
			if code != exitUsage {
				t.Fatalf("exit %d (want %d):\n%s", code, exitUsage, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
