package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/383project/opsbot/store"
)

func TestParseThreshold(t *testing.T) {
	good := []struct {
		metric, value string
		want          store.ThresholdValue
	}{
		{"cpu", "85", store.ThresholdValue{Metric: store.ThresholdCPU, Value: 85}},
		{"CPU", "85%", store.ThresholdValue{Metric: store.ThresholdCPU, Value: 85}},
		{"cpu", "1", store.ThresholdValue{Metric: store.ThresholdCPU, Value: 1}},
		{"cpu", "100", store.ThresholdValue{Metric: store.ThresholdCPU, Value: 100}},
		{"free_storage_gb", "0.5", store.ThresholdValue{Metric: store.ThresholdFreeStorageGB, Value: 0.5}},
		{"free-storage-gb", "20GB", store.ThresholdValue{Metric: store.ThresholdFreeStorageGB, Value: 20}},
		{"free_storage_gb", "65536", store.ThresholdValue{Metric: store.ThresholdFreeStorageGB, Value: 65536}},
		{"periods", "60", store.ThresholdValue{Metric: store.ThresholdPeriods, Value: 60}},
		{"spike_factor", "1.5", store.ThresholdValue{Metric: store.ThresholdSpikeFactor, Value: 1.5}},
		{"spike_factor", "4x", store.ThresholdValue{Metric: store.ThresholdSpikeFactor, Value: 4}},
		{"cpu", "default", store.ThresholdValue{Metric: store.ThresholdCPU, Default: true}},
		{"periods", "DEFAULT", store.ThresholdValue{Metric: store.ThresholdPeriods, Default: true}},
	}
	for _, g := range good {
		got, err := store.ParseThreshold(g.metric, g.value)
		if err != nil || got != g.want {
			t.Errorf("ParseThreshold(%q, %q) = %+v, %v; want %+v", g.metric, g.value, got, err, g.want)
		}
	}
	bad := []struct{ metric, value, want, example string }{
		{"cpu", "150", "150 is out of range for cpu", "cpu 85"},
		{"cpu", "abc", `"abc" is not a number for cpu`, "cpu 85"},
		{"cpu", "0", "out of range", "cpu 85"},
		{"cpu", "-5", "not a number", "cpu 85"},
		{"cpu", "NaN", "not a number", "cpu 85"},
		{"cpu", "1e2", "not a number", "cpu 85"},
		{"cpu", "", "not a number", "cpu 85"},
		{"free_storage_gb", "0", "out of range", "free_storage_gb 20"},
		{"free_storage_gb", "65537", "out of range", "free_storage_gb 20"},
		{"periods", "2.5", "not a whole number", "periods 3"},
		{"periods", "61", "out of range", "periods 3"},
		{"periods", "0", "out of range", "periods 3"},
		{"spike_factor", "1.4", "out of range", "spike_factor 4"},
		{"spike_factor", "101", "out of range", "spike_factor 4"},
		{"memory", "80", `"memory" is not a threshold I know. Thresholds: cpu, free_storage_gb, periods, spike_factor`, "cpu 85"},
	}
	for _, b := range bad {
		_, err := store.ParseThreshold(b.metric, b.value)
		var ie *store.ThresholdInputError
		if !errors.As(err, &ie) {
			t.Errorf("ParseThreshold(%q, %q) = %v; want a *ThresholdInputError", b.metric, b.value, err)
			continue
		}
		if !strings.Contains(ie.Msg, b.want) || ie.Example != b.example {
			t.Errorf("ParseThreshold(%q, %q) = %q (example %q); want it to contain %q with example %q", b.metric, b.value, ie.Msg, ie.Example, b.want, b.example)
		}
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range [][2]string{{"cpu", "85"}, {"cpu", "150"}, {"free_storage_gb", "0.5GB"}, {"periods", "3"},
		{"spike_factor", "4x"}, {"cpu", "default"}, {"x", "1"}, {"cpu", "1e400"}, {"periods", "9999999999"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, metric, value string) {
		v, err := store.ParseThreshold(metric, value)
		if err != nil {
			var ie *store.ThresholdInputError
			if !errors.As(err, &ie) || ie.Msg == "" || ie.Example == "" {
				t.Fatalf("error %v is not a friendly ThresholdInputError with an example", err)
			}
			if _, err := store.ParseThreshold(strings.Fields(ie.Example)[0], strings.Fields(ie.Example)[1]); err != nil {
				t.Fatalf("the example %q does not parse: %v", ie.Example, err)
			}
			return
		}
		if v.Default {
			return
		}
		rng, known := map[store.ThresholdMetric][2]float64{store.ThresholdCPU: {1, 100}, store.ThresholdFreeStorageGB: {0, 65536},
			store.ThresholdPeriods: {1, 60}, store.ThresholdSpikeFactor: {1.5, 100}}[v.Metric]
		if !known || v.Value < rng[0] || v.Value > rng[1] || v.Value <= 0 {
			t.Fatalf("ParseThreshold(%q, %q) accepted %+v outside its range", metric, value, v)
		}
		if v.Metric == store.ThresholdPeriods && v.Value != float64(int(v.Value)) {
			t.Fatalf("periods %v is not whole", v.Value)
		}
		// The canonical form parses back to the same value.
		again, err := store.ParseThreshold(string(v.Metric), strings.Fields(v.Format())[0])
		if err != nil || again != v {
			t.Fatalf("round trip of %+v: %+v, %v", v, again, err)
		}
	})
}

func TestResolveThresholds(t *testing.T) {
	defaults := store.ServerThresholds{CPU: 90, FreeStorageGB: 5, Periods: 3, SpikeFactor: 4}
	got := store.ResolveThresholds(defaults, store.ServerThresholds{FreeStorageGB: 10, Periods: 5}, store.ServerThresholds{Periods: 2})
	want := store.ServerThresholds{CPU: 90, FreeStorageGB: 10, Periods: 2, SpikeFactor: 4}
	if got.ServerThresholds != want {
		t.Fatalf("values = %+v, want %+v", got.ServerThresholds, want)
	}
	srcs := map[store.ThresholdMetric]store.ThresholdSource{store.ThresholdCPU: store.SourceDefault,
		store.ThresholdFreeStorageGB: store.SourceConfig, store.ThresholdPeriods: store.SourceOverride, store.ThresholdSpikeFactor: store.SourceDefault}
	for m, s := range srcs {
		if got.Sources[m] != s {
			t.Errorf("source of %s = %q, want %q", m, got.Sources[m], s)
		}
	}
}

func TestSetThresholdAuditedAndReset(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	cpu80, _ := store.ParseThreshold("cpu", "80")
	prev, changed, err := s.SetThreshold(ctx, "UADMIN", "acme", cpu80, t0)
	if err != nil || !changed || prev != 0 {
		t.Fatalf("SetThreshold = %v, %v, %v; want 0, true, nil", prev, changed, err)
	}
	if _, changed, err := s.SetThreshold(ctx, "UADMIN", "acme", cpu80, t0); err != nil || changed {
		t.Fatalf("same value again: changed=%v err=%v; want no change", changed, err)
	}
	per, _ := store.ParseThreshold("periods", "5")
	if _, _, err := s.SetThreshold(ctx, "UADMIN", "beta", per, t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Thresholds(ctx, "acme")
	if err != nil || got != (store.ServerThresholds{CPU: 80}) {
		t.Fatalf("Thresholds(acme) = %+v, %v", got, err)
	}
	all, err := s.AllThresholds(ctx)
	if err != nil || len(all) != 2 || all["beta"] != (store.ServerThresholds{Periods: 5}) || all["acme"].CPU != 80 {
		t.Fatalf("AllThresholds = %+v, %v", all, err)
	}
	reset, _ := store.ParseThreshold("cpu", "default")
	prev, changed, err = s.SetThreshold(ctx, "USUPPORT", "acme", reset, t0)
	if err != nil || !changed || prev != 80 {
		t.Fatalf("reset = %v, %v, %v; want 80, true, nil", prev, changed, err)
	}
	if got, _ := s.Thresholds(ctx, "acme"); got != (store.ServerThresholds{}) {
		t.Fatalf("after reset: %+v", got)
	}
	entries, err := s.RecentAudit(ctx, 10)
	if err != nil || len(entries) != 3 {
		t.Fatalf("audit = %+v, %v; want 3 entries (no entry for the no-op)", entries, err)
	}
	r, set := entries[0], entries[2]
	if r.Action != "threshold.reset" || r.Actor != "USUPPORT" || r.Target != "acme/cpu" || r.Client != "acme" || !strings.Contains(r.Detail, "was 80 %") {
		t.Errorf("reset entry = %+v", r)
	}
	if set.Action != "threshold.set" || set.Actor != "UADMIN" || set.Detail != "cpu 80 %" || !set.At.Equal(t0) {
		t.Errorf("set entry = %+v", set)
	}
}

func TestSetThresholdFailsClosedWhenAuditUnwritable(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	rdb.Set(ctx, "opsbot:audit", "not a stream", 0)
	v, _ := store.ParseThreshold("cpu", "80")
	if _, _, err := s.SetThreshold(ctx, "UADMIN", "acme", v, t0); err == nil {
		t.Fatal("SetThreshold succeeded although the audit entry could not be written")
	}
	if got, err := s.Thresholds(ctx, "acme"); err != nil || got != (store.ServerThresholds{}) {
		t.Fatalf("override stored despite failed audit: %+v, %v", got, err)
	}
}

func TestThresholdsIgnoreCorruptField(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	rdb.HSet(ctx, "opsbot:thresholds", "acme:cpu", "900", "acme:periods", "4", "acme:bogus", "1")
	got, err := s.Thresholds(ctx, "acme")
	if err != nil || got != (store.ServerThresholds{Periods: 4}) {
		t.Fatalf("Thresholds = %+v, %v; want only the valid periods", got, err)
	}
	if _, _, err := s.SetThreshold(ctx, "U", "acme", store.ThresholdValue{Metric: "bogus", Value: 1}, t0); err == nil {
		t.Fatal("SetThreshold accepted an unknown metric")
	}
}
