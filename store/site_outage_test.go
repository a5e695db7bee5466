package store_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

// refOutage adds up down and unknown time between from and to over a full
// list of changes, oldest first, as the SLA always has (periods from each
// change to the next; time before the first change counts as neither).
func refOutage(changes []store.StateChange, from, to time.Time) (down, unknown time.Duration) {
	for i, c := range changes {
		start, end := c.At, to
		if i+1 < len(changes) && changes[i+1].At.Before(to) {
			end = changes[i+1].At
		}
		if start.Before(from) {
			start = from
		}
		if !end.After(start) {
			continue
		}
		switch c.State {
		case "up":
		case "down":
			down += end.Sub(start)
		default:
			unknown += end.Sub(start)
		}
	}
	return down, unknown
}

// flap records checks of key from start: runs of steady checks and bursts
// of flapping, irregular intervals, up, down and unknown. It returns the
// changes it caused, oldest first, and the time of the last check.
func flap(t testing.TB, s *store.Store, key string, start time.Time, checks int, seed uint64) ([]store.StateChange, time.Time) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 1))
	var changes []store.StateChange
	at, state := start, ""
	for range checks {
		next := []string{"up", "up", "up", "down", "unknown"}[r.IntN(5)]
		if r.IntN(3) == 0 { // flapping burst: alternate every 10 s
			next = map[string]string{"up": "down", "down": "up", "unknown": "up", "": "up"}[state]
		}
		changed, _, err := s.RecordCheck(ctx, store.SiteStatus{Key: key, State: next, LastChecked: at})
		if err != nil {
			t.Fatal(err)
		}
		if changed != (next != state) {
			t.Fatalf("at %s: changed = %v, state %q → %q", at, changed, state, next)
		}
		if changed {
			changes = append(changes, store.StateChange{State: next, At: at})
		}
		state = next
		at = at.Add(time.Duration(10+r.IntN(3)*r.IntN(600)) * time.Second)
	}
	return changes, at
}

// The outage record sums to the millisecond what the full list of changes
// says, for a month starting at a half-hour offset (Kolkata), whatever the
// site did; the raw changes kept are bounded.
func TestOutageMatchesEveryChange(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	kolkata := time.FixedZone("IST", 5*3600+1800)
	monthStart := time.Date(2026, 12, 1, 0, 0, 0, 0, kolkata)
	changes, end := flap(t, s, "uptime/acme/www", monthStart.Add(-26*time.Hour), 1500, 7)
	if len(changes) < 500 || !end.After(monthStart.Add(24*time.Hour)) {
		t.Fatalf("scenario too tame: %d changes until %s", len(changes), end)
	}
	last := changes[len(changes)-1].At
	for _, c := range []struct{ from, to time.Time }{
		{monthStart, last},
		{monthStart, last.Add(17*time.Minute + 3*time.Millisecond)},
		{monthStart.Add(-24 * time.Hour), last.Add(time.Hour)},
		{monthStart.Add(-30 * time.Hour), last},
	} {
		down, unknown, err := s.Outage(ctx, "uptime/acme/www", c.from, c.to)
		if err != nil {
			t.Fatal(err)
		}
		wd, wu := refOutage(changes, c.from, c.to)
		if down != wd || unknown != wu {
			t.Errorf("Outage(%s, %s) = %s down, %s unknown; want %s, %s", c.from, c.to, down, unknown, wd, wu)
		}
	}
	if n := rdb.ZCard(ctx, "opsbot:site:uptime/acme/www:changes").Val(); n > 64 {
		t.Errorf("%d raw changes kept, want at most 64", n)
	}
}

