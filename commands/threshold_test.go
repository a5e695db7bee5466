package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/383project/opsbot/store"
)

func TestThresholdSetListAndReset(t *testing.T) {
	f := newServersFixture(t)
	ctx := context.Background()

	got := f.run(admin, "threshold set AC cpu 80%")
	if !strings.Contains(got.Text, "*cpu* for Acme Ltd (`acme`) is now 80 %") || !strings.Contains(got.Text, "audit log") || got.InChannel {
		t.Fatalf("set reply: %q", got.Text)
	}
	if th, err := f.st.Thresholds(ctx, "acme"); err != nil || th != (store.ServerThresholds{CPU: 80}) {
		t.Fatalf("stored overrides = %+v, %v", th, err)
	}
	entries, _ := f.st.RecentAudit(ctx, 1)
	if len(entries) != 1 || entries[0].Action != "threshold.set" || entries[0].Actor != admin || entries[0].Client != "acme" {
		t.Fatalf("audit = %+v", entries)
	}
	if got := f.run(admin, "threshold set acme cpu 80"); !strings.Contains(got.Text, "already overridden to 80 %; nothing changed") {
		t.Fatalf("same value again: %q", got.Text)
	}

	one := text(f.run(serversSupport, "threshold list acme"))
	for _, want := range []string{
		"*cpu* 80 % — from override (default 90 %, config 85 %, override 80 %)",
		"*free_storage_gb* 5 GB — from default (default 5 GB)",
		"*periods* 3 periods — from default",
		"*spike_factor* 4× — from default",
	} {
		if !strings.Contains(one, want) {
			t.Errorf("list acme lacks %q:\n%s", want, one)
		}
	}
	all := text(f.run(serversSupport, "threshold list"))
	for _, want := range []string{
		"Built-in defaults: cpu 90 % · free_storage_gb 5 GB · periods 3 periods · spike_factor 4×",
		"Acme Ltd (`acme`): cpu 80 % (override) · free_storage_gb 5 GB (default)",
		"Beta &amp; Co (`beta`): cpu 90 % (default)",
		"Gamma (`gamma`)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("list lacks %q:\n%s", want, all)
		}
	}

	got = f.run(admin, "threshold set acme cpu default")
	if !strings.Contains(got.Text, "Removed the *cpu* override (80 %) for Acme Ltd (`acme`). In force now: 85 % (config)") {
		t.Fatalf("reset reply: %q", got.Text)
	}
	if th, _ := f.st.Thresholds(ctx, "acme"); th != (store.ServerThresholds{}) {
		t.Fatalf("override left after reset: %+v", th)
	}
	if got := f.run(admin, "threshold set acme cpu default"); !strings.Contains(got.Text, "has no override for *cpu*; nothing changed") {
		t.Fatalf("second reset: %q", got.Text)
	}
	if entries, _ := f.st.RecentAudit(ctx, 10); len(entries) != 4 || entries[0].Action != "threshold.reset" {
		t.Fatalf("audit = %+v; want 2 role grants, a set and a reset", entries)
	}
}

func TestThresholdBadInputStoresNothing(t *testing.T) {
	f := newServersFixture(t)
	ctx := context.Background()
	before := f.rdb.XLen(ctx, "opsbot:audit").Val()
	tests := []struct{ in, want string }{
		{"threshold set acme cpu 150", "150 is out of range for cpu: it must be a CPU percentage from 1 to 100 (or `default` to remove the override).\nFor example: `/ops threshold set acme cpu 85`"},
		{"threshold set acme cpu abc", `"abc" is not a number for cpu`},
		{"threshold set acme cpu -5", "not a number"},
		{"threshold set acme periods 2.5", "2.5 is not a whole number for periods"},
		{"threshold set acme free_storage_gb 0", "0 is out of range for free_storage_gb"},
		{"threshold set acme spike_factor 1", "out of range for spike_factor"},
		{"threshold set acme memory 80", `"memory" is not a threshold I know. Thresholds: cpu, free_storage_gb, periods, spike_factor`},
		{"threshold set acme <b> 1", "&lt;b&gt;"},
		{"threshold set zzz cpu 80", `I don't know a client called "zzz"`},
		{"threshold set acme cpu", "takes a client, a metric and a value"},
		{"threshold", "Say what to do"},
		{"threshold frob", "is not something `/ops threshold` does"},
		{"threshold list acme beta", "takes at most one client"},
		{"threshold list zzz", `I don't know a client called "zzz"`},
	}
	for _, tt := range tests {
		got := f.run(admin, tt.in)
		if !strings.HasPrefix(got.Text, ":warning:") || !strings.Contains(got.Text, tt.want) || got.InChannel {
			t.Errorf("%q → %q; want an ephemeral warning containing %q", tt.in, got.Text, tt.want)
		}
		if strings.Contains(got.Text, "<b>") {
			t.Errorf("%q: user text not escaped: %q", tt.in, got.Text)
		}
	}
	if all, err := f.st.AllThresholds(ctx); err != nil || len(all) != 0 {
		t.Fatalf("bad input stored overrides: %+v, %v", all, err)
	}
	if n := f.rdb.XLen(ctx, "opsbot:audit").Val(); n != before {
		t.Fatalf("bad input wrote %d audit entries", n-before)
	}
}

func TestThresholdPermissions(t *testing.T) {
	f := newServersFixture(t)
	f.grant(t, "UFINANCE01", store.Grant{Role: store.Finance})
	tests := []struct{ user, in, want string }{
		{serversSupport, "threshold set acme cpu 80", ":no_entry: To change alert thresholds you need one of these roles: *admin*"},
		{stakeholderAcme, "threshold list acme", ":no_entry: To run `/ops threshold` you need"},
		{stakeholderAcme, "threshold set acme cpu 80", ":no_entry:"},
		{"UFINANCE01", "threshold list", ":no_entry:"},
		{"UNOBODY001", "threshold list", ":no_entry:"},
	}
	for _, tt := range tests {
		if got := f.run(tt.user, tt.in); !strings.HasPrefix(got.Text, tt.want) || got.InChannel {
			t.Errorf("%s %q → %q; want it to start %q", tt.user, tt.in, got.Text, tt.want)
		}
	}
	if all, _ := f.st.AllThresholds(context.Background()); len(all) != 0 {
		t.Fatalf("a refused set stored %+v", all)
	}
	if got := f.run(serversSupport, "threshold list"); !strings.HasPrefix(got.Text, "Alert thresholds of 3 clients") {
		t.Fatalf("support may list: %q", got.Text)
	}
}

func TestThresholdAuditUnwritableRefusesSet(t *testing.T) {
	f := newServersFixture(t)
	f.rdb.Del(context.Background(), "opsbot:audit")
	f.rdb.Set(context.Background(), "opsbot:audit", "not a stream", 0)
	got := f.run(admin, "threshold set acme cpu 80")
	if !strings.Contains(got.Text, "could not write the audit entry, so the threshold was not changed") {
		t.Fatalf("reply: %q", got.Text)
	}
	if all, _ := f.st.AllThresholds(context.Background()); len(all) != 0 {
		t.Fatalf("override stored without audit: %+v", all)
	}
}
