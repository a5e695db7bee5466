package jobs

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/383project/opsbot/integrations"
)

// probeRecorder is a fake ProbeCheck that records when each key was checked.
type probeRecorder struct {
	mu    sync.Mutex
	calls map[string][]time.Time
	delay time.Duration // how long a check takes (ignoring ctx when hold is set)
	hold  bool

	active, maxActive atomic.Int64
	perKey            sync.Map // key → *atomic.Int64 checks of that key running
	overlap           atomic.Bool
}

func newProbeRecorder() *probeRecorder {
	return &probeRecorder{calls: map[string][]time.Time{}}
}

func (r *probeRecorder) check(ctx context.Context, key string) integrations.CheckResult {
	now := time.Now()
	r.mu.Lock()
	r.calls[key] = append(r.calls[key], now)
	r.mu.Unlock()
	n := r.active.Add(1)
	defer r.active.Add(-1)
	for {
		m := r.maxActive.Load()
		if n <= m || r.maxActive.CompareAndSwap(m, n) {
			break
		}
	}
	c, _ := r.perKey.LoadOrStore(key, new(atomic.Int64))
	if c.(*atomic.Int64).Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer c.(*atomic.Int64).Add(-1)
	if r.delay > 0 {
		if r.hold {
			time.Sleep(r.delay)
		} else {
			select {
			case <-time.After(r.delay):
			case <-ctx.Done():
			}
		}
	}
	return integrations.CheckResult{Source: "probe", ID: key, State: integrations.StateUp, CheckedAt: time.Now()}
}

func (r *probeRecorder) snapshot() map[string][]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]time.Time, len(r.calls))
	for k, v := range r.calls {
		out[k] = append([]time.Time(nil), v...)
	}
	return out
}

func probeTargets(prefix string, n int, iv time.Duration) []ProbeTarget {
	ts := make([]ProbeTarget, n)
	for i := range ts {
		ts[i] = ProbeTarget{Key: fmt.Sprintf("%s-%d", prefix, i), Interval: iv}
	}
	return ts
}

// startEngine runs e in the background; the returned func cancels it and
// waits for Run to return.
func startEngine(t *testing.T, e *ProbeEngine) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// assertSpread checks that every key was first checked within iv of start,
// then exactly every iv, and that no second of the first pass held more than
// twice the even share (or 4, for small sets).
func assertSpread(t *testing.T, calls map[string][]time.Time, keys []ProbeTarget, start time.Time, iv time.Duration, minChecks int) {
	t.Helper()
	perSecond := map[int64]int{}
	for _, k := range keys {
		c := calls[k.Key]
		if len(c) < minChecks {
			t.Fatalf("%s checked %d times, want at least %d", k.Key, len(c), minChecks)
		}
		if first := c[0].Sub(start); first < 0 || first >= iv {
			t.Errorf("%s first checked %v after start, want within %v", k.Key, first, iv)
		}
		perSecond[int64(c[0].Sub(start)/time.Second)]++
		for i := 1; i < len(c); i++ {
			if d := c[i].Sub(c[i-1]); d != iv {
				t.Errorf("%s check %d came %v after the previous, want %v", k.Key, i, d, iv)
			}
		}
	}
	limit := max(2*len(keys)/int(iv/time.Second), 4) // a hash is not even over a handful of keys
	for s, n := range perSecond {
		if n > limit {
			t.Errorf("%d first checks in second %d, want at most %d (spread)", n, s, limit)
		}
	}
}

