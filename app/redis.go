package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/store"
	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// redisConn is the opened state store.
type redisConn struct {
	rdb     redis.UniversalClient
	cluster bool   // a Redis Cluster: keys carry a hash tag
	mode    string // for logs: embedded, single, sentinel, cluster
	close   func()
}

// store wraps the connection in the state store with the configured
// replica wait (by default one replica with Sentinel or Cluster).
func (c *redisConn) store(cfg *config.Config) *store.Store {
	return store.New(c.rdb, cfg.Redis.Prefix,
		store.WaitReplicas(cfg.RedisWaitReplicas(c.cluster), cfg.Redis.WaitTimeout.Std()))
}

// detectTimeout bounds the start-up question "are you a Cluster node?",
// retried while Redis is still starting (a compose file starts both).
const detectTimeout = 10 * time.Second

// openRedis connects to the configured Redis: REDIS_URL or redis.addrs
// (credentials from REDIS_URL), as Sentinel, Cluster or a single server. A
// single endpoint without redis.cluster is asked whether it is a Cluster
// node (ElastiCache's configuration endpoint is one), so keys do not fail
// with MOVED. Without either, it starts an embedded in-memory store.
func openRedis(ctx context.Context, cfg *config.Config, log *slog.Logger) (*redisConn, error) {
	if cfg.RedisMode() == config.RedisEmbedded {
		return openEmbedded(cfg, log)
	}
	opts, unix, err := redisOptions(cfg)
	if err != nil {
		return nil, err
	}
	if unix != nil {
		rdb := redis.NewClient(unix)
		return &redisConn{rdb: rdb, mode: "single", close: func() { _ = rdb.Close() }}, nil
	}
	dctx, cancel := context.WithTimeout(ctx, detectTimeout)
	cluster, err := clusterMode(dctx, cfg, opts)
	cancel()
	var unreached *unreachedError
	switch {
	case errors.As(err, &unreached) && cfg.RedisMode() == config.RedisSingle:
		log.Warn("could not check that Redis is not a Cluster node", "err", err)
	case errors.As(err, &unreached):
		return nil, fmt.Errorf("%w (set redis.cluster to true or false to start without asking)", err)
	case err != nil:
		return nil, err
	}
	c := &redisConn{cluster: cluster, mode: "single"}
	switch {
	case cluster:
		c.mode, opts.IsClusterMode = "cluster", true
	case opts.MasterName != "":
		c.mode = "sentinel"
	}
	c.rdb = redis.NewUniversalClient(opts)
	if cc, ok := c.rdb.(*redis.ClusterClient); ok {
		cc.AddHook(reloadOnFailure{cc})
	}
	c.close = func() { _ = c.rdb.Close() }
	return c, nil
}

// redisOptions builds the client options; for a unix socket (REDIS_URL
// unix://, no addrs) it returns the single client's options instead.
func redisOptions(cfg *config.Config) (*redis.UniversalOptions, *redis.Options, error) {
	opts := &redis.UniversalOptions{
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second,
		PoolTimeout: 3 * time.Second, MaxRetries: 2, DB: cfg.RedisDB(),
		// One dial per try: go-redis's default of 5 dials per try, times
		// MaxRetries, times the sentinels asked for the primary, kept a
		// command waiting for many seconds before it could refuse.
		DialerRetries: 1,
		Addrs:         cfg.Redis.Addrs, MasterName: cfg.Redis.MasterName,
	}
	url := cfg.Secrets.RedisURL.Reveal()
	if url == "" {
		return opts, nil, nil
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err) // ParseURL never echoes the password
	}
	opts.Username, opts.Password, opts.TLSConfig = o.Username, o.Password, o.TLSConfig
	if len(opts.Addrs) > 0 {
		return opts, nil, nil
	}
	if o.Network == "unix" {
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout
		o.PoolTimeout, o.MaxRetries, o.DB, o.DialerRetries = opts.PoolTimeout, opts.MaxRetries, opts.DB, opts.DialerRetries
		return nil, o, nil
	}
	opts.Addrs = []string{o.Addr}
	return opts, nil, nil
}

