package jobs

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/383project/opsbot/store"
)

// steadyFlushEvery is how often the newest checks of sites whose state did
// not change are written, together, while WriteBehind runs: status shows a
// response time at most this much later than the check that measured it.
const steadyFlushEvery = time.Second

// steadySites is the uptime monitor's memory of what it last stored, so a
// check that changes no state costs at most one Redis command: the state
// each site was last recorded in (a check in the same state only refreshes
// the site's data), the certificate warnings already queued, and the
// refreshes waiting for the next flush. State changes are never held back:
// they are recorded at once, in full (RecordCheck), after any refresh of
// the same site already on its way.
type steadySites struct {
	mu    sync.Mutex
	state map[string]string // site key → state of its last full record
	// While fenced (WriteBehind runs) a full record in a new state counts
	// only once read back after the probe fence (see Alerter.ConfirmQuiet):
	// until then it waits here, and the site's checks are written in full.
	fenced  bool
	waiting map[string]string
	certs   map[string]bool // certificate warning markers known queued
	pending map[string]store.SiteStatus
	batch   bool // WriteBehind runs: refreshes wait for its flush

	flushing sync.Mutex // held while a flush writes
}

// recorded notes that st was stored in full.
func (s *steadySites) recorded(st store.SiteStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil {
		s.state, s.waiting = map[string]string{}, map[string]string{}
	}
	if !s.fenced || s.state[st.Key] == st.State {
		s.state[st.Key] = st.State
		return
	}
	delete(s.state, st.Key)
	s.waiting[st.Key] = st.State
}

// waitingStates returns the records waiting to be read back.
func (s *steadySites) waitingStates() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.waiting)
}

// confirm makes the waiting records that Redis holds (stored) count, and
// drops those it does not: their next check records them again in full.
func (s *steadySites) confirm(asked, stored map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, want := range asked {
		if s.waiting[k] != want {
			continue // recorded again since: the next read-back sees to it
		}
		delete(s.waiting, k)
		if stored[k] == want {
			s.state[k] = want
		}
	}
}

// fence turns the waiting for read-back on or off (off drops what waits).
func (s *steadySites) fence(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fenced = on
	clear(s.waiting)
}

// unchanged reports whether the site was last recorded in state.
func (s *steadySites) unchanged(key, state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.state[key]
	return ok && got == state
}

// queue holds st for the next flush; false when no flush runs.
func (s *steadySites) queue(st store.SiteStatus) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.batch {
		return false
	}
	if s.pending == nil {
		s.pending = map[string]store.SiteStatus{}
	}
	s.pending[st.Key] = st
	return true
}

// drop discards key's waiting refresh and waits for one being written:
// a full record that follows must not be overwritten by an older check.
func (s *steadySites) drop(key string) {
	s.mu.Lock()
	delete(s.pending, key)
	s.mu.Unlock()
	s.flushing.Lock()
	//lint:ignore SA2001 waiting for a flush under way is the point
	s.flushing.Unlock()
}

// take empties the waiting refreshes.
func (s *steadySites) take() []store.SiteStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.SiteStatus, 0, len(s.pending))
	for _, st := range s.pending {
		out = append(out, st)
	}
	clear(s.pending)
	return out
}

// certQueued reports whether marker's warning is known queued; mark notes it.
func (s *steadySites) certQueued(marker string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certs[marker]
}

func (s *steadySites) markCert(marker string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.certs == nil {
		s.certs = map[string]bool{}
	}
	s.certs[marker] = true
}

// forgetSite makes the site's next check record it in full.
func (s *steadySites) forgetSite(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.state, key)
	delete(s.waiting, key)
}

// batching turns queueing on or off.
func (s *steadySites) batching(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batch = on
}

// forget drops everything remembered but the waiting refreshes.
func (s *steadySites) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.state)
	clear(s.waiting)
	clear(s.certs)
}

