package redistest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the master name the sentinels watch.
const SentinelMaster = "opsbot"

// Sentinel is a Sentinel set-up as operators run it: one primary, one
// replica and three sentinels with a quorum of two, so a failover needs a
// majority as in production. The primary counts as down after 1 s.
type Sentinel struct {
	// Primary and Replica are the roles as of the last (re)start; a
	// failover swaps them (CurrentPrimary tells), Stop notes it.
	Primary, Replica *Server
	Sentinels        []*Server
}

// StartSentinel starts the primary, its replica and the sentinels, waits
// until the replica has synced and every sentinel watches the primary, and
// stops them all at test end.
func StartSentinel(t testing.TB) *Sentinel { return startSentinel(t, false) }

func startSentinel(t testing.TB, persistent bool) *Sentinel {
	t.Helper()
	need(t)
	s := &Sentinel{Primary: startServer(t, persistent)}
	s.Replica = StartReplica(t, s.Primary)
	for range 3 {
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]s 2\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 10000\n", SentinelMaster, s.Primary.port())
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		sen, err := launch(dir, conf, false, "--sentinel")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sen.Stop)
		s.Sentinels = append(s.Sentinels, sen)
	}
	if err := s.waitSentinels(10*time.Second, false); err != nil {
		t.Fatal(err)
	}
	return s
}

// WaitReady waits until every sentinel knows the replica and the two other
// sentinels: before that, a failover cannot reach its majority.
func (s *Sentinel) WaitReady(timeout time.Duration) error { return s.waitSentinels(timeout, true) }

func (s *Sentinel) waitSentinels(timeout time.Duration, peers bool) error {
	return waitFor(timeout, "every sentinel watching the primary", func() (bool, error) {
		for _, sen := range s.Sentinels {
			v, err := sen.Do("sentinel", "master", SentinelMaster)
			if err != nil {
				return false, err
			}
			m := fieldMap(v)
			if m["flags"] != "master" || m["num-slaves"] != "1" || (peers && m["num-other-sentinels"] != strconv.Itoa(len(s.Sentinels)-1)) {
				return false, nil
			}
		}
		return true, nil
	})
}

// PrimaryFor is CurrentPrimary: the one primary holds every key.
func (s *Sentinel) PrimaryFor(string) (*Server, error) { return s.CurrentPrimary() }

// CurrentPrimary is the server the sentinels name as the primary now.
func (s *Sentinel) CurrentPrimary() (*Server, error) {
	for _, sen := range s.Sentinels {
		v, err := sen.Do("sentinel", "get-master-addr-by-name", SentinelMaster)
		if err != nil {
			continue
		}
		hp, _ := v.([]any)
		if len(hp) != 2 {
			continue
		}
		addr := net.JoinHostPort(fmt.Sprint(hp[0]), fmt.Sprint(hp[1]))
		for _, srv := range []*Server{s.Primary, s.Replica} {
			if srv.Addr == addr {
				return srv, nil
			}
		}
	}
	return nil, fmt.Errorf("redistest: no sentinel names a known primary")
}

// Topology is TopologySentinel.
func (s *Sentinel) Topology() Topology { return TopologySentinel }

// Env points opsbot at the sentinels (no REDIS_URL).
func (s *Sentinel) Env() map[string]string {
	return map[string]string{"OPSBOT_REDIS_ADDRS": strings.Join(s.addrs(), ","), "OPSBOT_REDIS_MASTER_NAME": SentinelMaster}
}

// Connect returns a Sentinel-aware client of the primary, closed at test end.
func (s *Sentinel) Connect(t testing.TB) redis.UniversalClient {
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: SentinelMaster, SentinelAddrs: s.addrs()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop kills every process.
func (s *Sentinel) Stop() {
	if p, err := s.CurrentPrimary(); err == nil && p == s.Replica {
		s.Primary, s.Replica = s.Replica, s.Primary // Restart brings them back in these roles
	}
	for _, srv := range append([]*Server{s.Primary, s.Replica}, s.Sentinels...) {
		srv.Stop()
	}
}

// Restart starts every stopped process again, the primary the sentinels
// last named as the primary, and waits until the sentinels watch it with
// its replica.
func (s *Sentinel) Restart() error {
	s.Primary.args = nil
	s.Replica.args = []string{"--replicaof", "127.0.0.1", s.Primary.port()}
	for _, srv := range append([]*Server{s.Primary, s.Replica}, s.Sentinels...) {
		if err := srv.Restart(); err != nil {
			return err
		}
	}
	return s.waitSentinels(20*time.Second, false)
}

func (s *Sentinel) addrs() []string {
	out := make([]string, len(s.Sentinels))
	for i, sen := range s.Sentinels {
		out[i] = sen.Addr
	}
	return out
}

// fieldMap turns a flat [k1 v1 k2 v2 ...] reply (or a RESP3 map) into a map.
func fieldMap(v any) map[string]string {
	out := map[string]string{}
	switch x := v.(type) {
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			out[fmt.Sprint(x[i])] = fmt.Sprint(x[i+1])
		}
	case map[any]any:
		for k, val := range x {
			out[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	}
	return out
}
