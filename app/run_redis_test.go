package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/store/redistest"
)

// Replies to a grant, by what they tell the person.
const (
	grantConfirmed   = "Recorded in the audit log"  // on the primary and a replica
	grantUnconfirmed = "not yet safely recorded"    // on the primary only
	storeRefused     = "is not answering"           // nothing changed
	internalError    = "Something went wrong (ref " // never acceptable here
	outageWindow     = 15 * time.Second             // the bound on recovery
	pollEvery        = 200 * time.Millisecond       // between commands during an outage
	healthyWait      = 20 * time.Second             // for a set-up to settle
	grantsBeforeKill = 8                            // confirmed before the fault
	userIDFormat     = "U0GRANT%03d"                // people granted a role, by number
	grantCommand     = "role grant <@" + userIDFormat + "> support"
	replicaWaitYAML  = "redis:\n  wait_timeout: 2s\n" // a loaded CI machine is slow to ack
)

// grantOutcome is what the person was told about one grant.
type grantOutcome struct {
	user  string
	reply string
	at    time.Time
}

func (g grantOutcome) confirmed() bool { return strings.Contains(g.reply, grantConfirmed) }
func (g grantOutcome) refused() bool   { return strings.Contains(g.reply, storeRefused) }
func (g grantOutcome) saved() bool {
	return g.confirmed() || strings.Contains(g.reply, grantUnconfirmed)
}

// grant gives person n the support role and keeps what the reply said.
func (o *opsbot) grant(t *testing.T, n int) grantOutcome {
	t.Helper()
	// Roles go to people Slack knows (not bots): the person exists first.
	o.fake.AddUser(slacktest.User{ID: fmt.Sprintf(userIDFormat, n), Name: fmt.Sprintf("person%03d", n)})
	reply := o.command(t, admin, fmt.Sprintf(grantCommand, n))
	if strings.Contains(reply, internalError) {
		t.Fatalf("grant %d: internal error instead of a clear answer:\n%s\nlogs:\n%s", n, reply, o.logs)
	}
	return grantOutcome{user: fmt.Sprintf(userIDFormat, n), reply: reply, at: time.Now()}
}

// ridesOutOutage grants one person after another from the moment of the
// fault until a grant is saved again, and returns every outcome and how
// long after the fault the first saved one came.
func (o *opsbot) ridesOutOutage(t *testing.T, first int, fault time.Time) ([]grantOutcome, time.Duration) {
	t.Helper()
	var out []grantOutcome
	for n := first; ; n++ {
		g := o.grant(t, n)
		out = append(out, g)
		switch {
		case g.saved():
			return out, g.at.Sub(fault)
		case !g.refused():
			t.Fatalf("during the outage, grant %d answered neither refused nor saved:\n%s", n, g.reply)
		case time.Since(fault) > outageWindow:
			t.Fatalf("still refusing %v after the fault (%d refusals)\nlogs:\n%s", time.Since(fault), len(out), o.logs)
		}
		time.Sleep(pollEvery)
	}
}

