package app

import (
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// Route 53 commonly keeps a change PENDING for 30–60 s. The cut-over and
// the roll back outlive the click: it is answered at once, the message
// shows the step while Route 53 syncs, and the outcome is recorded when it
// is INSYNC, well after any handler's deadline.
func TestChangeCutOverAndRollBackOutliveRoute53Pending(t *testing.T) {
	t.Parallel()
	const pending = 40 * time.Second
	e := startChanges(t, redistest.Deploy(t, false))
	openAndPropose(t, e, time.Now().Add(-time.Minute).UTC())
	waiveToCutOver(t, e)
	before := recordsXML(e.r53.Records(zone))
	e.r53.PendingFor(pending)

	clicked := time.Now()
	if got := e.click(t, "UALICE0001", "change_cutover", "CR-1"); !strings.Contains(got, "Switching DNS for *CR-1*") {
		t.Fatalf("cut-over click: %s", got)
	}
	if answered := time.Since(clicked); answered > wait {
		t.Fatalf("the click was answered after %v", answered)
	}
	e.requestMessage(t, "Switching DNS…")
	e.requestMessage(t, "waiting until it is in sync")
	if cr := e.change(t, "CR-1"); cr.State != store.ChangeSmokeTesting || cr.Step == nil || cr.Step.ChangeID == "" {
		t.Fatalf("while Route 53 syncs: %s, step %+v", cr.State, cr.Step)
	}
	cr := e.stepEnded(t, "CR-1", pending+30*time.Second)
	took := time.Since(clicked)
	if cr.State != store.ChangeCutOver || cr.DNS.ChangeID == "" || took < pending {
		t.Fatalf("cut-over after %v: %s %+v\nlogs:\n%s", took, cr.State, cr.DNS, e.logs)
	}
	msg := e.requestMessage(t, "DNS switched")
	if strings.Contains(string(msg.Blocks), "Switching DNS") {
		t.Fatalf("the message still shows the step: %s", msg.Blocks)
	}
	if after := recordsXML(e.r53.Records(zone)); after == before || !strings.Contains(after, "203.0.113.10") {
		t.Fatalf("records after the cut-over:\n%s", after)
	}
	t.Logf("cut-over recorded %v after the click (Route 53 PENDING for %v)", took.Round(time.Millisecond), pending)

	clicked = time.Now()
	if got := e.click(t, "UALICE0001", "change_rollback", "CR-1"); !strings.Contains(got, "Rolling back DNS for *CR-1*") {
		t.Fatalf("rollback click: %s", got)
	}
	// A second click while the step runs is refused and changes nothing.
	if got := e.click(t, "UALICE0001", "change_rollback", "CR-1"); !strings.Contains(got, "still in progress") {
		t.Fatalf("second rollback click: %s", got)
	}
	e.requestMessage(t, "Rolling back DNS…")
	cr = e.stepEnded(t, "CR-1", pending+30*time.Second)
	if took := time.Since(clicked); cr.State != store.ChangeRolledBack || took < pending {
		t.Fatalf("rollback after %v: %s", took, cr.State)
	}
	if restored := recordsXML(e.r53.Records(zone)); restored != before {
		t.Fatalf("rollback did not restore the records:\nbefore:\n%s\nafter:\n%s", before, restored)
	}
	e.requestMessage(t, "DNS restored")
	if n := e.r53.Changes(); n != 2 {
		t.Fatalf("Route 53 got %d change batches, want 2 (cut-over, rollback)", n)
	}
}

// The replica carrying a cut-over is killed (SIGKILL) after sending the
// change: another replica takes the step up once the lease lapses, waits
// for the change it finds saved (without sending it again) and records the
// cut-over.
func TestChangeCutOverResumedWhenItsReplicaIsKilled(t *testing.T) {
	t.Parallel()
	e := startChanges(t, redistest.Deploy(t, false))
	openAndPropose(t, e, time.Now().Add(-time.Minute).UTC())
	waiveToCutOver(t, e)
	e.halt(t)
	kill := e.spawnReplica(t)
	e.r53.PendingFor(25 * time.Second)
	if got := e.click(t, "UALICE0001", "change_cutover", "CR-1"); !strings.Contains(got, "Switching DNS") {
		t.Fatalf("cut-over click: %s", got)
	}
	deadline := time.Now().Add(wait)
	for cr := e.change(t, "CR-1"); cr.Step == nil || cr.Step.ChangeID == ""; cr = e.change(t, "CR-1") {
		if time.Now().After(deadline) {
			t.Fatalf("the change was not sent: step %+v\nlogs:\n%s", cr.Step, e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	kill()
	killed := time.Now()
	if cr := e.change(t, "CR-1"); cr.State != store.ChangeSmokeTesting || cr.Step == nil {
		t.Fatalf("after the kill: %s, step %+v", cr.State, cr.Step)
	}

	e.runReplica(t)
	cr := e.stepEnded(t, "CR-1", 90*time.Second)
	if cr.State != store.ChangeCutOver {
		t.Fatalf("after the resume: %s %+v\nlogs:\n%s", cr.State, cr.DNS, e.logs)
	}
	if n := e.r53.Changes(); n != 1 {
		t.Fatalf("Route 53 got %d change batches: the resumed step sent the change again", n)
	}
	resumed := false
	for _, h := range cr.History {
		resumed = resumed || h.Action == "change.step_resumed"
	}
	if !resumed {
		t.Fatalf("the resume is not in the history: %+v", cr.History)
	}
	// The killed replica may have died holding the outbox's claim on the
	// message's updates: they go out once that lease (60 s) lapses.
	e.waitMessageWithin(t, "C0SUPPORT", 75*time.Second, func(m slacktest.Message) bool {
		return m.ThreadTS == "" && strings.Contains(string(m.Blocks), "DNS switched")
	})
	t.Logf("cut-over resumed and recorded %v after its replica was killed", time.Since(killed).Round(time.Millisecond))
}
