package store

import (
	"errors"
	"testing"
	"time"
)

var at0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func step(i int) time.Time { return at0.Add(time.Duration(i) * 30 * time.Second) }

func TestAlertFiresAfterThresholdAndRecovers(t *testing.T) {
	th := Thresholds{FailAfter: 3, RecoverAfter: 2}
	a := &Alert{Key: "uptime/acme/www"}
	obs := []struct {
		ok   bool
		want Transition
	}{
		{false, NoChange}, {false, NoChange}, {false, Fired}, {false, NoChange},
		{true, NoChange}, {false, NoChange}, {true, NoChange}, {true, Recovered}, {true, NoChange},
	}
	for i, o := range obs {
		if got := a.Observe(o.ok, "status 503", step(i), th, false); got != o.want {
			t.Fatalf("observation %d (ok=%v): got %q, want %q; alert %+v", i, o.ok, got, o.want, a)
		}
	}
	if a.Status != AlertResolved || !a.FiredAt.Equal(step(2)) || !a.ResolvedAt.Equal(step(7)) {
		t.Fatalf("final alert %+v", a)
	}
	// Down from the first failure (step 0) to the first success of the
	// streak that recovered it (step 6); the blip at step 4 does not count.
	if got, want := a.Downtime(step(8)), step(6).Sub(step(0)); got != want {
		t.Fatalf("downtime = %v, want %v", got, want)
	}
}

func TestFlappingNeverFires(t *testing.T) {
	a := &Alert{}
	for i := range 100 {
		if got := a.Observe(i%2 == 1, "timeout", step(i), Thresholds{FailAfter: 2, RecoverAfter: 2}, false); got != NoChange {
			t.Fatalf("flip %d fired %q", i, got)
		}
	}
}

func TestSilenceMutesThenFiresWhenItEnds(t *testing.T) {
	th := Thresholds{FailAfter: 2, RecoverAfter: 1}
	a := &Alert{}
	a.Observe(false, "down", step(0), th, true)
	if got := a.Observe(false, "down", step(1), th, true); got != NoChange || !a.Muted {
		t.Fatalf("silenced threshold crossing: %q muted=%v", got, a.Muted)
	}
	// The silence has ended and the site is still down: the next check fires.
	if got := a.Observe(false, "down", step(2), th, false); got != Fired {
		t.Fatalf("after silence: %q", got)
	}
	// Muted, then recovered during the silence: nothing to announce later.
	b := &Alert{}
	b.Observe(false, "down", step(0), th, true)
	b.Observe(false, "down", step(1), th, true)
	if got := b.Observe(true, "", step(2), th, true); got != NoChange || b.Muted {
		t.Fatalf("recovered while silenced: %q muted=%v", got, b.Muted)
	}
}

func TestAckAndManualResolve(t *testing.T) {
	th := Thresholds{FailAfter: 1, RecoverAfter: 1}
	a := &Alert{}
	if _, err := a.Ack("U1", step(0)); !errors.Is(err, ErrAlertNotFiring) {
		t.Fatalf("ack of a quiet alert: %v", err)
	}
	a.Observe(false, "down", step(0), th, false)
	if tr, err := a.Ack("U1", step(1)); tr != Acknowledge || err != nil || a.AckedBy != "U1" {
		t.Fatalf("ack: %q %v %+v", tr, err, a)
	}
	if _, err := a.Ack("U2", step(2)); !errors.Is(err, ErrAlreadyAcked) {
		t.Fatalf("second ack: %v", err)
	}
	if tr, err := a.ResolveBy("U2", step(3)); tr != Resolve || err != nil || a.Status != AlertResolved {
		t.Fatalf("resolve: %q %v", tr, err)
	}
	// Still down: it has to cross the threshold again, and gets a new message.
	a.MessageTS = "1.1"
	if got := a.Observe(false, "down", step(4), th, false); got != Fired || a.MessageTS != "" || a.AckedBy != "" {
		t.Fatalf("refire after manual resolve: %q %+v", got, a)
	}
}