// promotedAfter reports, on the channel, how long after fault primary
// stopped being the server that takes writes of key (Redis's own failover).
func promotedAfter(d redistest.Deployment, key string, old *redistest.Server, fault time.Time) <-chan time.Duration {
	ch := make(chan time.Duration, 1)
	go func() {
		for time.Since(fault) < 2*outageWindow {
			if p, err := d.PrimaryFor(key); err == nil && p != old {
				ch <- time.Since(fault)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		ch <- -1
	}()
	return ch
}

// stillHeld fails t unless every grant the person was told is recorded is
// in Redis, with its audit entry.
func (o *opsbot) stillHeld(t *testing.T, outcomes []grantOutcome) {
	t.Helper()
	ctx := context.Background()
	confirmed := 0
	for _, g := range outcomes {
		if !g.confirmed() {
			continue
		}
		confirmed++
		if roles := o.rdb.SMembers(ctx, o.key("roles:"+g.user)).Val(); len(roles) != 1 || roles[0] != "support" {
			t.Errorf("%s was told %q, but holds %v now", g.user, grantConfirmed, roles)
		}
	}
	if n := o.rdb.XLen(ctx, o.key("audit")).Val(); n < int64(confirmed) {
		t.Errorf("%d audit entries for %d confirmed grants", n, confirmed)
	}
}

func writeYAML(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The Cluster master that holds opsbot's keys dies mid-run: commands are
// refused (never half-done) until its replica takes over, then work again
// within 15 s; every grant the person was told is recorded is still there.
// opsbot is given one node only, as ElastiCache's configuration endpoint.
func TestClusterMasterKilledMidRun(t *testing.T) {
	c := redistest.StartCluster(t)
	o := startOn(t, map[string]string{"OPSBOT_CONFIG": writeYAML(t, replicaWaitYAML)}, c)
	if !strings.Contains(o.logs.String(), `"mode":"cluster"`) || o.prefix != "{opsbot}:" {
		t.Fatalf("opsbot did not find out it talks to a Cluster (prefix %q):\n%s", o.prefix, grep(o.logs.String(), "state store"))
	}
	var outcomes []grantOutcome
	for n := range grantsBeforeKill {
		g := o.grant(t, n)
		if !g.confirmed() {
			t.Fatalf("grant %d before the fault:\n%s", n, g.reply)
		}
		outcomes = append(outcomes, g)
	}

	master, err := c.MasterOf(o.key("roles"))
	if err != nil {
		t.Fatal(err)
	}
	master.Stop()
	killed := time.Now()
	promoted := promotedAfter(c, o.key("roles"), master, killed)
	during, recovery := o.ridesOutOutage(t, grantsBeforeKill, killed)
	outcomes = append(outcomes, during...)
	if !during[0].refused() {
		t.Errorf("the first grant after the kill was not refused:\n%s", during[0].reply)
	}
	t.Logf("Cluster master killed: replica promoted after %.1fs; %d grant(s) refused; first grant saved %.1fs after the kill (bound %v; it waited %s for a replica the shard no longer has)",
		(<-promoted).Seconds(), len(during)-1, recovery.Seconds(), outageWindow, "2s")

	// The old master comes back as a replica of the promoted one: grants
	// are confirmed by a replica again.
	if err := master.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(healthyWait); err != nil {
		t.Fatal(err)
	}
	g := o.grant(t, len(outcomes)+1)
	if !g.confirmed() {
		t.Fatalf("grant once the old master is a replica again:\n%s", g.reply)
	}
	o.stillHeld(t, append(outcomes, g))
	if code, body := o.get(t, "/readyz"); code != 200 {
		t.Fatalf("/readyz after recovery = %d %s", code, body)
	}
}

// With Sentinel, a grant is called recorded only once the replica has it:
// with the replica hung the person is told it is on the primary only; and
// after the primary is killed and the replica promoted, every grant that
// was called recorded is still there.
func TestSentinelRecordedGrantsSurviveFailover(t *testing.T) {
	s := redistest.StartSentinel(t)
	if err := s.WaitReady(healthyWait); err != nil {
		t.Fatal(err)
	}
	// The sentinels in the file, as operators configure them.
	yaml := fmt.Sprintf("redis:\n  addrs: [%s]\n  master_name: %s\n  wait_timeout: 2s\n",
		strings.Join(strings.Split(s.Env()["OPSBOT_REDIS_ADDRS"], ","), ", "), redistest.SentinelMaster)
	o := startOn(t, map[string]string{"OPSBOT_CONFIG": writeYAML(t, yaml), "OPSBOT_REDIS_ADDRS": "", "OPSBOT_REDIS_MASTER_NAME": ""}, s)
	replica := s.Replica.Client(t)
	ctx := context.Background()

	var outcomes []grantOutcome
	for n := range grantsBeforeKill {
		g := o.grant(t, n)
		outcomes = append(outcomes, g)
		if !g.confirmed() {
			t.Fatalf("grant %d with a healthy replica:\n%s", n, g.reply)
		}
		// Called recorded: the replica has it at this moment, no waiting.
		if n := replica.SCard(ctx, o.key("roles:"+g.user)).Val(); n != 1 {
			t.Fatalf("%s was told %q but the replica does not have it", g.user, grantConfirmed)
		}
	}

	s.Replica.Pause()
	g := o.grant(t, grantsBeforeKill)
	s.Replica.Resume()
	if g.confirmed() || !strings.Contains(g.reply, grantUnconfirmed) {
		t.Fatalf("grant with the replica hung:\n%s", g.reply)
	}
	if err := s.Replica.WaitSynced(healthyWait); err != nil {
		t.Fatal(err)
	}

	old := s.Primary
	old.Stop()
	killed := time.Now()
	promoted := promotedAfter(s, "", old, killed)
	during, recovery := o.ridesOutOutage(t, grantsBeforeKill+1, killed)
	outcomes = append(outcomes, during...)
	t.Logf("Sentinel primary killed: replica promoted after %.1fs; %d grant(s) refused; first grant saved %.1fs after the kill",
		(<-promoted).Seconds(), len(during)-1, recovery.Seconds())
	if p, err := s.CurrentPrimary(); err != nil || p != s.Replica {
		t.Fatalf("primary after the failover = %v, %v", p, err)
	}
	o.stillHeld(t, outcomes)
}

// redis.addrs without REDIS_URL are used, not silently replaced by the
// in-memory store.
func TestRedisAddrsWithoutURLAreUsed(t *testing.T) {
	srv := redistest.Start(t)
	cfg := writeYAML(t, "redis:\n  addrs: [\""+srv.Addr+"\"]\n")
	o := startOn(t, map[string]string{"OPSBOT_CONFIG": cfg, "REDIS_URL": ""}, srv)
	if g := o.grant(t, 1); !g.confirmed() {
		t.Fatalf("grant: %s", g.reply)
	}
	if roles := srv.Client(t).SMembers(context.Background(), "opsbot:roles:U0GRANT001").Val(); len(roles) != 1 {
		t.Fatalf("the grant is not in the Redis of redis.addrs (roles %v)\n%s", roles, grep(o.logs.String(), "store"))
	}
}

// redis.db applies with REDIS_URL (whose /0 is the default, not a choice).
func TestRedisDBAppliesWithURL(t *testing.T) {
	srv := redistest.Start(t)
	cfg := writeYAML(t, "redis:\n  db: 3\n")
	o := startOn(t, map[string]string{"OPSBOT_CONFIG": cfg, "REDIS_URL": srv.URL() + "/0"}, srv)
	if g := o.grant(t, 1); !g.confirmed() {
		t.Fatalf("grant: %s", g.reply)
	}
	if n, err := srv.Do("info", "keyspace"); err != nil || !strings.Contains(fmt.Sprint(n), "db3:") || strings.Contains(fmt.Sprint(n), "db0:") {
		t.Fatalf("keyspace = %v, %v; want the keys in db 3 only", n, err)
	}
}
