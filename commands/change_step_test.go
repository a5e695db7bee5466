package commands_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

// heldDNS stands in for Route 53 in the step runner's logic: a change is
// PENDING until insync is set. The wire format, PENDING for a wall-clock
// time and a killed replica are covered end to end (app, route53test).
type heldDNS struct {
	mu       sync.Mutex
	insync   bool
	applied  int
	restored int
	waiting  chan string // receives each change ID waited for
}

func (d *heldDNS) ZoneName(context.Context, string) (string, error) { return "acme.example.", nil }
func (d *heldDNS) Keep(context.Context, store.DNSPlan) ([]byte, error) {
	return []byte(`[{"Name":"www.acme.example.","Type":"A","TTL":300,"Values":["198.51.100.7"]}]`), nil
}
func (d *heldDNS) Apply(context.Context, store.DNSPlan, []byte, string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.applied++
	return "C-NEW", nil
}
func (d *heldDNS) Restore(context.Context, store.DNSPlan, []byte, string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.restored++
	return "C-RESTORE", nil
}
func (d *heldDNS) Wait(ctx context.Context, id string) error {
	select {
	case d.waiting <- id:
	default:
	}
	d.mu.Lock()
	in := d.insync
	d.mu.Unlock()
	if in {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}
func (d *heldDNS) counts() (applied, restored int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.applied, d.restored
}

// stepFixture stores CR-1 in smoke testing with a DNS plan and waived
// checks, with step (if any) saved as a replica left it.
func stepFixture(t *testing.T, dns *heldDNS, step *store.RunningStep, kept bool) *fixture {
	t.Helper()
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Now, d.Changes, d.DNS, d.StepLeases = changeNow, st, dns, st
		d.ChangeSettings = commands.ChangeSettings{Channel: "C0SUPPORT", ClientZones: map[string][]string{"acme": {"Z1"}}}
	})
	f.grant(t, crSupport, store.Grant{Role: store.Support})
	cr, err := store.NewChangeRequest("CR-1", "acme", "Move to new servers", "Old servers are slow", "", requester, changeT0)
	if err != nil {
		t.Fatal(err)
	}
	p := store.Proposal{Plan: "New servers", Magnitude: store.MagnitudeMinor, CurrentMonthly: 100, ProposedMonthly: 100,
		Measured: &store.CostMeasure{Monthly: 100, At: changeT0}, DNS: &store.DNSPlan{ZoneID: "Z1", Name: "www.acme.example.", Type: "A", NewValues: []string{"203.0.113.10"}}}
	for _, err := range []error{cr.Investigate(crSupport, changeT0), cr.Propose(p, nil, crSupport, changeT0), cr.Schedule(crSupport, changeT0),
		cr.Provision(crSupport, changeT0), cr.SetSmokeChecks([]store.SmokeCheck{{URL: "https://203.0.113.10/"}}, crSupport, changeT0),
		cr.Waive(admin, "checked by hand", changeT0)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if kept {
		k, _ := dns.Keep(context.Background(), *p.DNS)
		if err := cr.KeepDNS(k, crSupport, changeT0); err != nil {
			t.Fatal(err)
		}
	}
	cr.Step = step
	if err := f.st.CreateChange(context.Background(), cr); err != nil {
		t.Fatal(err)
	}
	return f
}