func TestProbeEngineSpreadsAndKeepsInterval(t *testing.T) {
	for _, tc := range []struct {
		n  int
		iv time.Duration
	}{{100, 10 * time.Second}, {10000, 30 * time.Second}} {
		t.Run(fmt.Sprintf("targets=%d/interval=%v", tc.n, tc.iv), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newProbeRecorder()
				var results atomic.Int64
				e := NewProbeEngine(rec.check, ProbeEngineOptions{OnResult: func(string, integrations.CheckResult, time.Time) { results.Add(1) }})
				ts := probeTargets("site", tc.n, tc.iv)
				e.SetTargets(ts)
				start := time.Now()
				stop := startEngine(t, e)
				time.Sleep(3*tc.iv + tc.iv/2)
				stop()

				assertSpread(t, rec.snapshot(), ts, start, tc.iv, 3)
				st := e.Stats()
				if st.Checks != uint64(results.Load()) || st.Checks < uint64(3*tc.n) {
					t.Errorf("Stats.Checks = %d, results = %d, want equal and ≥ %d", st.Checks, results.Load(), 3*tc.n)
				}
				if st.Late != 0 || st.Skipped != 0 || st.JitterP99 != 0 || st.InFlight != 0 || st.Targets != tc.n {
					t.Errorf("Stats = %+v, want no late/skipped, zero jitter, none in flight, %d targets", st, tc.n)
				}
			})
		})
	}
}

func TestProbeEngineSetTargetsWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newProbeRecorder()
		e := NewProbeEngine(rec.check, ProbeEngineOptions{})
		const iv = 10 * time.Second
		old := probeTargets("old", 10, iv)
		e.SetTargets(old)
		start := time.Now()
		stop := startEngine(t, e)

		time.Sleep(25 * time.Second)
		kept, removed := old[:5], old[5:]
		added := probeTargets("new", 10, iv)
		changed := ProbeTarget{Key: kept[0].Key, Interval: 5 * time.Second}
		reload := time.Now()
		e.SetTargets(append(append([]ProbeTarget{changed}, kept[1:]...), added...))
		time.Sleep(40 * time.Second)
		stop()

		calls := rec.snapshot()
		for _, k := range removed {
			for _, c := range calls[k.Key] {
				if c.After(reload) {
					t.Errorf("removed %s checked at +%v, after the reload at +%v", k.Key, c.Sub(start), reload.Sub(start))
				}
			}
		}
		// Unchanged targets keep their phase across the reload.
		assertSpread(t, calls, kept[1:], start, iv, 6)
		// New targets are spread over one interval from the reload.
		assertSpread(t, calls, added, reload, iv, 4)
		// The re-phased target runs on its new interval.
		c := calls[changed.Key]
		var after []time.Time
		for _, at := range c {
			if at.After(reload) {
				after = append(after, at)
			}
		}
		if len(after) < 7 || after[0].Sub(reload) >= changed.Interval {
			t.Fatalf("%s checked at %v after the reload, want every 5s from within 5s", changed.Key, after)
		}
		for i := 1; i < len(after); i++ {
			if d := after[i].Sub(after[i-1]); d != changed.Interval {
				t.Errorf("%s: %v between checks after the reload, want 5s", changed.Key, d)
			}
		}
		if st := e.Stats(); st.Targets != 15 {
			t.Errorf("Stats.Targets = %d, want 15", st.Targets)
		}
	})
}

func TestProbeEngineSlowChecksBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newProbeRecorder()
		rec.delay, rec.hold = 3*time.Second, true // every check outlasts its 1s interval
		const workers = 4
		e := NewProbeEngine(rec.check, ProbeEngineOptions{Concurrency: workers})
		e.SetTargets(probeTargets("slow", 20, time.Second))
		stop := startEngine(t, e)

		var maxInFlight int
		for range 20 {
			time.Sleep(time.Second)
			maxInFlight = max(maxInFlight, e.Stats().InFlight)
		}
		stop()

		st := e.Stats()
		if m := rec.maxActive.Load(); m > workers || maxInFlight > workers {
			t.Errorf("%d checks ran at once (Stats saw %d), want at most %d", m, maxInFlight, workers)
		}
		if rec.overlap.Load() {
			t.Error("a target was checked while its previous check was still running")
		}
		// 4 workers × 20s ÷ 3s per check ≈ 27 checks (+4 started at the end).
		if st.Checks > 32 {
			t.Errorf("Stats.Checks = %d, want at most 32 (bounded by the workers)", st.Checks)
		}
		if st.Late == 0 || st.JitterP99 <= time.Second || st.Skipped == 0 {
			t.Errorf("Stats = %+v, want late checks, jitter p99 > 1s and skipped slots", st)
		}
	})
}

func TestProbeEngineRunWaitsForInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newProbeRecorder()
		rec.delay, rec.hold = 5*time.Second, true // ignores ctx
		var delivered atomic.Int64
		e := NewProbeEngine(rec.check, ProbeEngineOptions{OnResult: func(string, integrations.CheckResult, time.Time) { delivered.Add(1) }})
		e.SetTargets([]ProbeTarget{{Key: "a", Interval: time.Minute}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan time.Time, 1)
		go func() {
			if err := e.Run(ctx); err != nil {
				t.Errorf("Run: %v", err)
			}
			done <- time.Now()
		}()
		for e.Stats().InFlight == 0 {
			time.Sleep(100 * time.Millisecond)
		}
		if err := e.Run(ctx); err == nil {
			t.Error("second Run: want an error")
		}
		cancelled := time.Now()
		cancel()
		returned := <-done
		if got := returned.Sub(cancelled); got < 4*time.Second {
			t.Errorf("Run returned %v after cancel, want after the in-flight check (≈5s)", got)
		}
		if st := e.Stats(); st.InFlight != 0 || st.Checks != 1 {
			t.Errorf("Stats = %+v, want 1 check, none in flight", st)
		}
		if delivered.Load() != 1 {
			t.Errorf("OnResult called %d times, want 1 (the check finished with a real result)", delivered.Load())
		}
	})
}

func TestProbeEngineRunCancelsWaitingChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newProbeRecorder()
		rec.delay = time.Hour // honours ctx
		e := NewProbeEngine(func(ctx context.Context, key string) integrations.CheckResult {
			rec.check(ctx, key)
			return integrations.CheckResult{State: integrations.StateUnknown, Error: "check cancelled"}
		}, ProbeEngineOptions{OnResult: func(key string, _ integrations.CheckResult, _ time.Time) {
			t.Errorf("OnResult(%s) for a check cut short by shutdown", key)
		}})
		e.SetTargets(probeTargets("x", 50, time.Second))
		stop := startEngine(t, e)
		time.Sleep(3 * time.Second)
		stop()
		if st := e.Stats(); st.InFlight != 0 || st.Checks != 50 {
			t.Errorf("Stats = %+v, want 50 checks started, none in flight", st)
		}
	})
}

func TestProbeNextDueSkipsMissedSlots(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	for _, tc := range []struct {
		late       time.Duration
		wantNext   time.Duration
		wantMissed int64
	}{
		{0, 10 * time.Second, 0},
		{9 * time.Second, 10 * time.Second, 0},
		{10 * time.Second, 20 * time.Second, 1},
		{35 * time.Second, 40 * time.Second, 3},
	} {
		next, missed := nextDue(t0, 10*time.Second, t0.Add(tc.late))
		if next.Sub(t0) != tc.wantNext || missed != tc.wantMissed {
			t.Errorf("late %v: next +%v missed %d, want +%v %d", tc.late, next.Sub(t0), missed, tc.wantNext, tc.wantMissed)
		}
	}
	for _, key := range []string{"a", "b", "acme/www"} {
		now := time.Unix(1_000_000, 123)
		d := firstDue(key, 30*time.Second, now)
		if d.Before(now) || !d.Before(now.Add(30*time.Second)) {
			t.Errorf("firstDue(%q) = now+%v, want within [0, 30s)", key, d.Sub(now))
		}
		if d2 := firstDue(key, 30*time.Second, now.Add(7*time.Second)); d2 != d && d2 != d.Add(30*time.Second) {
			t.Errorf("firstDue(%q) moved phase: %v then %v", key, d, d2)
		}
	}
}
