package jobs

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/383project/opsbot/integrations"
)

// ProbeCheck performs one check of a target (run.go adapts httpprobe.Prober
// to it). It must honour ctx and bound its own duration.
type ProbeCheck func(ctx context.Context, key string) integrations.CheckResult

// ProbeTarget is one probe to run every Interval.
type ProbeTarget struct {
	Key      string
	Interval time.Duration
}

// ProbeEngineOptions configure a ProbeEngine. Zero values take the defaults.
type ProbeEngineOptions struct {
	Concurrency int          // checks in flight at most; default 64
	Logger      *slog.Logger // nil discards
	// Now is the clock the schedule is computed with; default time.Now.
	// Waits use real timers, so a replacement must advance with real time.
	Now func() time.Time
	// OnResult receives every result with the time the check was due. It
	// is called from the workers: it must be quick or hand the result off.
	// Results of checks cut short by Run's ctx ending are not delivered.
	OnResult func(key string, res integrations.CheckResult, scheduled time.Time)
}

// DefaultProbeConcurrency bounds checks in flight when
// ProbeEngineOptions.Concurrency is zero.
const DefaultProbeConcurrency = 64

// probeLateAfter is how far past its due time a check may start before it
// counts as late.
const probeLateAfter = time.Second

// probeJitterWindow is how many recent starts JitterP99 is computed over.
const probeJitterWindow = 4096

// ProbeStats is a snapshot of a ProbeEngine's counters.
type ProbeStats struct {
	Targets   int
	Checks    uint64        // checks started
	Late      uint64        // checks started more than 1s after they were due
	Skipped   uint64        // slots not run: the target's previous check was still running, or the engine was more than an interval behind
	InFlight  int           // checks running now
	JitterP99 time.Duration // 99th percentile of start − due over the last 4096 starts
}

// ProbeEngine runs many probes, each on its own fixed interval, with one
// scheduler goroutine (a min-heap of next-due times and one timer) and a
// bounded pool of workers. A target's first check lands at a phase within
// its interval derived from a hash of its key, aligned to the Unix epoch, so
// a large set starts evenly spread, every target is checked within one
// interval of Run (or of being added), and a restart keeps the phases. The
// schedule is fixed: the next check is due one interval after the previous
// due time, whatever the check took; slots missed because the engine fell
// more than an interval behind, or because the target's previous check is
// still running, are skipped rather than run in a burst. The engine keeps
// no history: a target costs a few hundred bytes.
type ProbeEngine struct {
	check ProbeCheck
	o     ProbeEngineOptions
	log   *slog.Logger
	wake  chan struct{} // cap 1: the target set changed

	running  atomic.Bool
	checks   atomic.Uint64
	late     atomic.Uint64
	skipped  atomic.Uint64
	inFlight atomic.Int64

	mu      sync.Mutex
	started bool // Run has placed the targets on its clock
	items   map[string]*probeItem
	queue   probeQueue

	jmu    sync.Mutex
	jitter [probeJitterWindow]time.Duration
	jn     int // starts recorded, total
}

// probeItem is one target's schedule.
type probeItem struct {
	key      string
	interval time.Duration
	due      time.Time
	index    int  // in queue; -1 once removed
	busy     bool // a check is running
}

// probeJob is one check handed to a worker.
type probeJob struct {
	item *probeItem
	due  time.Time
}

// NewProbeEngine returns an engine with no targets; SetTargets, then Run.
func NewProbeEngine(check ProbeCheck, o ProbeEngineOptions) *ProbeEngine {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultProbeConcurrency
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnResult == nil {
		o.OnResult = func(string, integrations.CheckResult, time.Time) {}
	}
	return &ProbeEngine{check: check, o: o, log: o.Logger.With("component", "probes"),
		wake: make(chan struct{}, 1), items: map[string]*probeItem{}}
}

// SetTargets replaces the target set; it may be called at any time (config
// reload). New targets get their hashed phase within their interval,
// removed ones are not checked again (a check already running finishes),
// unchanged ones keep their phase, and one whose interval changed is
// re-phased on the new interval. A later duplicate key replaces an earlier
// one; a target with a non-positive interval is ignored (logged).
func (e *ProbeEngine) SetTargets(ts []ProbeTarget) {
	want := make(map[string]time.Duration, len(ts))
	for _, t := range ts {
		if t.Interval <= 0 {
			e.log.Warn("probe ignored: interval must be positive", "key", t.Key, "interval", t.Interval)
			continue
		}
		want[t.Key] = t.Interval
	}
	e.mu.Lock()
	now := e.o.Now()
	var added, removed, changed int
	for key, it := range e.items {
		if _, ok := want[key]; !ok {
			heap.Remove(&e.queue, it.index)
			delete(e.items, key)
			removed++
		}
	}
	for key, iv := range want {
		it := e.items[key]
		switch {
		case it == nil:
			it = &probeItem{key: key, interval: iv, due: firstDue(key, iv, now)}
			e.items[key] = it
			heap.Push(&e.queue, it)
			added++
		case it.interval != iv:
			it.interval, it.due = iv, firstDue(key, iv, now)
			heap.Fix(&e.queue, it.index)
			changed++
		}
	}
	n := len(e.items)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	e.log.Info("probe targets set", "targets", n, "added", added, "removed", removed, "changed", changed)
}

