package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts 5-field specs ("*/5 * * * *"), 6-field specs with leading
// seconds ("*/10 * * * * *") and descriptors ("@hourly", "@every 30s").
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parse turns spec into a Schedule whose fire times are the same on every
// replica. Cron specs are already wall-clock based. "@every d" in robfig/cron
// counts from when each process started, so two replicas would fire at
// different instants and both run; it is replaced by every, aligned to
// multiples of d since the zero time (for d dividing a day: UTC midnight).
func parse(spec string) (cron.Schedule, error) {
	sched, err := parser.Parse(spec)
	if err != nil {
		return nil, err
	}
	if c, ok := sched.(cron.ConstantDelaySchedule); ok {
		return every(c.Delay), nil
	}
	return sched, nil
}

// every fires at each multiple of its duration (at least one second).
type every time.Duration

// Next returns the first multiple of the interval strictly after t.
func (e every) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.Truncate(d).Add(d)
}

// fireSchedule remembers the fire times it handed to cron, so a run can learn
// which scheduled time it belongs to. robfig/cron does not pass the fire time
// to the job: it calls Next(now) for each entry, sleeps until the earliest
// one, starts the due jobs in goroutines and then calls Next(wake time) for
// the following fire. The fire time of a run started at now is therefore the
// latest recorded time that is not after now. It is a whole second (cron
// specs have one-second resolution and every is whole seconds) and it is the
// same on every replica whatever their clock skew or wake-up lag, which is
// what makes "fire:<job>:<unix>" a cross-replica key for this fire.
type fireSchedule struct {
	cron.Schedule

	mu     sync.Mutex
	recent [4]time.Time // ring of the latest Next results
	n      int
}

// Next implements cron.Schedule and records the result.
func (f *fireSchedule) Next(t time.Time) time.Time {
	next := f.Schedule.Next(t)
	f.mu.Lock()
	f.recent[f.n%len(f.recent)] = next
	f.n++
	f.mu.Unlock()
	return next
}

// fireTime returns the scheduled time of a run starting at now. If a run
// started so late that the next fire time also passed (a goroutine delayed
// by a whole interval), it takes that later time, so the later fire is
// deduplicated: a fire can be lost that way, never run twice.
func (f *fireSchedule) fireTime(now time.Time) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var best time.Time
	for _, t := range f.recent {
		if !t.IsZero() && !t.After(now) && t.After(best) {
			best = t
		}
	}
	if best.IsZero() {
		best = now.Truncate(time.Second)
	}
	return best
}

// cronLogger adapts slog to cron.Logger. cron's chatty Info lines (start,
// wake, schedule, skip) go to Debug; its keys are already snake_case.
type cronLogger struct{ log *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	c.log.Log(context.Background(), slog.LevelDebug, "cron "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.log.Log(context.Background(), slog.LevelError, "cron "+msg, append([]any{"err", err}, kv...)...)
}

type fireKey struct{}

// FireTime returns the scheduled time of the fire a Run belongs to (whole
// seconds, the Scheduler's location), or false for a RunNow run. Reports use
// it to stamp "as of" times that are the same whichever replica ran them.
func FireTime(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(fireKey{}).(time.Time)
	return t, ok
}
