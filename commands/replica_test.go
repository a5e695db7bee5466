package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// A privileged write that no replica confirmed is not called "recorded":
// the person learns it is on the primary only and could be lost.
func TestUnconfirmedWriteIsNotCalledRecorded(t *testing.T) {
	var replica *redistest.Server
	var st *store.Store
	f := newFixtureWith(t, func(d *commands.Deps, _ *store.Store) {
		primary := redistest.Start(t)
		replica = redistest.StartReplica(t, primary)
		st = store.New(primary.Client(t), "opsbot:", store.WaitReplicas(1, 200*time.Millisecond))
		d.Roles, d.Audit, d.Silences = st, st, st
	})
	replica.Pause()
	defer replica.Resume()
	for _, cmd := range []string{"role grant @alice support", "role revoke @alice support", "silence acme 1h upgrade"} {
		got := f.run(admin, cmd).Text
		if !strings.Contains(got, "not yet safely recorded") || strings.Contains(got, "Recorded in the audit log") {
			t.Errorf("%s with the replica hung:\n%s", cmd, got)
		}
	}
	// The writes stand on the primary, audited.
	if entries, err := st.RecentAudit(context.Background(), 10); err != nil || len(entries) != 3 {
		t.Fatalf("audit = %d entries, %v", len(entries), err)
	}
	if !strings.Contains(f.log.String(), "write not confirmed by a replica") {
		t.Fatalf("not logged:\n%s", f.log)
	}
}