// unreachedError is a Cluster question that got no answer.
type unreachedError struct{ err error }

func (e *unreachedError) Error() string { return e.err.Error() }
func (e *unreachedError) Unwrap() error { return e.err }

// clusterMode tells whether the servers are a Redis Cluster: as configured
// (Sentinel: no; redis.cluster: true or several addrs: yes), else as the
// endpoint answers. redis.cluster: false on a Cluster node is an error: every
// command would fail with MOVED.
func clusterMode(ctx context.Context, cfg *config.Config, opts *redis.UniversalOptions) (bool, error) {
	mode := cfg.RedisMode()
	switch mode {
	case config.RedisSentinel:
		return false, nil
	case config.RedisCluster:
		return true, nil
	}
	isCluster, err := askCluster(ctx, opts)
	var refused redis.Error
	switch {
	case errors.As(err, &refused): // e.g. a wrong password: no point in deciding without asking
		return false, fmt.Errorf("ask %s whether it is a Redis Cluster node: %w", opts.Addrs[0], err)
	case err != nil:
		return false, &unreachedError{fmt.Errorf("ask %s whether it is a Redis Cluster node: %w", opts.Addrs[0], err)}
	case isCluster && mode == config.RedisSingle:
		return true, fmt.Errorf("redis.cluster is false, but %s is a Redis Cluster node: every command would fail with MOVED; set redis.cluster: true", opts.Addrs[0])
	}
	return isCluster, nil
}

// askCluster asks the first address whether it runs in Cluster mode (INFO
// cluster), retrying connection failures until ctx ends. A server that
// refuses INFO (some managed services rename it) is taken for a single
// one; a refused password is returned as the server's error.
func askCluster(ctx context.Context, opts *redis.UniversalOptions) (bool, error) {
	o := opts.Simple()
	o.MaxRetries = -1
	c := redis.NewClient(o)
	defer c.Close()
	for {
		info, err := c.Info(ctx, "cluster").Result()
		if err == nil {
			return strings.Contains(info, "cluster_enabled:1"), nil
		}
		var rerr redis.Error
		if errors.As(err, &rerr) && !strings.HasPrefix(rerr.Error(), "LOADING") {
			if strings.HasPrefix(rerr.Error(), "NOAUTH") || strings.HasPrefix(rerr.Error(), "WRONGPASS") {
				return false, err
			}
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// reloadOnFailure makes the Cluster client fetch the slot map again after a
// command failed for want of a node: go-redis does so by itself only on
// MOVED or once its map is 10 s old, so after a master dies it would keep
// dialling the dead address for up to 10 s after its replica took over.
type reloadOnFailure struct{ c *redis.ClusterClient }

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.after(ctx, err)
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.after(ctx, err)
		return err
	}
}

func (h reloadOnFailure) after(ctx context.Context, err error) {
	var rerr redis.Error
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, redis.TxFailedErr) || errors.Is(err, context.Canceled) {
		return
	}
	if !errors.As(err, &rerr) || strings.HasPrefix(rerr.Error(), "CLUSTERDOWN") || strings.HasPrefix(rerr.Error(), "READONLY") {
		h.c.ReloadState(ctx) // lazy: at most one reload in flight
	}
}

// openEmbedded starts the in-memory store of the local console (and of a
// Slack bot without REDIS_URL). It listens on loopback, so it requires a
// random password: another local process must not make itself admin or
// read the form-signing key.
func openEmbedded(cfg *config.Config, log *slog.Logger) (*redisConn, error) {
	if cfg.SlackEnabled() {
		log.Warn("REDIS_URL is not set: using an in-memory store; roles and state are lost on restart and replicas do not share them")
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("embedded store: password: %w", err)
	}
	password := hex.EncodeToString(b[:])
	mr := miniredis.NewMiniRedis()
	mr.RequireAuth(password)
	if err := mr.Start(); err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	mr.ClockTTL(true) // keys with a TTL (dedup, locks) expire by wall clock
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), Password: password,
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	return &redisConn{rdb: rdb, mode: "embedded", close: func() { _ = rdb.Close(); mr.Close() }}, nil
}