// refresh stores the newest check of a site whose state did not change:
// queued for the next flush while WriteBehind runs, else written at once.
func (u *Uptime) refresh(ctx context.Context, st store.SiteStatus) error {
	if u.steady.queue(st) {
		return nil
	}
	return u.touch(ctx, []store.SiteStatus{st})
}

// touch writes refreshes; a site whose record Redis lost is recorded again
// in full, and the alerts are read afresh (Redis may have lost them too).
func (u *Uptime) touch(ctx context.Context, sts []store.SiteStatus) error {
	missing, err := u.st.TouchSites(ctx, sts)
	if err != nil || len(missing) == 0 {
		return err
	}
	u.alerter.Forget()
	byKey := make(map[string]store.SiteStatus, len(sts))
	for _, st := range sts {
		byKey[st.Key] = st
	}
	for _, k := range missing {
		u.steady.forgetSite(k)
		if _, _, err := u.st.RecordCheck(ctx, byKey[k]); err != nil {
			return err
		}
		u.steady.recorded(byKey[k])
	}
	u.log.Warn("site records were missing from Redis: recorded again", "sites", len(missing))
	return nil
}

// probeFence is the write-behind's fence: the token it last stored.
type probeFence struct {
	id    string // this process's, so two writers never store the same token
	n     uint64
	token string
}

// checkFence stores a new fence token each flush and reads back the one it
// replaces. Anything but its own last token means Redis restarted empty or
// went back to an older copy (a failover to a replica that missed writes, a
// restore): what this process skips writing may be gone, so every site and
// alert is written again in full. Records and settled alerts newer than the
// last token are not skipped until read back after this one.
func (u *Uptime) checkFence(ctx context.Context) error {
	f := &u.fence
	if f.id == "" {
		f.id = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	next := f.id + "-" + strconv.FormatUint(f.n+1, 10)
	old, err := u.st.SwapFence(ctx, "probes", next)
	if err != nil {
		return err
	}
	if f.n > 0 && old != f.token {
		u.log.Warn("Redis does not hold what this process wrote a second ago: site and alert records are written again in full")
		u.Forget()
	}
	f.n, f.token = f.n+1, next
	// Read back what was recorded since the last flush, after the fence:
	// a roll-back from now on undoes the fence too, and the next flush sees it.
	if asked := u.steady.waitingStates(); len(asked) > 0 {
		stored, err := u.st.SiteStates(ctx, slices.Collect(maps.Keys(asked)))
		if err != nil {
			return err
		}
		u.steady.confirm(asked, stored)
	}
	return u.alerter.ConfirmQuiet(ctx)
}

// Flush writes the waiting refreshes now.
func (u *Uptime) Flush(ctx context.Context) error {
	u.steady.flushing.Lock()
	defer u.steady.flushing.Unlock()
	return u.touch(ctx, u.steady.take())
}

// Forget makes the next check of every site record it in full and read its
// alert: call it when this process starts checking for the others (it took
// the lead; another replica may have recorded changes since).
func (u *Uptime) Forget() {
	u.steady.forget()
	u.alerter.Forget()
}

// WriteBehind writes the newest checks of sites whose state did not change
// every steadyFlushEvery, in one pipeline, until ctx ends; then it writes
// what is left. While it runs such a check costs one command, in a round
// trip shared with the others of the second.
func (u *Uptime) WriteBehind(ctx context.Context) error {
	u.steady.batching(true)
	u.steady.fence(true)
	u.alerter.FenceQuiet(true)
	defer func() { u.steady.fence(false); u.alerter.FenceQuiet(false) }()
	t := time.NewTicker(steadyFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := u.checkFence(ctx); err != nil {
				u.log.Warn("probe fence not stored", "err", err)
			}
			if err := u.Flush(ctx); err != nil {
				u.log.Warn("site checks not written", "err", err)
			}
		case <-ctx.Done():
			u.steady.batching(false)
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return u.Flush(fctx)
		}
	}
}
