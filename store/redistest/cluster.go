package redistest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of 3 masters, each with one replica, as a
// production Cluster (ElastiCache cluster mode, for one) runs: when a master
// dies its replica is promoted after cluster-node-timeout (1 s here).
type Cluster struct {
	// Nodes are the servers: 0-2 started as the masters (slots 0-5460,
	// 5461-10922, 10923-16383), 3-5 as their replicas. Roles change on a
	// failover; MasterOf tells the current one.
	Nodes []*Server
}

const clusterNodeTimeout = "1000" // ms; failure detection, hence failover time

// StartCluster starts and joins a 3-master, 3-replica Cluster, waits until
// every node reports cluster_state:ok and stops it at test end.
func StartCluster(t testing.TB) *Cluster { return startCluster(t, false) }

func startCluster(t testing.TB, persistent bool) *Cluster {
	t.Helper()
	need(t)
	c := &Cluster{}
	for range 6 {
		c.Nodes = append(c.Nodes, startServer(t, persistent, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", clusterNodeTimeout))
	}
	if err := c.create(); err != nil {
		t.Fatal(err)
	}
	return c
}

// create does what `redis-cli --cluster create --cluster-replicas 1` does:
// distinct config epochs, slots to the masters, MEET, then REPLICATE.
func (c *Cluster) create() error {
	for i, n := range c.Nodes {
		if _, err := n.Do("cluster", "set-config-epoch", i+1); err != nil {
			return fmt.Errorf("redistest: cluster set-config-epoch on %s: %w", n.Addr, err)
		}
	}
	const slots = 16384
	for i, n := range c.Nodes[:3] {
		lo, hi := i*slots/3, (i+1)*slots/3-1
		if _, err := n.Do("cluster", "addslotsrange", lo, hi); err != nil {
			return fmt.Errorf("redistest: cluster addslotsrange on %s: %w", n.Addr, err)
		}
	}
	for _, n := range c.Nodes[1:] {
		// The bus port is given: it is not the default port+10000 here.
		if _, err := c.Nodes[0].Do("cluster", "meet", "127.0.0.1", n.port(), n.busPort); err != nil {
			return fmt.Errorf("redistest: cluster meet %s: %w", n.Addr, err)
		}
	}
	if err := c.waitAll(10*time.Second, "every node knows the 6 nodes", func(info string) bool {
		return strings.Contains(info, "cluster_known_nodes:6")
	}); err != nil {
		return err
	}
	for i, r := range c.Nodes[3:] {
		id, err := c.Nodes[i].Do("cluster", "myid")
		if err != nil {
			return fmt.Errorf("redistest: cluster myid: %w", err)
		}
		if _, err := r.Do("cluster", "replicate", id); err != nil {
			return fmt.Errorf("redistest: cluster replicate on %s: %w", r.Addr, err)
		}
	}
	return c.WaitHealthy(20 * time.Second)
}

// WaitHealthy waits until the Cluster serves (WaitServing) and every
// master has its replica online, as after StartCluster.
func (c *Cluster) WaitHealthy(timeout time.Duration) error {
	return c.wait(timeout, true)
}

// WaitServing waits until every running node says cluster_state:ok and
// every slot is served by a running master, as after a failover.
func (c *Cluster) WaitServing(timeout time.Duration) error {
	return c.wait(timeout, false)
}

func (c *Cluster) wait(timeout time.Duration, replicas bool) error {
	if err := c.waitAll(timeout, "cluster_state:ok on every node", func(info string) bool {
		return strings.Contains(info, "cluster_state:ok")
	}); err != nil {
		return err
	}
	// Every node must agree: go-redis may ask any of them for the slots.
	return waitFor(timeout, "every slot on a running master (with its replica online)", func() (bool, error) {
		for _, n := range c.running() {
			shards, err := c.shards(n)
			if err != nil || len(shards) != 3 {
				return false, err
			}
			for _, sh := range shards {
				m := c.byAddr(sh.master)
				if m == nil || !m.Running() {
					return false, nil
				}
				if !replicas {
					continue
				}
				if info, err := m.info("replication"); err != nil || !strings.Contains(info, "connected_slaves:1") ||
					!strings.Contains(info, "state=online") {
					return false, err
				}
			}
		}
		return true, nil
	})
}

// shard is one slot range's servers as a node sees them.
type shard struct {
	slots  [][2]int64 // start, end
	master string     // address of the healthy master
}

// shards asks node for CLUSTER SHARDS: the shards that hold slots, each
// with its master (empty while it has none that is up).
func (c *Cluster) shards(node *Server) ([]shard, error) {
	cl := redis.NewClient(&redis.Options{Addr: node.Addr, MaxRetries: -1})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	all, err := cl.ClusterShards(ctx).Result()
	if err != nil {
		return nil, err
	}
	var out []shard
	for _, sh := range all {
		if len(sh.Slots) == 0 {
			continue
		}
		var s shard
		for _, r := range sh.Slots {
			s.slots = append(s.slots, [2]int64{r.Start, r.End})
		}
		for _, n := range sh.Nodes {
			if n.Role == "master" && n.Health == "online" {
				s.master = fmt.Sprintf("%s:%d", n.IP, n.Port)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// PrimaryFor is MasterOf.
func (c *Cluster) PrimaryFor(key string) (*Server, error) { return c.MasterOf(key) }

// MasterOf returns the running node that serves key now, as a client would
// find it: by the key's slot in CLUSTER SHARDS of a running node.
func (c *Cluster) MasterOf(key string) (*Server, error) {
	for _, n := range c.running() {
		v, err := n.Do("cluster", "keyslot", key)
		if err != nil {
			continue
		}
		slot, _ := v.(int64)
		shards, err := c.shards(n)
		if err != nil {
			continue
		}
		for _, sh := range shards {
			for _, r := range sh.slots {
				if r[0] <= slot && slot <= r[1] {
					if m := c.byAddr(sh.master); m != nil && m.Running() {
						return m, nil
					}
				}
			}
		}
	}
	return nil, errors.New("redistest: no running node knows the master of " + key)
}

// Topology is TopologyCluster.
func (c *Cluster) Topology() Topology { return TopologyCluster }

// Env points opsbot at one node only, as ElastiCache's configuration
// endpoint does: opsbot finds out it is a Cluster node by itself.
func (c *Cluster) Env() map[string]string {
	return map[string]string{"REDIS_URL": "redis://" + c.Nodes[0].Addr}
}

// Connect returns a Cluster client seeded with every node, closed at test end.
func (c *Cluster) Connect(t testing.TB) redis.UniversalClient {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// Stop kills every node.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes {
		n.Stop()
	}
}

// Restart starts the stopped nodes again (each keeps its nodes.conf, so
// the Cluster re-forms as it was) and waits until it is healthy.
func (c *Cluster) Restart() error {
	for _, n := range c.Nodes {
		if err := n.Restart(); err != nil {
			return err
		}
	}
	return c.WaitHealthy(20 * time.Second)
}

func (c *Cluster) running() []*Server {
	var out []*Server
	for _, n := range c.Nodes {
		if n.Running() {
			out = append(out, n)
		}
	}
	return out
}

func (c *Cluster) byAddr(addr string) *Server {
	for _, n := range c.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// waitAll waits until ok holds for CLUSTER INFO of every running node.
func (c *Cluster) waitAll(timeout time.Duration, what string, ok func(info string) bool) error {
	return waitFor(timeout, what, func() (bool, error) {
		for _, n := range c.running() {
			v, err := n.Do("cluster", "info")
			if err != nil {
				return false, err
			}
			if s, _ := v.(string); !ok(s) {
				return false, nil
			}
		}
		return true, nil
	})
}

// ReplicasOf returns the running replicas master reports (INFO replication).
func (c *Cluster) ReplicasOf(master *Server) []*Server {
	info, err := master.info("replication")
	if err != nil {
		return nil
	}
	var out []*Server
	for l := range strings.SplitSeq(info, "\n") {
		// slave0:ip=127.0.0.1,port=6380,state=online,offset=...,lag=0
		if !strings.HasPrefix(l, "slave") || !strings.Contains(l, "port=") {
			continue
		}
		port := l[strings.Index(l, "port=")+len("port="):]
		port, _, _ = strings.Cut(port, ",")
		if r := c.byAddr("127.0.0.1:" + port); r != nil && r.Running() {
			out = append(out, r)
		}
	}
	return out
}
