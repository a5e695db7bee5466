package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Redis selects the state store. The URL (it may hold a password) comes from
// REDIS_URL; the file (or OPSBOT_REDIS_ADDRS, OPSBOT_REDIS_MASTER_NAME) may
// name the servers instead, for Sentinel and Cluster.
type Redis struct {
	Prefix     string   `yaml:"prefix"`      // key prefix, default "opsbot:"
	Addrs      []string `yaml:"addrs"`       // host:port: Cluster seeds, the sentinels with master_name, or one server
	MasterName string   `yaml:"master_name"` // Sentinel master
	DB         int      `yaml:"db"`          // database number (not on a Cluster); REDIS_URL's /N must agree
	// Cluster says whether the servers are a Redis Cluster. Unset: several
	// addrs are a Cluster, and a single endpoint (REDIS_URL or one addr;
	// ElastiCache's configuration endpoint is one) is asked at start.
	Cluster *bool `yaml:"cluster"`
	// WaitReplicas is how many replicas must confirm an audited write
	// (grant, revoke, silence, threshold, change request) before opsbot calls
	// it recorded (Redis WAIT). Unset: 1 with Sentinel or Cluster, 0 with a
	// single server. 0 turns the wait off.
	WaitReplicas *int `yaml:"wait_replicas"`
	// WaitTimeout bounds that wait (default 1s, at most 5s); past it the
	// person is told the write is on the primary only.
	WaitTimeout Duration `yaml:"wait_timeout"`
}

// Defaults and bounds of the replica wait.
const (
	DefaultRedisWaitTimeout = time.Second
	maxRedisWaitTimeout     = 5 * time.Second
	maxRedisWaitReplicas    = 16
)

// RedisMode is how opsbot reaches Redis, as far as the configuration tells.
type RedisMode int

// The modes. RedisDetect is a single endpoint with redis.cluster unset:
// opsbot asks it at start whether it is a Cluster node.
const (
	RedisEmbedded RedisMode = iota // no REDIS_URL, no addrs: in-process store, lost at exit
	RedisSingle                    // one server (redis.cluster: false)
	RedisSentinel                  // master_name + the sentinels in addrs
	RedisCluster                   // several addrs, or redis.cluster: true
	RedisDetect                    // one endpoint, redis.cluster unset
)

// RedisMode tells which kind of Redis the configuration names.
func (c *Config) RedisMode() RedisMode {
	r := c.Redis
	switch {
	case r.MasterName != "":
		return RedisSentinel
	case r.Cluster != nil && *r.Cluster:
		return RedisCluster
	case r.Cluster != nil:
		return RedisSingle
	case len(r.Addrs) > 1:
		return RedisCluster
	case len(r.Addrs) == 1 || c.Secrets.RedisURL != "":
		return RedisDetect
	}
	return RedisEmbedded
}

// RedisWaitReplicas is the number of replicas an audited write waits for,
// given whether the servers turned out to be a Cluster.
func (c *Config) RedisWaitReplicas(cluster bool) int {
	if n := c.Redis.WaitReplicas; n != nil {
		return *n
	}
	if cluster || c.RedisMode() == RedisSentinel {
		return 1
	}
	return 0
}

// RedisDB is the database to select: redis.db, or else the number in
// REDIS_URL (redis://host/N, unix:///path?db=N). 0 is the default in both
// places, so a non-zero number in either wins; Load refuses two different
// non-zero numbers.
func (c *Config) RedisDB() int {
	if c.Redis.DB != 0 {
		return c.Redis.DB
	}
	return c.redisURLDB()
}

func (c *Config) redisURLDB() int {
	u, err := url.Parse(c.Secrets.RedisURL.Reveal())
	if err != nil || c.Secrets.RedisURL == "" {
		return 0
	}
	raw := strings.Trim(u.Path, "/")
	if u.Scheme == "unix" {
		raw = u.Query().Get("db")
	}
	n, _ := strconv.Atoi(raw)
	return n
}

func applyRedisDefaults(r *Redis) {
	if r.Prefix == "" {
		r.Prefix = DefaultRedisPrefix
	}
	defDuration(&r.WaitTimeout, DefaultRedisWaitTimeout)
}

