package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

// Waits: one a healthy replica meets even on a loaded machine, and a short
// one for a hung replica.
const (
	healthyWait = 5 * time.Second
	waitTimeout = 300 * time.Millisecond
)

// replicated is a store on a primary that waits for one replica up to wait.
func replicated(t *testing.T, wait time.Duration) (s *store.Store, primary, replica *redistest.Server) {
	t.Helper()
	primary = redistest.Start(t)
	replica = redistest.StartReplica(t, primary)
	return store.New(primary.Client(t), "opsbot:", store.WaitReplicas(1, wait)), primary, replica
}

// A write that returns without error is on the replica at that moment:
// WAIT ran on the connection that wrote.
func TestConfirmedWritesAreOnTheReplica(t *testing.T) {
	ctx := context.Background()
	s, _, replica := replicated(t, healthyWait)
	onReplica := replica.Client(t)
	for i, u := range []string{"U1", "U2", "U3", "U4", "U5"} {
		if ok, err := s.Grant(ctx, "UADMIN", u, store.Grant{Role: store.Support}, t0.Add(time.Duration(i)*time.Second)); err != nil || !ok {
			t.Fatalf("Grant %s = %v, %v", u, ok, err)
		}
		// No sleep, no retry: confirmed means the replica has it now.
		if roles := onReplica.SMembers(ctx, "opsbot:roles:"+u).Val(); len(roles) != 1 {
			t.Fatalf("replica has roles %v of %s right after a confirmed grant", roles, u)
		}
	}
	if n := onReplica.XLen(ctx, "opsbot:audit").Val(); n != 5 {
		t.Fatalf("replica has %d audit entries, want 5", n)
	}
}

// With the replica hung, every audited write still happens on the primary
// but reports ErrNotReplicated along with its result, after the wait.
func TestUnconfirmedWritesSaySo(t *testing.T) {
	ctx := context.Background()
	s, primary, replica := replicated(t, waitTimeout)
	if _, err := s.Grant(ctx, "UADMIN", "U9", store.Grant{Role: store.Finance}, t0); err != nil && !errors.Is(err, store.ErrNotReplicated) {
		t.Fatal(err)
	}
	replica.Pause()
	defer replica.Resume()

	start := time.Now()
	ok, err := s.Grant(ctx, "UADMIN", "U1", store.Grant{Role: store.Support}, t0)
	if !ok || !errors.Is(err, store.ErrNotReplicated) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Grant with the replica hung = %v, %v; want true, ErrNotReplicated", ok, err)
	}
	if d := time.Since(start); d < waitTimeout || d > waitTimeout+2*time.Second {
		t.Fatalf("Grant took %v; the wait is %v", d, waitTimeout)
	}
	if roles := primary.Client(t).SMembers(ctx, "opsbot:roles:U1").Val(); len(roles) != 1 {
		t.Fatalf("primary roles = %v: the write must stand", roles)
	}
	// Nothing written: nothing to wait for, no error.
	if ok, err := s.Grant(ctx, "UADMIN", "U9", store.Grant{Role: store.Finance}, t0); ok || err != nil {
		t.Fatalf("repeated grant = %v, %v; want false, nil", ok, err)
	}

	sil, err := s.AddSilence(ctx, store.Silence{Client: "acme", Reason: "upgrade", CreatedBy: "UADMIN", Start: t0, End: t0.Add(time.Hour)})
	if sil.ID == "" || !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("AddSilence = %+v, %v", sil, err)
	}
	if ended, err := s.RemoveSilence(ctx, sil.ID, "UADMIN", t0.Add(time.Minute)); ended.ID != sil.ID || !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("RemoveSilence = %+v, %v", ended, err)
	}
	v, _ := store.ParseThreshold("cpu", "90")
	if _, changed, err := s.SetThreshold(ctx, "UADMIN", "acme", v, t0); !changed || !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("SetThreshold = %v, %v", changed, err)
	}
	cr, err := store.NewChangeRequest("CR-1", "acme", "Site slow", "Timeouts at peak", "", crRequester, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateChange(ctx, cr); !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("CreateChange = %v", err)
	}
	got, err := s.UpdateChange(ctx, "CR-1", t0, func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
		return nil, c.Investigate(crSupport, t0)
	})
	if got.Version != 2 || !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("UpdateChange = v%d, %v", got.Version, err)
	}

	replica.Resume()
	if err := replica.WaitSynced(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	s = store.New(primary.Client(t), "opsbot:", store.WaitReplicas(1, healthyWait))
	if _, err := s.Grant(ctx, "UADMIN", "U2", store.Grant{Role: store.Support}, t0); err != nil {
		t.Fatalf("Grant after the replica is back: %v", err)
	}
}

// min-replicas-to-write makes the primary refuse writes while no replica
// is connected: the person is told the store is unavailable, nothing changes.
func TestNoReplicasRefusalIsUnavailable(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	if _, err := srv.Do("config", "set", "min-replicas-to-write", "1"); err != nil {
		t.Fatal(err)
	}
	rdb := srv.Client(t)
	s := store.New(rdb, "opsbot:", store.WaitReplicas(1, waitTimeout))
	if _, err := s.Grant(ctx, "UADMIN", "U1", store.Grant{Role: store.Support}, t0); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Grant without replicas = %v, want ErrUnavailable", err)
	}
	if n := rdb.Exists(ctx, "opsbot:roles:U1", "opsbot:audit").Val(); n != 0 {
		t.Fatalf("%d keys written although the primary refused", n)
	}
}

// On a Cluster every key carries the hash tag, so the audited scripts and
// the change transactions run, and WAIT reaches the master that wrote.
func TestClusterStore(t *testing.T) {
	ctx := context.Background()
	c := redistest.StartCluster(t)
	rdb := c.Connect(t)
	s := store.New(rdb, "opsbot:", store.WaitReplicas(1, healthyWait))
	if s.Prefix() != "{opsbot}:" {
		t.Fatalf("prefix on a Cluster = %q", s.Prefix())
	}
	if ok, err := s.Grant(ctx, "UADMIN", "U1", store.Grant{Role: store.Support}, t0); !ok || err != nil {
		t.Fatalf("Grant = %v, %v", ok, err)
	}
	if all, err := s.AllGrants(ctx); err != nil || len(all["U1"]) != 1 {
		t.Fatalf("AllGrants = %v, %v", all, err)
	}
	createProposed(t, ctx, s, t0)
	if _, err := s.SigningKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, t0, item(t, "slack.post", "k1", "hello")); err != nil {
		t.Fatal(err)
	}
	if claimed, err := s.ClaimOutbox(ctx, t0, time.Minute, 10); err != nil || len(claimed) != 2 { // the change's and this one
		t.Fatalf("ClaimOutbox = %v, %v", claimed, err)
	}

	master, err := c.MasterOf("{opsbot}:roles:U1")
	if err != nil {
		t.Fatal(err)
	}
	replicas := c.ReplicasOf(master)
	if len(replicas) != 1 {
		t.Fatalf("master %s has replicas %v", master.Addr, replicas)
	}
	replicas[0].Pause()
	defer replicas[0].Resume()
	s = store.New(rdb, "opsbot:", store.WaitReplicas(1, waitTimeout))
	if ok, err := s.Grant(ctx, "UADMIN", "U2", store.Grant{Role: store.Support}, t0); !ok || !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("Grant with the replica hung = %v, %v", ok, err)
	}
	if n := rdb.(*redis.ClusterClient).SCard(ctx, "{opsbot}:roles:U2").Val(); n != 1 {
		t.Fatalf("role on the master = %d", n)
	}
}
