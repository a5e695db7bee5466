package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

// sourceCheck stands in for a verification source: it answers res, like a
// real source it answers "timed out" when its ctx is spent, and it waits
// for gate (when set) before answering.
type sourceCheck struct {
	mu    sync.Mutex
	calls int
	res   store.CheckResult
	gate  chan struct{}
}

func (s *sourceCheck) Check(ctx context.Context, _ string) store.CheckResult {
	s.mu.Lock()
	s.calls++
	res, gate := s.res, s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	if err := ctx.Err(); err != nil {
		return store.CheckResult{State: store.ItemFailing, Detail: "timed out: " + err.Error()}
	}
	return res
}

func (s *sourceCheck) set(res store.CheckResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.res = res
}

func (s *sourceCheck) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

var launchTemplate = []store.ItemSpec{
	{Key: "quoted", Title: "Provisioned as quoted", Kind: store.ItemKindVerified, Check: "quoted"},
	{Key: "pipeline", Title: "Deployment pipeline tested", Kind: store.ItemKindVerified, Check: "pipeline"},
	{Key: "compliance", Title: "Compliance reviewed", Kind: store.ItemKindAttested, Role: store.Security},
}

// checklistFixture opens L-1 for acme (by admin, in C0OPS0001) with a
// verified item per source and one attested item, ticked; the sources
// answer verified until a test says otherwise.
func checklistFixture(t *testing.T, wrap func(*store.Store) commands.ChecklistStore) (*fixture, map[string]*sourceCheck) {
	return checklistFixtureWith(t, launchTemplate, wrap, nil)
}

func checklistFixtureWith(t *testing.T, template []store.ItemSpec, wrap func(*store.Store) commands.ChecklistStore, with func(*commands.Deps)) (*fixture, map[string]*sourceCheck) {
	t.Helper()
	sources := map[string]*sourceCheck{
		"quoted":   {res: store.CheckResult{State: store.ItemVerified, Detail: "forecast $1,020.00 within 15 % of the quote"}},
		"pipeline": {res: store.CheckResult{State: store.ItemVerified, Detail: "main@abc1234 passed (ci/deploy)"}},
	}
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Checklists, d.StepLeases = st, st
		if wrap != nil {
			d.Checklists = wrap(st)
		}
		checks := map[string]commands.ChecklistCheck{}
		for k, s := range sources {
			checks[k] = s
		}
		d.ChecklistSettings = commands.ChecklistSettings{Templates: map[string][]store.ItemSpec{"default": template}, Checks: checks,
			Budget: time.Minute, Announce: func(string) []string { return []string{"C0SUPPORT", "C0ACMEGEN"} }}
		if with != nil {
			with(d)
		}
	})
	if got := text(f.run(admin, "checklist new acme")); !strings.Contains(got, "L-1 opened") {
		t.Fatalf("checklist new: %s", got)
	}
	if _, err := f.st.GetChecklist(context.Background(), "L-1"); err != nil {
		t.Fatal(err)
	}
	if template[len(template)-1].Key == "compliance" {
		if got := text(f.click(admin, "checklist.attest", "L-1|compliance")); !strings.Contains(got, "ticked") {
			t.Fatalf("tick: %s", got)
		}
	}
	return f, sources
}

