package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/store"
)

// checkConfig is `opsbot config check FILE`: every problem of the file and
// the environment, or "ok" and how opsbot will reach Redis. A single
// endpoint without redis.cluster is asked whether it is a Cluster node when
// it can be reached; that a server is down is no problem of the file.
func checkConfig(ctx context.Context, path string, getenv func(string) string, stdout, stderr io.Writer) int {
	if err := config.Check(path, getenv, probeRule); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitUsage
	}
	cfg, err := config.Load(path, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitUsage
	}
	desc, err := describeRedis(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s: ok\nredis: %s\n", path, desc)
	return exitOK
}

// describeRedis says in one line which Redis opsbot will use, with what key
// prefix and replica wait. It fails only when redis.cluster contradicts
// the server.
func describeRedis(ctx context.Context, cfg *config.Config) (string, error) {
	r := cfg.Redis
	wait := func(cluster bool) string {
		n := cfg.RedisWaitReplicas(cluster)
		if n == 0 {
			return "audited writes do not wait for replicas (redis.wait_replicas: 0)"
		}
		return fmt.Sprintf("audited writes wait up to %s for %d replica(s) (redis.wait_replicas)", r.WaitTimeout, n)
	}
	cluster := func(why string) string {
		return fmt.Sprintf("Redis Cluster (%s); keys under %q, one hash slot; %s", why, store.KeyPrefix(r.Prefix, true), wait(true))
	}
	switch cfg.RedisMode() {
	case config.RedisEmbedded:
		return "no REDIS_URL or redis.addrs: an embedded in-memory store on loopback with a random password; state is lost at exit and not shared between replicas", nil
	case config.RedisSentinel:
		return fmt.Sprintf("Sentinel: master %q through %d sentinel(s); keys under %q; %s", r.MasterName, len(r.Addrs), r.Prefix, wait(false)), nil
	case config.RedisCluster:
		if r.Cluster != nil {
			return cluster("redis.cluster: true"), nil
		}
		return cluster(fmt.Sprintf("%d addresses in redis.addrs", len(r.Addrs))), nil
	}
	where := "REDIS_URL"
	if len(r.Addrs) == 1 {
		where = "redis.addrs[0]"
	}
	opts, unix, err := redisOptions(cfg)
	if err != nil {
		return "", err
	}
	if unix != nil {
		return fmt.Sprintf("a single server on a unix socket; keys under %q; %s", r.Prefix, wait(false)), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	isCluster, err := clusterMode(ctx, cfg, opts)
	var unreached *unreachedError
	switch {
	case errors.As(err, &unreached) && r.Cluster != nil:
		return fmt.Sprintf("a single server (redis.cluster: false; %s not reached to confirm it); keys under %q; %s", where, r.Prefix, wait(false)), nil
	case errors.As(err, &unreached):
		return fmt.Sprintf("%s not reached (%v); opsbot asks it at start whether it is a Redis Cluster node (set redis.cluster to decide)", where, err), nil
	case err != nil:
		return "", err
	case isCluster:
		return cluster(where + " is a Cluster node"), nil
	}
	return fmt.Sprintf("a single server (%s says it is not a Cluster node); keys under %q; %s", where, r.Prefix, wait(false)), nil
}