// Changes recorded by an older opsbot (raw changes only, no outage record)
// still count: the month adds them up to the first change recorded now.
func TestOutageCountsChangesRecordedBefore(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	key := "uptime/acme/www"
	monthStart := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var changes []store.StateChange
	at := monthStart.Add(-3 * time.Hour)
	for i := range 1200 { // more than one page of the old history
		st := []string{"up", "down", "unknown"}[i%3]
		changes = append(changes, store.StateChange{State: st, At: at})
		rdb.ZAdd(ctx, "opsbot:site:"+key+":changes", redis.Z{Score: float64(at.UnixMilli()), Member: st + "|" + strconv.FormatInt(at.UnixMilli(), 10)})
		at = at.Add(time.Duration(10+i%7) * time.Second)
	}
	prev := changes[len(changes)-1]
	rdb.HSet(ctx, "opsbot:site:"+key, "state", prev.State, "since", prev.At.UnixMilli(), "data", "{}")
	more, last := flap(t, s, key, at, 300, 3)
	if more[0].State == prev.State {
		more = more[1:] // not a change after all
	}
	changes = append(changes, more...)
	for _, to := range []time.Time{prev.At.Add(time.Second), last} {
		down, unknown, err := s.Outage(ctx, key, monthStart, to)
		if err != nil {
			t.Fatal(err)
		}
		if wd, wu := refOutage(changes, monthStart, to); down != wd || unknown != wu {
			t.Errorf("Outage until %s = %s down, %s unknown; want %s, %s", to, down, unknown, wd, wu)
		}
	}
}

// siteBytes is what Redis holds for one site: its record, its raw changes
// and its outage record (MEMORY USAGE, all samples).
func siteBytes(t testing.TB, rdb *redis.Client, key string) int64 {
	t.Helper()
	var total int64
	for _, k := range []string{"opsbot:site:" + key, "opsbot:site:" + key + ":changes", "opsbot:site:" + key + ":outage"} {
		n, err := rdb.MemoryUsage(context.Background(), k, 0).Result()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// A site that flaps every 10 s for six hours holds a few kilobytes (it held
// a raw change per check before: ~270 KB), and its uptime is still exact.
func TestFlappingSiteStaysSmall(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	key := "uptime/acme/flappy"
	var changes []store.StateChange
	at := t0
	for i := range 6 * 360 {
		st := []string{"up", "down"}[i%2]
		if _, _, err := s.RecordCheck(ctx, store.SiteStatus{Key: key, State: st, LastChecked: at}); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, store.StateChange{State: st, At: at})
		at = at.Add(10 * time.Second)
	}
	if n := siteBytes(t, rdb, key); n > 6000 {
		t.Errorf("six hours of flapping hold %d bytes, want at most 6,000", n)
	}
	from := t0.Truncate(24 * time.Hour)
	down, _, err := s.Outage(ctx, key, from, at)
	if err != nil {
		t.Fatal(err)
	}
	if wd, _ := refOutage(changes, from, at); down != wd || down != 3*time.Hour {
		t.Errorf("down %s, want %s (3h)", down, wd)
	}
}

// BenchmarkFlappingMonth: one site whose result alternates at every 10 s
// check for 31 days (267,840 checks, injected clock), then what Redis holds
// for it and what reading its month costs.
//
//	go test -run '^$' -bench FlappingMonth -benchtime 1x ./store/   # 1-2 min: 267,840 checks
func BenchmarkFlappingMonth(b *testing.B) {
	ctx := context.Background()
	rdb := redistest.Start(b).Client(b)
	s := store.New(rdb, "opsbot:")
	key := "uptime/acme/flappy"
	monthStart := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := monthStart
	for i := 0; at.Before(monthStart.AddDate(0, 1, 0)); i++ {
		if _, _, err := s.RecordCheck(ctx, store.SiteStatus{Key: key, State: []string{"up", "down"}[i%2], LastChecked: at}); err != nil {
			b.Fatal(err)
		}
		at = at.Add(10 * time.Second)
	}
	b.ResetTimer()
	var down time.Duration
	for range b.N {
		var err error
		if down, _, err = s.Outage(ctx, key, monthStart, at); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if down != at.Sub(monthStart)/2 {
		b.Fatalf("down %s, want half of %s", down, at.Sub(monthStart))
	}
	b.ReportMetric(float64(siteBytes(b, rdb, key)), "site-bytes")
}