// runSteps runs the router's step runner until the test ends or stop is called.
func runSteps(t *testing.T, f *fixture) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = f.r.RunSteps(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func waitStepEnded(t *testing.T, f *fixture, within time.Duration) store.ChangeRequest {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		cr, err := f.st.GetChange(context.Background(), "CR-1")
		if err != nil {
			t.Fatal(err)
		}
		if cr.Step == nil {
			return cr
		}
		if time.Now().After(deadline) {
			t.Fatalf("step still running after %v: %+v\nlogs:\n%s", within, *cr.Step, f.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasAction(cr store.ChangeRequest, action string) bool {
	for _, h := range cr.History {
		if h.Action == action {
			return true
		}
	}
	return false
}

// A cut-over taken up after its budget ran out (every replica was down)
// reads Route 53 once: still PENDING, it fails with the kept records
// intact and Restore DNS offered; the change is not sent again.
func TestStepPastItsBudgetFailsWithRestoreOffered(t *testing.T) {
	t.Parallel()
	dns := &heldDNS{waiting: make(chan string, 4)}
	now := changeNow()
	f := stepFixture(t, dns, &store.RunningStep{Kind: store.StepCutOver, By: crSupport, Started: now.Add(-6 * time.Minute),
		Deadline: now.Add(-time.Minute), ChangeID: "C-OLD", Runs: 1}, true)
	runSteps(t, f)
	if id := <-dns.waiting; id != "C-OLD" {
		t.Fatalf("waited for %q, want the saved change C-OLD", id)
	}
	cr := waitStepEnded(t, f, 30*time.Second)
	if cr.State != store.ChangeSmokeTesting || !strings.Contains(cr.DNS.Failure, "did not confirm in time") || len(cr.DNS.Kept) == 0 {
		t.Fatalf("after the budget: %s %+v", cr.State, cr.DNS)
	}
	if applied, _ := dns.counts(); applied != 0 {
		t.Fatalf("the change was sent again %d time(s)", applied)
	}
	if !hasAction(cr, "change.step_resumed") || !hasAction(cr, "change.cutover_failed") {
		t.Fatalf("history: %+v", cr.History)
	}
	// The message as last rendered: drain the outbox in order.
	var msg store.ChangeMessage
	for {
		claimed, err := f.st.ClaimOutbox(context.Background(), changeNow().Add(time.Hour), time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) == 0 {
			break
		}
		for _, c := range claimed {
			if c.Item.Kind == store.KindChangeMessage {
				if err := json.Unmarshal(c.Item.Payload, &msg); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.st.AckOutbox(context.Background(), c, changeNow()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if blocks := string(msg.Blocks); !strings.Contains(blocks, "change_restore") || !strings.Contains(blocks, "Cut-over failed") {
		t.Fatalf("the message does not offer Restore DNS: %s", blocks)
	}
}

// Past its budget but INSYNC meanwhile: the cut-over is recorded as done.
func TestStepPastItsBudgetFindsTheChangeInSync(t *testing.T) {
	t.Parallel()
	dns := &heldDNS{insync: true, waiting: make(chan string, 4)}
	now := changeNow()
	f := stepFixture(t, dns, &store.RunningStep{Kind: store.StepCutOver, By: crSupport, Started: now.Add(-6 * time.Minute),
		Deadline: now.Add(-time.Minute), ChangeID: "C-OLD", Runs: 1}, true)
	runSteps(t, f)
	cr := waitStepEnded(t, f, 10*time.Second)
	if applied, _ := dns.counts(); cr.State != store.ChangeCutOver || cr.DNS.ChangeID != "C-OLD" || applied != 0 {
		t.Fatalf("after the resume: %s %+v, %d sent", cr.State, cr.DNS, applied)
	}
}

// A step interrupted by a clean shutdown records nothing and stays saved;
// the next run carries it on from where it stood.
func TestStepInterruptedByShutdownIsCarriedOnLater(t *testing.T) {
	t.Parallel()
	dns := &heldDNS{waiting: make(chan string, 4)}
	f := stepFixture(t, dns, nil, false)
	stop := runSteps(t, f)
	if got := text(f.click(crSupport, "change_cutover", "CR-1")); !strings.Contains(got, "Switching DNS") {
		t.Fatalf("click: %s", got)
	}
	// Other clicks on a stale message are refused while it runs.
	for _, action := range []string{"change_cancel", "change_smoke_run", "change_smoke", "change_cutover"} {
		if got := text(f.click(crSupport, action, "CR-1")); !strings.Contains(got, "Switching DNS is still in progress") {
			t.Fatalf("%s while the cut-over runs: %s", action, got)
		}
	}
	<-dns.waiting
	stop()
	cr, err := f.st.GetChange(context.Background(), "CR-1")
	if err != nil {
		t.Fatal(err)
	}
	if cr.Step == nil || cr.Step.ChangeID != "C-NEW" || cr.DNS.Failure != "" || cr.State != store.ChangeSmokeTesting || len(cr.DNS.Kept) == 0 {
		t.Fatalf("after the shutdown: %s step %+v dns %+v", cr.State, cr.Step, cr.DNS)
	}
	dns.mu.Lock()
	dns.insync = true
	dns.mu.Unlock()
	runSteps(t, f)
	cr = waitStepEnded(t, f, 20*time.Second)
	if applied, _ := dns.counts(); cr.State != store.ChangeCutOver || applied != 1 || cr.Step != nil {
		t.Fatalf("carried on: %s, sent %d", cr.State, applied)
	}
}
