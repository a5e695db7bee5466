package store

import (
	"fmt"
	"time"
)

// StepKind names a long step of a change request: one that waits on
// another system (Route 53 reaching INSYNC, smoke checks answering) for
// longer than a click may, so it runs in the background under a lease.
type StepKind string

// The long steps.
const (
	StepCutOver  StepKind = "cutover"  // keep the records, switch DNS, wait for INSYNC
	StepRestore  StepKind = "restore"  // put the kept records back after a failed cut-over
	StepRollBack StepKind = "rollback" // put the kept records back and end the request
	StepSmoke    StepKind = "smoke"    // run the smoke checks
)

// Label is the step in words, for messages ("switching DNS").
func (k StepKind) Label() string {
	switch k {
	case StepCutOver:
		return "switching DNS"
	case StepRestore:
		return "restoring DNS"
	case StepRollBack:
		return "rolling back DNS"
	case StepSmoke:
		return "running the smoke checks"
	}
	return string(k)
}

// RunningStep is a long step in progress, saved with the request so that
// whichever replica holds the step's lease can carry it on: the clicker's
// connection, and the replica that took the click, may be gone.
type RunningStep struct {
	Kind     StepKind  `json:"kind"`
	By       string    `json:"by"` // who clicked: the step's events are theirs
	Started  time.Time `json:"started"`
	Deadline time.Time `json:"deadline"` // the step's budget ends here, whoever runs it
	// ChangeID is the DNS provider's change once sent: a resumed step waits
	// for it rather than sending the change again.
	ChangeID string `json:"change_id,omitempty"`
	Runs     int    `json:"runs,omitempty"` // times a replica took it up; > 1 means resumed
}

// StepBusyError refuses a click while a long step of the request runs.
type StepBusyError struct{ Step RunningStep }

func (e *StepBusyError) Error() string {
	return fmt.Sprintf("%s is still in progress (started %s): wait for it to finish; the request's message shows its progress",
		e.Step.Kind.Label(), e.Step.Started.UTC().Format("15:04:05 MST"))
}

// BeginStep starts a long step for by, with budget from at; it runs until
// EndStep. Only one step runs at a time. A cut-over needs passed or waived
// smoke checks; a restore or roll back is noted (audited) here, before any
// record is touched.
func (c *ChangeRequest) BeginStep(kind StepKind, by string, at time.Time, budget time.Duration) error {
	if c.Step != nil {
		return &StepBusyError{Step: *c.Step}
	}
	switch kind {
	case StepCutOver:
		if c.State != ChangeSmokeTesting {
			return &StateError{Action: "cut over", State: c.State}
		}
		if err := c.CutOverAllowed(); err != nil {
			return err
		}
	case StepSmoke:
		if c.State != ChangeSmokeTesting {
			return &StateError{Action: "run the smoke checks of", State: c.State}
		}
	case StepRestore, StepRollBack:
		if c.DNS == nil || len(c.DNS.Kept) == 0 {
			return ErrNothingKept
		}
		if err := c.BeginRestore(kind == StepRollBack, by, at); err != nil {
			return err
		}
	default:
		return invalid("unknown step %q", kind)
	}
	c.Step = &RunningStep{Kind: kind, By: by, Started: at, Deadline: at.Add(budget)}
	return nil
}

// TakeStep counts a replica taking the running step up: a first run, or a
// resume after the one running it stopped, which the thread and the audit
// log show.
func (c *ChangeRequest) TakeStep(at time.Time) {
	if c.Step == nil {
		return
	}
	c.Step.Runs++
	if c.Step.Runs > 1 {
		c.note("change.step_resumed", "", at, fmt.Sprintf("%s resumed: the opsbot replica carrying it stopped", c.Step.Kind.Label()), "")
	}
}

// StepSent records the provider's change ID of the running step.
func (c *ChangeRequest) StepSent(changeID string) {
	if c.Step != nil {
		c.Step.ChangeID = changeID
	}
}

// EndStep ends the running step; its outcome is recorded by the caller in
// the same update.
func (c *ChangeRequest) EndStep() { c.Step = nil }

// idle refuses a person's action while a long step runs.
func (c *ChangeRequest) idle() error {
	if c.Step != nil {
		return &StepBusyError{Step: *c.Step}
	}
	return nil
}
