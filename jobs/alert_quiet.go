package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/383project/opsbot/store"
)

// quietAlerts remembers which alerts this process last saw saved settled
// healthy by ObserveSole: not open, no failing run, not muted, and at least RecoverAfter
// passing observations in a row. Another passing observation of such an
// alert changes nothing anyone reads (only its check count and time), so
// Observe skips its transaction: a healthy site costs no alert command.
// Every other write of an alert through the Alerter forgets its mark
// before and after it, and a mark is only set when no other write of the
// key overlapped the one that proved it, so a mark never hides a change
// made in Redis by this process. Forget drops every mark (a replica that
// takes the lead, Redis found to have lost data).
type quietAlerts struct {
	mu       sync.Mutex
	marks    map[string]quietMark
	gen      map[string]uint64 // bumped by every write of the key
	inflight map[string]int    // writes of the key under way
}

// quietMark is a settled alert: its passing run and what it was told of
// its subject (a change of name or channel must be saved).
type quietMark struct {
	successes int
	look      alertLook
}

// alertLook is what describe copies from a subject, when comparable.
type alertLook struct {
	monitor, client, clientName, name, site, url, pagerRef, channel, severity, summary string
}

func lookOf(subj Subject) alertLook {
	return alertLook{subj.Monitor, subj.Client, subj.ClientName, subj.Name, subj.Site, subj.URL, subj.PagerRef,
		subj.Channel, string(subj.Severity), subj.Summary}
}

// settled reports whether a passing observation of subj would change
// nothing anyone reads.
func (q *quietAlerts) settled(subj Subject) bool {
	if subj.Fields != nil || subj.Details != nil {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.marks[subj.Key]
	return ok && m.look == lookOf(subj) && m.successes >= max(subj.Thresholds.RecoverAfter, 1)
}

// begin starts a write of keys: their marks go, and the generation it
// returns tells settle whether another write overlapped.
func (q *quietAlerts) begin(keys ...string) uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.gen == nil {
		q.marks, q.gen, q.inflight = map[string]quietMark{}, map[string]uint64{}, map[string]int{}
	}
	for _, k := range keys {
		delete(q.marks, k)
		q.gen[k]++
		q.inflight[k]++
	}
	return q.gen[keys[0]]
}

// end finishes a write of keys begun with begin; when a is the alert the
// write saved (nil: none, or not an observation), subj's alert is marked
// settled if it is and no other write of it overlapped.
func (q *quietAlerts) end(g uint64, subj *Subject, a *store.Alert, keys ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if subj != nil && a != nil && q.gen[subj.Key] == g && q.inflight[subj.Key] == 1 &&
		!a.Active() && a.Failures == 0 && !a.Muted && a.Successes >= max(subj.Thresholds.RecoverAfter, 1) {
		q.marks[subj.Key] = quietMark{successes: a.Successes, look: lookOf(*subj)}
	}
	for _, k := range keys {
		q.gen[k]++
		if q.inflight[k]--; q.inflight[k] <= 0 {
			delete(q.inflight, k)
		}
	}
}

// forget drops every mark.
func (q *quietAlerts) forget() {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.marks)
}

// quietStore is the Alerter's AlertStore: every write forgets the marks of
// the alerts it writes.
type quietStore struct {
	AlertStore
	q *quietAlerts
}

func (s quietStore) UpdateAlert(ctx context.Context, key string, now time.Time, fn func(a *store.Alert) ([]store.OutboxItem, error)) (store.Alert, error) {
	g := s.q.begin(key)
	defer s.q.end(g, nil, nil, key)
	return s.AlertStore.UpdateAlert(ctx, key, now, fn)
}

func (s quietStore) UpdateAlerts(ctx context.Context, keys []string, now time.Time, fn func(as []*store.Alert) ([]store.OutboxItem, error)) ([]store.Alert, error) {
	g := s.q.begin(keys...)
	defer s.q.end(g, nil, nil, keys...)
	return s.AlertStore.UpdateAlerts(ctx, keys, now, fn)
}

// ObserveSole is Observe for the only observer of subj: the probe engine,
// which runs on one replica at a time under a lease. A passing check of an
// alert it saw saved settled healthy is not written (see quietAlerts):
// nothing anyone reads would change. A monitor that may run on any replica
// (the scheduler's) must use Observe: another replica's failing check would
// be hidden from it.
func (al *Alerter) ObserveSole(ctx context.Context, subj Subject, ok bool, errText string, at time.Time, silenced bool) (store.Transition, error) {
	return al.observe(ctx, subj, ok, errText, at, silenced, true)
}

// Forget makes the Alerter read and write every alert again at its next
// observation: call it when this process starts acting for the others (it
// took the lead) or when Redis may have lost or rolled back data.
func (al *Alerter) Forget() { al.quiet.forget() }