func validateRedis(cfg *Config, c *collector) {
	r := cfg.Redis
	if r.Prefix == "" || strings.ContainsFunc(r.Prefix, unicode.IsSpace) {
		c.add("redis.prefix", "%q: the key prefix must be non-empty and without spaces", r.Prefix)
	} else if msg := hashTagProblem(r.Prefix); msg != "" {
		c.add("redis.prefix", "%q %s", r.Prefix, msg)
	}
	for i, addr := range r.Addrs {
		if host, port, err := net.SplitHostPort(addr); err != nil || host == "" || !validPort(port) {
			c.add(fmt.Sprintf("redis.addrs[%d]", i), "%q is not host:port", addr)
		}
	}
	if r.MasterName != "" && len(r.Addrs) == 0 {
		c.add("redis.master_name", "Sentinel needs the sentinels' host:port in redis.addrs")
	}
	if r.MasterName != "" && r.Cluster != nil && *r.Cluster {
		c.add("redis.cluster", "true does not go with redis.master_name: Sentinel watches a single primary, a Cluster has no sentinels")
	}
	if r.MasterName == "" && r.Cluster != nil && !*r.Cluster && len(r.Addrs) > 1 {
		c.add("redis.cluster", "false with %d addresses in redis.addrs: give one server, set redis.master_name for Sentinel, or drop redis.cluster", len(r.Addrs))
	}
	if r.Cluster != nil && len(r.Addrs) == 0 && cfg.Secrets.RedisURL == "" {
		c.add("redis.cluster", "is set but no server is named: set REDIS_URL or redis.addrs")
	}
	if cfg.RedisMode() == RedisCluster && len(r.Addrs) == 0 && strings.HasPrefix(cfg.Secrets.RedisURL.Reveal(), "unix:") {
		c.add("redis.cluster", "true, but REDIS_URL is a unix socket: a Cluster is reached over TCP")
	}
	urlDB := cfg.redisURLDB()
	if mode := cfg.RedisMode(); mode == RedisCluster && r.DB != 0 {
		c.add("redis.db", "Redis Cluster has only database 0")
	} else if mode == RedisCluster && urlDB != 0 {
		c.addEnv("REDIS_URL", "selects database %d, but Redis Cluster has only database 0", urlDB)
	}
	if r.DB < 0 {
		c.add("redis.db", "%d: the database number cannot be negative", r.DB)
	}
	if r.DB != 0 && urlDB != 0 && urlDB != r.DB {
		c.add("redis.db", "%d, but REDIS_URL selects database %d: set the number in one place", r.DB, urlDB)
	}
	if n := r.WaitReplicas; n != nil && (*n < 0 || *n > maxRedisWaitReplicas) {
		c.add("redis.wait_replicas", "%d: want 0 (do not wait) to %d", *n, maxRedisWaitReplicas)
	}
	if d := r.WaitTimeout.Std(); d < 10*time.Millisecond || d > maxRedisWaitTimeout {
		c.add("redis.wait_timeout", "%s: want 10ms to %s (a person waits for the answer)", r.WaitTimeout, Duration(maxRedisWaitTimeout))
	}
	validateRedisURL(cfg.Secrets.RedisURL.Reveal(), c)
}

func validateRedisURL(raw string, c *collector) {
	if raw == "" {
		return
	}
	// Never quote the URL: it may hold a password.
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		c.addEnv("REDIS_URL", "not a valid URL (value not shown)")
	case u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix":
		c.addEnv("REDIS_URL", "scheme must be redis://, rediss:// or unix:// (value not shown)")
	case u.Scheme == "unix" && u.Path == "":
		c.addEnv("REDIS_URL", "unix:// needs a socket path, e.g. unix:///run/redis.sock (value not shown)")
	case u.Scheme != "unix" && u.Host == "":
		c.addEnv("REDIS_URL", "needs a host, e.g. redis://redis:6379/0 (value not shown)")
	case u.Scheme != "unix" && strings.Trim(u.Path, "/") != "" && !isDigits(strings.Trim(u.Path, "/")):
		c.addEnv("REDIS_URL", "the path must be a database number, e.g. redis://redis:6379/0 (value not shown)")
	}
}

// hashTagProblem says why keys under prefix would not all hash to one
// Redis Cluster slot, or returns "". Redis hashes only the part between the
// first "{" and the first "}" after it when that part is not empty; the
// store's multi-key scripts and transactions need every key in one slot. A
// prefix without "{" is fine: on a Cluster the store wraps it in a tag.
func hashTagProblem(prefix string) string {
	open := strings.IndexByte(prefix, '{')
	if open < 0 {
		return ""
	}
	switch end := strings.IndexByte(prefix[open+1:], '}'); end {
	case -1:
		return `opens a Redis Cluster hash tag with "{" but does not close it, so the rest of each key would complete the tag and scatter the keys across slots: close it in the prefix, e.g. "{team-a}:", or drop the "{"`
	case 0:
		return `holds an empty hash tag "{}", which Redis ignores, so the keys would scatter across Cluster slots: name it, e.g. "{team-a}:"`
	}
	return ""
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
