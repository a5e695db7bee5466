package pagerduty_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
)

// Snooze sends the person's From header (go-pagerduty does not) and only
// an acknowledged incident can be snoozed.
func TestSnooze(t *testing.T) {
	fake := pagerdutytest.New(t)
	fake.AddUser("PANN001", "Ann Example", "ann@example.com")
	c, _ := newClient(t, fake)
	ctx := context.Background()
	if err := c.Send(ctx, alert("trigger")); err != nil {
		t.Fatal(err)
	}
	if err := c.Snooze(ctx, "PINC001", "ann@example.com", time.Hour); err == nil || !strings.Contains(err.Error(), "not acknowledged") {
		t.Fatalf("snooze of a triggered incident: %v", err)
	}
	if err := c.Acknowledge(ctx, "PINC001", "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Snooze(ctx, "PINC001", "bob@example.com", time.Hour); !errors.Is(err, integrations.ErrNotFound) {
		t.Fatalf("snooze as an unknown user: %v", err)
	}
	before := time.Now()
	if err := c.Snooze(ctx, "PINC001", "ann@example.com", time.Hour); err != nil {
		t.Fatal(err)
	}
	in := fake.Incidents()[0]
	if in.From != "ann@example.com" || in.SnoozedUntil.Before(before.Add(time.Hour-time.Second)) {
		t.Fatalf("incident after snooze: %+v", in)
	}
	var body string
	for _, r := range fake.Requests() {
		if r.Method == "POST" && r.Path == "/incidents/PINC001/snooze" {
			body = r.Header.Get("From")
		}
	}
	if body != "ann@example.com" {
		t.Fatalf("From header of the snooze = %q", body)
	}
}
