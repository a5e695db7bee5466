package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

// The embedded store listens on loopback: a local process without its
// random password can neither make itself admin nor read the signing key.
func TestEmbeddedStoreRefusesClientsWithoutItsPassword(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := openRedis(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.close()
	ctx := context.Background()
	st := conn.store(cfg)
	if _, err := st.SigningKey(ctx); err != nil {
		t.Fatalf("opsbot's own client: %v", err)
	}
	addr := conn.rdb.(*redis.Client).Options().Addr
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("embedded store listens on %s, want loopback", addr)
	}
	intruder := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer intruder.Close()
	for name, err := range map[string]error{
		"PING":                    intruder.Ping(ctx).Err(),
		"GET opsbot:signing-key":  intruder.Get(ctx, "opsbot:signing-key").Err(),
		"SADD opsbot:roles:UEVIL": intruder.SAdd(ctx, "opsbot:roles:UEVIL", "admin").Err(),
	} {
		if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("%s without the password: %v, want NOAUTH", name, err)
		}
	}
	guess := redis.NewClient(&redis.Options{Addr: addr, Password: "opsbot", MaxRetries: -1})
	defer guess.Close()
	if err := guess.Ping(ctx).Err(); err == nil {
		t.Error("a guessed password was accepted")
	}
	if roles, err := st.Roles(ctx, "UEVIL"); err != nil || len(roles) != 0 {
		t.Fatalf("roles of the intruder = %v, %v", roles, err)
	}
}

func TestConfigCheckSaysWhichRedis(t *testing.T) {
	c := redistest.StartCluster(t)
	single := redistest.Start(t)
	plain := writeYAML(t, "admins: [U0ADMIN001]\n")
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		code int
		want string
	}{
		{"one Cluster endpoint", plain, map[string]string{"REDIS_URL": "redis://" + c.Nodes[1].Addr}, exitOK,
			`redis: Redis Cluster (REDIS_URL is a Cluster node); keys under "{opsbot}:", one hash slot; audited writes wait up to 1s for 1 replica(s)`},
		{"told it is not a Cluster, but it is", writeYAML(t, "redis:\n  cluster: false\n"), map[string]string{"REDIS_URL": "redis://" + c.Nodes[0].Addr}, exitUsage,
			"redis.cluster is false, but " + c.Nodes[0].Addr + " is a Redis Cluster node: every command would fail with MOVED"},
		{"a single server", plain, map[string]string{"REDIS_URL": single.URL()}, exitOK,
			`redis: a single server (REDIS_URL says it is not a Cluster node); keys under "opsbot:"; audited writes do not wait for replicas`},
		{"nobody answers", writeYAML(t, "redis:\n  addrs: [\"127.0.0.1:1\"]\n"), nil, exitOK,
			"redis: redis.addrs[0] not reached"},
		{"Sentinel", writeYAML(t, "redis:\n  addrs: [\"s1:26379\", \"s2:26379\"]\n  master_name: opsbot\n  wait_timeout: 500ms\n"), nil, exitOK,
			`redis: Sentinel: master "opsbot" through 2 sentinel(s); keys under "opsbot:"; audited writes wait up to 500ms for 1 replica(s)`},
		{"embedded", plain, nil, exitOK, "redis: no REDIS_URL or redis.addrs: an embedded in-memory store on loopback with a random password"},
		{"prefix that breaks the hash tag", writeYAML(t, "redis:\n  prefix: \"team{a:\"\n"), nil, exitUsage,
			`redis.prefix: "team{a:" opens a Redis Cluster hash tag`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := Run(context.Background(), []string{"opsbot", "config", "check", tt.yaml}, func(k string) string { return tt.env[k] }, nil, &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("exit %d (want %d), output:\n%s\nwant it to contain:\n%s", code, tt.code, out.String(), tt.want)
			}
		})
	}
}
