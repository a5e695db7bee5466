package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// createProposed stores a new request with a cost-raising proposal.
func createProposed(t *testing.T, ctx context.Context, s *store.Store, at time.Time) string {
	t.Helper()
	id, err := s.NextChangeID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.NewChangeRequest(id, "acme", "Site slow", "Timeouts at peak", "", crRequester, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateChange(ctx, c, item(t, "slack.change", id, "created")); err != nil {
		t.Fatal(err)
	}
	if c.Version != 1 {
		t.Fatalf("created version %d", c.Version)
	}
	if _, err := s.UpdateChange(ctx, id, at, func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
		if err := c.Investigate(crSupport, at); err != nil {
			return nil, err
		}
		return nil, c.Propose(raise(), nil, crSupport, at)
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func approveFn(t *testing.T, by, role string, at time.Time, advanced *atomic.Int32) func(*store.ChangeRequest) ([]store.OutboxItem, error) {
	return func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
		adv, err := c.Approve(approval(by, role, c.Proposal.Version, at), time.Hour, at)
		if err != nil || adv != store.ApprovalCompleted {
			return nil, err
		}
		advanced.Add(1)
		return []store.OutboxItem{item(t, "slack.change.approved", c.ID, "approved")}, nil
	}
}

func TestChangeStoreCreateGetUpdate(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	id1 := createProposed(t, ctx, s, t0)
	if id1 != "CR-1" {
		t.Fatalf("first id %q", id1)
	}
	c, err := s.GetChange(ctx, id1)
	if err != nil || c.State != store.ChangeAwaitingApproval || c.Version != 2 || c.Proposal.DNS.Name != "www.acme.example." {
		t.Fatalf("GetChange = %+v, %v", c, err)
	}
	dup, _ := store.NewChangeRequest(id1, "acme", "t", "p", "", crRequester, t0)
	if err := s.CreateChange(ctx, dup); !errors.Is(err, store.ErrChangeExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	if _, err := s.GetChange(ctx, "CR-404"); !errors.Is(err, store.ErrChangeNotFound) {
		t.Fatalf("GetChange unknown: %v", err)
	}
	called := false
	if _, err := s.UpdateChange(ctx, "CR-404", t0, func(*store.ChangeRequest) ([]store.OutboxItem, error) {
		called = true
		return nil, nil
	}); !errors.Is(err, store.ErrChangeNotFound) || called {
		t.Fatalf("UpdateChange unknown: %v (fn called %v)", err, called)
	}
	// A refused action is returned as it is and saves nothing.
	_, err = s.UpdateChange(ctx, id1, t0, func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
		return nil, c.Schedule(crSupport, t0)
	})
	if !errors.Is(err, store.ErrWrongState) || err.Error() != "cannot schedule a request that is awaiting approval" {
		t.Fatalf("refused update: %v", err)
	}
	if c2, _ := s.GetChange(ctx, id1); c2.Version != 2 {
		t.Fatalf("refused update saved: version %d", c2.Version)
	}

	id2 := createProposed(t, ctx, s, t0)
	if _, err := s.UpdateChange(ctx, id2, t0, func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
		return nil, c.Cancel(crRequester, "not needed", t0)
	}); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenChanges(ctx)
	if err != nil || len(open) != 1 || open[0].ID != id1 {
		t.Fatalf("OpenChanges = %+v, %v", open, err)
	}
}

// TestChangeConcurrentApprovers: stakeholder and finance submit at the same
// moment; both approvals are recorded once and the request advances once.
func TestChangeConcurrentApprovers(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	for round := range 10 {
		id := createProposed(t, ctx, s, t0)
		var advanced, calls atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, ap := range []struct{ by, role string }{{crStakeholder, "stakeholder"}, {crFinance, "finance"}} {
			fn := approveFn(t, ap.by, ap.role, t0.Add(time.Minute), &advanced)
			wg.Go(func() {
				<-start
				_, err := s.UpdateChange(ctx, id, t0, func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
					if calls.Add(1) <= 2 {
						time.Sleep(20 * time.Millisecond) // both read the same version
					}
					return fn(c)
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		c, err := s.GetChange(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != store.ChangeApproved || len(c.Approvals) != 2 || advanced.Load() != 1 {
			t.Fatalf("round %d: state %s, approvals %+v, advanced %d times", round, c.State, c.Approvals, advanced.Load())
		}
		if calls.Load() < 3 {
			t.Fatalf("round %d: fn ran %d times; the conflict was not exercised", round, calls.Load())
		}
		toApproved := 0
		for _, e := range c.History {
			if e.To == store.ChangeApproved && e.From != store.ChangeApproved {
				toApproved++
			}
		}
		if toApproved != 1 {
			t.Fatalf("round %d: %d transitions to approved", round, toApproved)
		}
		if q := rdb.LLen(ctx, "opsbot:outbox:q:slack.change.approved|"+id).Val(); q != 1 {
			t.Fatalf("round %d: %d approved announcements queued, want 1", round, q)
		}
	}
}

// TestChangeApprovalSurvivesRedisRestart: Redis crashes between the two
// approvals; the first is not lost and the second completes the set.
func TestChangeApprovalSurvivesRedisRestart(t *testing.T) {
	ctx := context.Background()
	srv := redistest.StartPersistent(t)
	s := store.New(srv.Client(t), "opsbot:")
	id := createProposed(t, ctx, s, t0)
	var advanced atomic.Int32
	if _, err := s.UpdateChange(ctx, id, t0, approveFn(t, crStakeholder, "stakeholder", t0.Add(time.Minute), &advanced)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_, err := s.UpdateChange(ctx, id, t0, approveFn(t, crFinance, "finance", t0.Add(2*time.Minute), &advanced))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("approval while Redis is down: %v, want ErrUnavailable", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetChange(ctx, id)
	if err != nil || len(c.Approvals) != 1 || c.Approvals[0].By != crStakeholder {
		t.Fatalf("after restart: %+v, %v", c.Approvals, err)
	}
	c, err = s.UpdateChange(ctx, id, t0, approveFn(t, crFinance, "finance", t0.Add(3*time.Minute), &advanced))
	if err != nil || c.State != store.ChangeApproved || len(c.Approvals) != 2 || advanced.Load() != 1 {
		t.Fatalf("after restart: %s, %+v, %v, advanced %d", c.State, c.Approvals, err, advanced.Load())
	}
}

func TestChangeLogByMonth(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	oct := time.Date(2026, 10, 30, 12, 0, 0, 0, time.UTC)
	nov := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	update := func(id string, fn func(c *store.ChangeRequest) error) {
		t.Helper()
		if _, err := s.UpdateChange(ctx, id, nov, func(c *store.ChangeRequest) ([]store.OutboxItem, error) { return nil, fn(c) }); err != nil {
			t.Fatal(err)
		}
	}
	// CR-1: rejected in October.
	rejected := createProposed(t, ctx, s, oct.Add(-time.Hour))
	update(rejected, func(c *store.ChangeRequest) error {
		return c.Reject(store.Approval{By: crFinance, Role: "finance", ProposalVersion: 1, Comment: "over budget"}, oct)
	})
	// CR-2: done in November, through every step.
	done := createProposed(t, ctx, s, oct)
	update(done, func(c *store.ChangeRequest) error {
		for i, ap := range []struct{ by, role string }{{crStakeholder, "stakeholder"}, {crFinance, "finance"}} {
			if _, err := c.Approve(approval(ap.by, ap.role, 1, oct.Add(time.Duration(i)*time.Hour)), 0, oct.Add(time.Duration(i)*time.Hour)); err != nil {
				return err
			}
		}
		smokeWaived := func(by string, at time.Time) error {
			if err := c.SmokeTest(by, at); err != nil {
				return err
			}
			return c.Waive(by, "checked by hand", at)
		}
		for i, step := range []func(string, time.Time) error{c.Schedule, c.Provision, smokeWaived, c.CutOver, c.Verify, c.Retire, c.Close} {
			if err := step(crSupport, nov.Add(time.Duration(i)*time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	// CR-3: cancelled in November.
	cancelled := createProposed(t, ctx, s, nov)
	update(cancelled, func(c *store.ChangeRequest) error {
		return c.Cancel(crRequester, "fixed by a deploy", nov.Add(48*time.Hour))
	})

	// A repeated append (a retried delivery) adds nothing.
	c, err := s.GetChange(ctx, done)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendChangeLog(ctx, c, "", nov.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	octLog, err := s.ChangeLog(ctx, "2026-10")
	if err != nil || len(octLog) != 1 {
		t.Fatalf("October log = %+v, %v", octLog, err)
	}
	if e := octLog[0]; e.ID != rejected || e.Outcome != "rejected" || e.Reason != "over budget" || e.RejectedBy != crFinance || !e.FinishedAt.Equal(oct) {
		t.Fatalf("October entry = %+v", e)
	}
	novLog, err := s.ChangeLog(ctx, "2026-11")
	if err != nil || len(novLog) != 2 {
		t.Fatalf("November log = %+v, %v", novLog, err)
	}
	e := novLog[0]
	if e.ID != done || e.Outcome != "done" || e.Client != "acme" || e.Title != "Site slow" || e.Requester != crRequester ||
		e.Proposer != crSupport || e.ApproverNames() != "USTAKE (stakeholder), UFIN (finance)" ||
		e.CurrentMonthly != 66000 || e.ProposedMonthly != 78000 || e.Delta != "+$120.00/month (+18 %)" ||
		e.Magnitude != store.MagnitudeMajor || !e.RequestedAt.Equal(oct) || !e.ApprovedAt.Equal(oct.Add(time.Hour)) ||
		!e.CutOverAt.Equal(nov.Add(3*time.Hour)) || !e.FinishedAt.Equal(nov.Add(6*time.Hour)) ||
		!e.WindowStart.Equal(crAt(48)) || e.StreamID == "" {
		t.Fatalf("November done entry = %+v", e)
	}
	if e := novLog[1]; e.ID != cancelled || e.Outcome != "cancelled" || e.Reason != "fixed by a deploy" {
		t.Fatalf("November cancelled entry = %+v", e)
	}
	if got, err := s.ChangeLog(ctx, "2026-09"); err != nil || len(got) != 0 {
		t.Fatalf("empty month = %+v, %v", got, err)
	}
	for _, bad := range []string{"2026-13", "2026-1", "nov", ""} {
		if _, err := s.ChangeLog(ctx, bad); err == nil {
			t.Errorf("ChangeLog(%q) accepted", bad)
		}
	}
	// An entry appended by hand for a request not otherwise logged.
	extra, _ := store.NewChangeRequest("CR-99", "beta", "Old box", "p", "", "U9", nov)
	if err := s.AppendChangeLog(ctx, *extra, "cancelled", nov.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if novLog, _ = s.ChangeLog(ctx, "2026-11"); len(novLog) != 3 || novLog[2].ID != "CR-99" {
		t.Fatalf("after manual append: %+v", novLog)
	}
	if err := s.AppendChangeLog(ctx, *extra, "", nov); !errors.Is(err, store.ErrInvalidChange) {
		t.Fatalf("append of an open request without outcome: %v", err)
	}
}