// Run checks the targets on their intervals until ctx ends, then waits for
// the checks in flight (they see ctx cancelled) and returns nil. Run must be
// called at most once.
func (e *ProbeEngine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("jobs: probe engine already running")
	}
	// Run again after it returns (a replica regaining the lead): the heap
	// keeps each target's slot, and missed slots are skipped.
	defer e.running.Store(false)
	e.mu.Lock()
	if !e.started { // targets set before Run start on Run's clock
		now := e.o.Now()
		for _, it := range e.queue {
			it.due = firstDue(it.key, it.interval, now)
		}
		heap.Init(&e.queue)
		e.started = true
	}
	n := len(e.items)
	e.mu.Unlock()
	e.log.Info("probe engine started", "targets", n, "concurrency", e.o.Concurrency)

	work := make(chan probeJob) // unbuffered: a job waits in the scheduler, not in a queue
	var wg sync.WaitGroup
	for range e.o.Concurrency {
		wg.Go(func() {
			for j := range work {
				e.run(ctx, j)
			}
		})
	}
	e.schedule(ctx, work)
	close(work)
	wg.Wait()
	e.log.Info("probe engine stopped")
	return nil
}

// schedule is the scheduler loop: hand due targets to the workers, sleep
// until the next one is due.
func (e *ProbeEngine) schedule(ctx context.Context, work chan<- probeJob) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		j, wait, ok := e.next()
		if ok {
			select {
			case work <- j:
				continue
			case <-ctx.Done():
				e.mu.Lock()
				j.item.busy = false
				e.mu.Unlock()
				return
			}
		}
		if wait >= 0 {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-e.wake:
		}
	}
}

// next pops the head of the queue if it is due and reschedules it; if it
// is not due, wait is how long until it is (-1: no targets).
func (e *ProbeEngine) next() (j probeJob, wait time.Duration, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for len(e.queue) > 0 {
		it := e.queue[0]
		now := e.o.Now()
		if it.due.After(now) {
			return probeJob{}, it.due.Sub(now), false
		}
		due := it.due
		next, missed := nextDue(due, it.interval, now)
		it.due = next
		heap.Fix(&e.queue, 0)
		if missed > 0 {
			e.skipped.Add(uint64(missed))
		}
		if it.busy {
			e.skipped.Add(1)
			continue
		}
		it.busy = true
		return probeJob{item: it, due: due}, 0, true
	}
	return probeJob{}, -1, false
}

// run performs one check in a worker.
func (e *ProbeEngine) run(ctx context.Context, j probeJob) {
	e.inFlight.Add(1)
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("probe check panicked", "key", j.item.key, "panic", p)
		}
		e.mu.Lock()
		j.item.busy = false
		e.mu.Unlock()
		e.inFlight.Add(-1)
	}()
	e.record(e.o.Now().Sub(j.due))
	res := e.check(ctx, j.item.key)
	if ctx.Err() != nil && res.State == integrations.StateUnknown {
		return // cut short by shutdown: not an observation of the site
	}
	e.o.OnResult(j.item.key, res, j.due)
}

// record counts a start and its jitter.
func (e *ProbeEngine) record(d time.Duration) {
	d = max(d, 0)
	e.checks.Add(1)
	if d > probeLateAfter {
		e.late.Add(1)
	}
	e.jmu.Lock()
	e.jitter[e.jn%probeJitterWindow] = d
	e.jn++
	e.jmu.Unlock()
}

// Stats returns the engine's counters now.
func (e *ProbeEngine) Stats() ProbeStats {
	e.mu.Lock()
	n := len(e.items)
	e.mu.Unlock()
	e.jmu.Lock()
	js := slices.Clone(e.jitter[:min(e.jn, probeJitterWindow)])
	e.jmu.Unlock()
	var p99 time.Duration
	if len(js) > 0 {
		slices.Sort(js)
		p99 = js[(len(js)*99-1)/100]
	}
	return ProbeStats{Targets: n, Checks: e.checks.Load(), Late: e.late.Load(), Skipped: e.skipped.Load(),
		InFlight: int(e.inFlight.Load()), JitterP99: p99}
}

// firstDue is the first time at or after now that is key's phase within
// interval, counting from the Unix epoch.
func firstDue(key string, interval time.Duration, now time.Time) time.Time {
	phase := time.Duration(keyHash(key) % uint64(interval))
	off := time.Duration(now.UnixNano() % int64(interval)) // UnixNano ≥ 0 after 1970
	d := phase - off
	if d < 0 {
		d += interval
	}
	return now.Add(d)
}

// keyHash is FNV-1a of key with a final avalanche (the fmix64 of
// MurmurHash3), so keys differing in one character land far apart.
func keyHash(key string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// nextDue is the first slot after due (on due's grid) that is later than
// now, and how many slots in between were missed.
func nextDue(due time.Time, interval time.Duration, now time.Time) (time.Time, int64) {
	next := due.Add(interval)
	if next.After(now) {
		return next, 0
	}
	missed := int64(now.Sub(next)/interval) + 1
	return next.Add(time.Duration(missed) * interval), missed
}

// probeQueue is a min-heap of targets by due time (container/heap).
type probeQueue []*probeItem

func (q probeQueue) Len() int           { return len(q) }
func (q probeQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q probeQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}

func (q *probeQueue) Push(x any) {
	it := x.(*probeItem)
	it.index = len(*q)
	*q = append(*q, it)
}

func (q *probeQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = nil
	it.index = -1
	*q = old[:len(old)-1]
	return it
}
