package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRedisProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string // problem lines, without the file name
	}{
		{"prefix opens a hash tag it does not close", "redis:\n  prefix: \"team{a:\"\n", nil, []string{
			`2: redis.prefix: "team{a:" opens a Redis Cluster hash tag with "{" but does not close it, so the rest of each key would complete the tag and scatter the keys across slots: close it in the prefix, e.g. "{team-a}:", or drop the "{"`}},
		{"empty hash tag", "redis:\n  prefix: \"{}opsbot:\"\n", nil, []string{
			`2: redis.prefix: "{}opsbot:" holds an empty hash tag "{}", which Redis ignores, so the keys would scatter across Cluster slots: name it, e.g. "{team-a}:"`}},
		{"prefix from the environment", "", map[string]string{"OPSBOT_REDIS_PREFIX": "x{y"}, []string{
			`OPSBOT_REDIS_PREFIX: "x{y" opens a Redis Cluster hash tag with "{" but does not close it, so the rest of each key would complete the tag and scatter the keys across slots: close it in the prefix, e.g. "{team-a}:", or drop the "{"`}},
		{"db in the file and another in REDIS_URL", "redis:\n  db: 2\n", map[string]string{"REDIS_URL": "redis://redis:6379/3"}, []string{
			`2: redis.db: 2, but REDIS_URL selects database 3: set the number in one place`}},
		{"db on a Cluster", "redis:\n  cluster: true\n  db: 2\n", map[string]string{"REDIS_URL": "redis://redis:6379"}, []string{
			`3: redis.db: Redis Cluster has only database 0`}},
		{"REDIS_URL db on a Cluster", "redis:\n  addrs: [a:1, b:2]\n", map[string]string{"REDIS_URL": "redis://redis:6379/4"}, []string{
			`REDIS_URL: selects database 4, but Redis Cluster has only database 0`}},
		{"REDIS_URL path not a number", "", map[string]string{"REDIS_URL": "redis://redis:6379/zero"}, []string{
			`REDIS_URL: the path must be a database number, e.g. redis://redis:6379/0 (value not shown)`}},
		{"cluster with sentinel", "redis:\n  addrs: [s:26379]\n  master_name: m\n  cluster: true\n", nil, []string{
			`4: redis.cluster: true does not go with redis.master_name: Sentinel watches a single primary, a Cluster has no sentinels`}},
		{"not a cluster, but several addrs", "redis:\n  addrs: [a:1, b:2]\n  cluster: false\n", nil, []string{
			`3: redis.cluster: false with 2 addresses in redis.addrs: give one server, set redis.master_name for Sentinel, or drop redis.cluster`}},
		{"cluster without a server", "redis:\n  cluster: true\n", nil, []string{
			`2: redis.cluster: is set but no server is named: set REDIS_URL or redis.addrs`}},
		{"cluster on a unix socket", "redis:\n  cluster: true\n", map[string]string{"REDIS_URL": "unix:///run/redis.sock"}, []string{
			`2: redis.cluster: true, but REDIS_URL is a unix socket: a Cluster is reached over TCP`}},
		{"wait bounds", "redis:\n  wait_replicas: -1\n  wait_timeout: 30s\n", nil, []string{
			`2: redis.wait_replicas: -1: want 0 (do not wait) to 16`,
			`3: redis.wait_timeout: 30s: want 10ms to 5s (a person waits for the answer)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeConfig(t, tt.yaml)
			}
			_, err := Load(path, envOf(tt.env))
			if err == nil {
				t.Fatal("Load accepted it")
			}
			var got []string
			for l := range strings.SplitSeq(err.Error(), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					_, rest, ok := strings.Cut(l, "opsbot.yaml:")
					if ok {
						l = rest
					}
					got = append(got, l)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestRedisModeAndDefaults(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		env      map[string]string
		mode     RedisMode
		db       int
		wait     int // replicas waited for when the servers turn out to be a Cluster (true) or not
		waitNoCl int
	}{
		{"nothing: embedded", "", nil, RedisEmbedded, 0, 1, 0},
		{"REDIS_URL alone: asked at start", "", map[string]string{"REDIS_URL": "redis://r:6379/2"}, RedisDetect, 2, 1, 0},
		{"one addr without REDIS_URL: used, asked", "redis:\n  addrs: [r:6379]\n  db: 3\n", nil, RedisDetect, 3, 1, 0},
		{"REDIS_URL /0 and redis.db", "redis:\n  db: 3\n", map[string]string{"REDIS_URL": "redis://r:6379/0"}, RedisDetect, 3, 1, 0},
		{"unix socket db", "", map[string]string{"REDIS_URL": "unix:///run/redis.sock?db=5"}, RedisDetect, 5, 1, 0},
		{"several addrs: cluster", "redis:\n  addrs: [a:1, b:2]\n", nil, RedisCluster, 0, 1, 0},
		{"told: cluster", "redis:\n  cluster: true\n", map[string]string{"REDIS_URL": "rediss://cfg.example:6379"}, RedisCluster, 0, 1, 0},
		{"told: single", "redis:\n  cluster: false\n  wait_replicas: 2\n", map[string]string{"REDIS_URL": "redis://r"}, RedisSingle, 0, 2, 2},
		{"sentinel from the environment", "", map[string]string{"OPSBOT_REDIS_ADDRS": "s1:26379, s2:26379", "OPSBOT_REDIS_MASTER_NAME": "opsbot"}, RedisSentinel, 0, 1, 1},
		{"sentinel, wait off", "redis:\n  addrs: [s:26379]\n  master_name: m\n  wait_replicas: 0\n", nil, RedisSentinel, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeConfig(t, tt.yaml)
			}
			cfg, err := Load(path, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.RedisMode(); got != tt.mode {
				t.Errorf("mode = %d, want %d", got, tt.mode)
			}
			if got := cfg.RedisDB(); got != tt.db {
				t.Errorf("db = %d, want %d", got, tt.db)
			}
			if got, got2 := cfg.RedisWaitReplicas(true), cfg.RedisWaitReplicas(false); got != tt.wait || got2 != tt.waitNoCl {
				t.Errorf("wait replicas = %d (cluster), %d (not); want %d, %d", got, got2, tt.wait, tt.waitNoCl)
			}
			if cfg.Redis.WaitTimeout.Std() != time.Second {
				t.Errorf("wait timeout = %v", cfg.Redis.WaitTimeout)
			}
		})
	}
}
