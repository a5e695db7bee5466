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
	mu    sync.Mutex
	marks map[string]quietMark
	// While fenced (the probe engine's write-behind runs), a new mark waits
	// in pending until ConfirmQuiet reads the alert back after the probe
	// fence: a Redis roll-back that undid the write which settled the alert
	// must not hide the checks after it.
	fenced   bool
	pending  map[string]quietMark
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
		delete(q.pending, k)
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
		m := quietMark{successes: a.Successes, look: lookOf(*subj)}
		if q.fenced {
			if q.pending == nil {
				q.pending = map[string]quietMark{}
			}
			q.pending[subj.Key] = m
		} else {
			q.marks[subj.Key] = m
		}
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
	clear(q.pending)
}

// fence turns the waiting for confirmation on or off (off drops what waits).
func (q *quietAlerts) fence(on bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.fenced = on
	clear(q.pending)
}

// waiting returns the keys of the marks waiting, with their generations.
func (q *quietAlerts) waiting() map[string]uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[string]uint64, len(q.pending))
	for k := range q.pending {
		out[k] = q.gen[k]
	}
	return out
}

// confirm makes key's waiting mark count when no write of it came since
// generation g and Redis holds the alert as the mark says.
func (q *quietAlerts) confirm(key string, g uint64, a store.Alert) {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.pending[key]
	if !ok || q.gen[key] != g {
		return
	}
	delete(q.pending, key)
	if !a.Active() && a.Failures == 0 && !a.Muted && a.Successes >= m.successes {
		q.marks[key] = m
	}
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

// FenceQuiet makes alerts settled from now on wait for ConfirmQuiet before
// their passing checks are skipped (on), or not (off). The probe engine's
// write-behind turns it on while it keeps the probe fence.
func (al *Alerter) FenceQuiet(on bool) { al.quiet.fence(on) }

// ConfirmQuiet reads back the alerts settled since it last ran and lets
// their passing checks be skipped where Redis still holds them settled.
// Called right after the probe fence was found in place: a roll-back from
// then on also undoes the fence, which the next flush sees.
func (al *Alerter) ConfirmQuiet(ctx context.Context) error {
	for key, g := range al.quiet.waiting() {
		a, _, err := al.raw.GetAlert(ctx, key)
		if err != nil {
			return err
		}
		al.quiet.confirm(key, g, a)
	}
	return nil
}
