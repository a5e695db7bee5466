package redistest

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Topology names a way of running Redis.
type Topology string

// The topologies the end-to-end suite runs against.
const (
	TopologySingle   Topology = "single"   // one server
	TopologyCluster  Topology = "cluster"  // 3 masters + 3 replicas
	TopologySentinel Topology = "sentinel" // primary + replica + 3 sentinels
)

// TopologyEnv is the variable that picks the topology of Deploy.
const TopologyEnv = "OPSBOT_TEST_REDIS"

// Deployment is a running Redis set-up of some topology, as the program
// under test reaches it.
type Deployment interface {
	Topology() Topology
	// Env is the environment that points opsbot at it (REDIS_URL, or
	// OPSBOT_REDIS_ADDRS and OPSBOT_REDIS_MASTER_NAME).
	Env() map[string]string
	// Connect returns a client for the test's own checks, closed at test end.
	Connect(t testing.TB) redis.UniversalClient
	// PrimaryFor is the server that takes writes of key now (to hold it
	// busy with DEBUG SLEEP, or to kill it).
	PrimaryFor(key string) (*Server, error)
	// Stop kills every process (a crash); Restart starts them again and
	// waits until the set-up serves.
	Stop()
	Restart() error
}

// Deploy starts the topology named by OPSBOT_TEST_REDIS (single when
// unset), skipping or failing as Start does without redis-server. With
// persistent, every server keeps a fsynced append-only file, so data
// survives Stop and Restart.
func Deploy(t testing.TB, persistent bool) Deployment {
	t.Helper()
	switch topo := Topology(os.Getenv(TopologyEnv)); topo {
	case "", TopologySingle:
		if persistent {
			return StartPersistent(t)
		}
		return Start(t)
	case TopologyCluster:
		return startCluster(t, persistent)
	case TopologySentinel:
		return startSentinel(t, persistent)
	default:
		t.Fatalf("%s=%q: want single, cluster or sentinel", TopologyEnv, topo)
		return nil
	}
}

// Topology is TopologySingle.
func (s *Server) Topology() Topology { return TopologySingle }

// Env points opsbot at the server by REDIS_URL.
func (s *Server) Env() map[string]string { return map[string]string{"REDIS_URL": s.URL()} }

// PrimaryFor is the server itself.
func (s *Server) PrimaryFor(string) (*Server, error) { return s, nil }

// Connect is Client as a redis.UniversalClient.
func (s *Server) Connect(t testing.TB) redis.UniversalClient { return s.Client(t) }
