package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// tick is what one pass of the follower has read from the scanner, each
// at most once: the profiles (how their last scans ended) and the findings.
type tick struct {
	s        *Scans
	now      time.Time
	profiles map[string]integrations.ScanProfile
	findings []integrations.Finding
	fErr     error
	fRead    bool
}

// Run follows every running scan one step: polls the scanner, updates each
// scan's message when something changed, applies the findings of scans that
// ended, and ends the acceptances that ran out.
func (s *Scans) Run(ctx context.Context) error {
	t := &tick{s: s, now: s.o.Now()}
	runs, err := s.st.ActiveScanRuns(ctx)
	if err != nil {
		return fmt.Errorf("scans: %w", err)
	}
	var errs []error
	for _, r := range runs {
		if err := t.follow(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("scan of %s: %w", r.Client, err))
		}
	}
	if err := s.expireAcceptances(ctx, t.now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// follow moves one run on.
func (t *tick) follow(ctx context.Context, r store.ScanRun) error {
	s := t.s
	cl, ok := s.clients[r.Client]
	if !ok {
		return t.finish(ctx, r, func(r *store.ScanRun) {
			r.Status, r.Error = store.ScanFailed, "the client no longer has Detectify profiles in opsbot.yaml"
		})
	}
	if t.now.Sub(r.Started) > s.o.MaxRunTime {
		return t.finish(ctx, r, func(r *store.ScanRun) {
			r.Status, r.Error = store.ScanFailed, "still not finished after "+human(s.o.MaxRunTime)+"; gave up following it"
		})
	}
	next := r
	next.Profiles = append([]store.ScanProfileRun(nil), r.Profiles...)
	for i := range next.Profiles {
		if err := t.poll(ctx, r, &next.Profiles[i]); err != nil {
			return err
		}
	}
	if !next.ProfilesDone() {
		if !sameProgress(r, next) {
			return t.save(ctx, cl, next)
		}
		return nil
	}
	findings, err := t.readFindings(ctx)
	if err != nil {
		// Kept running: the next pass reads them again.
		next.Error = "the scan ended, but reading its findings failed (" + startTrouble(err) + "); trying again"
		if next.Error != r.Error || !sameProgress(r, next) {
			return errors.Join(err, t.save(ctx, cl, next))
		}
		return err
	}
	sum, err := s.apply(ctx, cl, next, findings, t.profiles, t.now)
	if err != nil {
		return err
	}
	next.Status, next.Ended, next.Summary, next.Error = store.ScanDone, t.now, &sum, ""
	return t.save(ctx, cl, next)
}

// poll asks the scanner about one profile of the run, unless it is done.
func (t *tick) poll(ctx context.Context, r store.ScanRun, p *store.ScanProfileRun) error {
	if p.Done {
		return nil
	}
	st, err := t.s.src.ScanStatus(ctx, p.Token)
	if err != nil {
		if ok, _ := integrations.IsRetryable(err); ok {
			return nil // asked again at the next pass
		}
		return err
	}
	if st.Running {
		p.Phase, p.State = st.Phase, st.State
		return nil
	}
	if err := t.readProfiles(ctx); err != nil {
		return err
	}
	latest := t.profiles[p.Token].Latest
	// The scan this run started (or followed) ended after the run began;
	// an older finished scan means ours has not shown up yet.
	switch {
	case !latest.Ended.IsZero() && latest.Ended.After(r.Started.Add(-time.Minute)):
		p.Done, p.Outcome, p.Ended, p.Phase, p.State = true, latest.Status, latest.Ended, "", ""
	case t.now.Sub(r.Started) > t.s.o.ProfileGrace:
		p.Done, p.Outcome, p.Ended = true, "ended without a report", t.now
	}
	return nil
}

func (t *tick) readProfiles(ctx context.Context) error {
	if t.profiles != nil {
		return nil
	}
	ps, err := t.s.src.Profiles(ctx)
	if err != nil {
		return err
	}
	t.profiles = map[string]integrations.ScanProfile{}
	for _, p := range ps {
		t.profiles[p.Token] = p
	}
	return nil
}

// readFindings reads every finding of the team once per pass, with the
// profiles they are matched to.
func (t *tick) readFindings(ctx context.Context) ([]integrations.Finding, error) {
	if !t.fRead {
		t.fRead = true
		if t.fErr = t.readProfiles(ctx); t.fErr == nil {
			t.findings, t.fErr = t.s.src.Findings(ctx)
		}
	}
	return t.findings, t.fErr
}

// sameProgress reports whether nothing shown in the message changed.
func sameProgress(a, b store.ScanRun) bool {
	if len(a.Profiles) != len(b.Profiles) || a.Error != b.Error || a.Status != b.Status {
		return false
	}
	for i := range a.Profiles {
		if a.Profiles[i] != b.Profiles[i] {
			return false
		}
	}
	return true
}

// save stores next as the client's run, with its message as it now reads.
func (t *tick) save(ctx context.Context, cl ScanClient, next store.ScanRun) error {
	_, err := t.s.st.UpdateScanRun(ctx, cl.Key, t.now, func(r *store.ScanRun) ([]store.OutboxItem, error) {
		if r.ID != next.ID {
			return nil, nil // another run took its place meanwhile
		}
		version := r.Version
		*r = next
		r.Version = version
		it, err := t.s.message(cl, *r, t.now)
		return []store.OutboxItem{it}, err
	})
	if err == nil && t.s.o.Nudge != nil {
		t.s.o.Nudge()
	}
	return err
}

// finish ends a run that cannot go on.
func (t *tick) finish(ctx context.Context, r store.ScanRun, end func(*store.ScanRun)) error {
	cl, ok := t.s.clients[r.Client]
	if !ok {
		cl = ScanClient{Key: r.Client, Name: r.Client}
	}
	end(&r)
	r.Ended = t.now
	return t.save(ctx, cl, r)
}
