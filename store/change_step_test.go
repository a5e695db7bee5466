package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func TestBeginStepOneAtATime(t *testing.T) {
	c := smokeTesting(t)
	if err := c.BeginStep(store.StepCutOver, crSupport, crAt(8), 5*time.Minute); !errors.Is(err, store.ErrSmokeNotPassed) || c.Step != nil {
		t.Fatalf("cut-over before the checks passed: %v, step %+v", err, c.Step)
	}
	if err := c.BeginStep(store.StepRestore, crSupport, crAt(8), 5*time.Minute); !errors.Is(err, store.ErrNothingKept) || c.Step != nil {
		t.Fatalf("restore with nothing kept: %v, step %+v", err, c.Step)
	}
	if err := c.BeginStep(store.StepSmoke, crSupport, crAt(8), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if c.Step.Deadline != crAt(8).Add(2*time.Minute) || c.Step.By != crSupport {
		t.Fatalf("step %+v", *c.Step)
	}
	var busy *store.StepBusyError
	for name, err := range map[string]error{
		"another step":     c.BeginStep(store.StepSmoke, crSupport, crAt(9), time.Minute),
		"new smoke checks": c.SetSmokeChecks(twoChecks(), crSupport, crAt(9)),
		"a waiver":         c.Waive(crAdmin, "checked by hand", crAt(9)),
		"a cancel":         c.Cancel(crSupport, "postponed", crAt(9)),
	} {
		if !errors.As(err, &busy) {
			t.Errorf("%s while a step runs: %v", name, err)
		}
	}
	if c.State != store.ChangeSmokeTesting || c.SmokeWaiver != nil {
		t.Fatalf("refusals changed the request: %s %+v", c.State, c.SmokeWaiver)
	}
	n := len(c.History)
	c.TakeStep(crAt(9))
	if len(c.History) != n {
		t.Fatal("a first take is not a resume")
	}
	c.TakeStep(crAt(10))
	if last := c.History[len(c.History)-1]; last.Action != "change.step_resumed" || c.Step.Runs != 2 {
		t.Fatalf("resume: %+v, runs %d", last, c.Step.Runs)
	}
	c.EndStep()
	if err := c.RecordSmoke(smokeResults(c, true, true), crSupport, crAt(11)); err != nil || !c.SmokePassed() {
		t.Fatalf("results after the step: %v", err)
	}
}