func waitRunEnded(t *testing.T, f *fixture, within time.Duration) store.Checklist {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		cl, err := f.st.GetChecklist(context.Background(), "L-1")
		if err != nil {
			t.Fatal(err)
		}
		if cl.Run == nil {
			return cl
		}
		if time.Now().After(deadline) {
			t.Fatalf("re-verification still running after %v: %+v\nlogs:\n%s", within, *cl.Run, f.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// queued returns the payloads of the outbox items of kind queued so far.
func queued[T any](t *testing.T, f *fixture, kind string) []T {
	t.Helper()
	var out []T
	for _, it := range f.queuedItems(t) {
		if it.Kind != kind {
			continue
		}
		var p T
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func threadHas(t *testing.T, f *fixture, want string) bool {
	t.Helper()
	for _, p := range queued[store.ChangeThread](t, f, store.KindChecklistThread) {
		if strings.Contains(p.Text, want) {
			return true
		}
	}
	return false
}

// A sign-off refused after its re-verification is told to the admin who
// clicked, alone and where they clicked, naming each red item with what is
// wrong; the message and thread show it too.
func TestChecklistSignOffRefusedAfterReverifyTellsTheClicker(t *testing.T) {
	t.Parallel()
	f, sources := checklistFixture(t, nil)
	runSteps(t, f)
	sources["pipeline"].set(store.CheckResult{State: store.ItemFailing, Detail: "main@abc1234 failed: ci/deploy"})
	if got := text(f.click(admin, "checklist.signoff", "L-1")); !strings.Contains(got, "Re-verifying L-1 before the sign-off") {
		t.Fatalf("sign-off click: %s", got)
	}
	if cl := waitRunEnded(t, f, 10*time.Second); cl.SignedOff() {
		t.Fatal("signed off with a failing item")
	}
	told := queued[store.EphemeralPayload](t, f, store.KindSlackEphemeral)
	if len(told) != 1 {
		t.Fatalf("the clicker was told %d time(s): %+v", len(told), told)
	}
	if p := told[0]; p.User != admin || p.Channel != "C0SUPPORT" || !strings.Contains(p.Text, "Sign-off of L-1 refused") ||
		!strings.Contains(p.Text, "❌ *Deployment pipeline tested* — main@abc1234 failed: ci/deploy") || strings.Contains(p.Text, "Provisioned as quoted") {
		t.Fatalf("told: %+v", p)
	}
	if !threadHas(t, f, "refused: held back by Deployment pipeline tested") {
		t.Fatal("the refusal is not in the thread")
	}
	if posts := queued[store.PostPayload](t, f, store.KindSlackPost); len(posts) != 0 {
		t.Fatalf("a refused sign-off was announced: %+v", posts)
	}
}

// The admin who clicked Sign off lost the role while the items ran: the run
// ends all the same (it was carried again and again before) and they are
// told why.
func TestChecklistSignOffBySomeoneNoLongerAdminEndsTheRun(t *testing.T) {
	t.Parallel()
	f, sources := checklistFixture(t, nil)
	const carol = "UCAROL0001"
	f.grant(t, carol, store.Grant{Role: store.Admin})
	gate := make(chan struct{})
	sources["quoted"].gate = gate
	runSteps(t, f)
	if got := text(f.click(carol, "checklist.signoff", "L-1")); !strings.Contains(got, "Re-verifying") {
		t.Fatalf("sign-off click: %s", got)
	}
	if _, err := f.st.Revoke(context.Background(), admin, carol, store.Grant{Role: store.Admin}, time.Now()); err != nil {
		t.Fatal(err)
	}
	close(gate)
	if cl := waitRunEnded(t, f, 10*time.Second); cl.SignedOff() {
		t.Fatal("signed off by someone who is no longer an admin")
	}
	told := queued[store.EphemeralPayload](t, f, store.KindSlackEphemeral)
	if len(told) != 1 || told[0].User != carol || !strings.Contains(told[0].Text, "Only an admin signs a launch off") {
		t.Fatalf("told: %+v", told)
	}
}

// A re-verification taken up after its budget ran out (every replica was
// down) reads each source once more and records what it says, rather than
// recording every item as timed out.
func TestChecklistRunPastItsBudgetReadsEachSourceOnce(t *testing.T) {
	t.Parallel()
	f, sources := checklistFixture(t, nil)
	now := time.Now()
	if _, err := f.st.UpdateChecklist(context.Background(), "L-1", now, func(cl *store.Checklist) ([]store.OutboxItem, error) {
		cl.Run = &store.ChecklistRun{By: admin, Channel: "C0SUPPORT", Started: now.Add(-20 * time.Minute), Deadline: now.Add(-5 * time.Minute), Runs: 1, Done: 1}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	runSteps(t, f)
	cl := waitRunEnded(t, f, 45*time.Second)
	for _, key := range []string{"quoted", "pipeline"} {
		it, _ := cl.Item(key)
		if it.State != store.ItemVerified || it.Detail != sources[key].res.Detail {
			t.Errorf("%s after the resume: %s %q", key, it.State, it.Detail)
		}
		if n := sources[key].count(); n != 1 {
			t.Errorf("%s read %d times, want once", key, n)
		}
	}
	if !threadHas(t, f, "re-verification resumed") {
		t.Error("the resume is not in the thread")
	}
	entries, err := f.st.RecentAudit(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	resumed := false
	for _, e := range entries {
		resumed = resumed || e.Action == "checklist.run_resumed"
	}
	if !resumed {
		t.Errorf("the resume is not audited: %+v", entries)
	}
}

// crashAfterSignOff is the store of a replica that dies right after saving
// a sign-off: every later update fails.
type crashAfterSignOff struct {
	*store.Store
	mu      sync.Mutex
	crashed bool
}

func (c *crashAfterSignOff) UpdateChecklist(ctx context.Context, id string, now time.Time, fn func(*store.Checklist) ([]store.OutboxItem, error)) (store.Checklist, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return store.Checklist{}, errors.New("replica gone")
	}
	cl, err := c.Store.UpdateChecklist(ctx, id, now, fn)
	c.crashed = cl.SignedOff()
	return cl, err
}

// The sign-off's announcements are queued with the sign-off itself: a
// replica dying right after saving it loses none.
func TestChecklistSignOffAnnouncedInItsOwnTransaction(t *testing.T) {
	t.Parallel()
	f, _ := checklistFixture(t, func(st *store.Store) commands.ChecklistStore { return &crashAfterSignOff{Store: st} })
	runSteps(t, f)
	if got := text(f.click(admin, "checklist.signoff", "L-1")); !strings.Contains(got, "Re-verifying") {
		t.Fatalf("sign-off click: %s", got)
	}
	if cl := waitRunEnded(t, f, 10*time.Second); !cl.SignedOff() {
		t.Fatalf("not signed off: %s", store.BlockerTitles(cl.Blockers(time.Now())))
	}
	var to []string
	for _, p := range queued[store.PostPayload](t, f, store.KindSlackPost) {
		if strings.Contains(p.Text, "Launch L-1 of Acme Ltd signed off by <@"+admin+">") {
			to = append(to, p.Channel)
		}
	}
	if strings.Join(to, ",") != "C0ACMEGEN,C0SUPPORT" && strings.Join(to, ",") != "C0SUPPORT,C0ACMEGEN" {
		t.Fatalf("sign-off announced in %v, want C0SUPPORT and C0ACMEGEN", to)
	}
	if len(queued[store.EphemeralPayload](t, f, store.KindSlackEphemeral)) != 0 {
		t.Fatal("a sign-off told the clicker of a refusal")
	}
}
