// Package redistest starts throwaway real redis-servers for tests: a single
// server (Start), a primary with a replica (StartReplica), a 3-master Redis
// Cluster with a replica each (StartCluster) and a Sentinel set-up
// (StartSentinel). Deploy starts the topology OPSBOT_TEST_REDIS names, for
// the end-to-end suite.
//
// Each server listens on its own free loopback port with persistence off and
// a private directory, so tests share no state. Tests may Stop and Start it
// again to exercise fault handling; the port stays the same so clients
// reconnect. Everything is skipped when redis-server is not installed,
// unless OPSBOT_REQUIRE_REDIS is set (CI), which makes it fail instead.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server child process owned by one test (or one package via TestMain).
type Server struct {
	Addr string // host:port
	dir  string
	// persistent keeps an append-only file fsynced on every write, so data
	// survives Stop (a crash) and Restart, as a production Redis with AOF.
	persistent bool
	// args are added to the command line (Cluster mode, replicaof, ...);
	// conf, when set, is a config file given first (a sentinel's).
	args []string
	conf string
	// busPort is a Cluster node's bus port, chosen free like Addr's:
	// Redis's default (port+10000) may be another process's port.
	busPort int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// errExited marks a redis-server that exited while starting: most often
// its port was taken between freePort choosing it and the server binding it.
var errExited = errors.New("redistest: redis-server exited while starting")

// Available reports whether redis-server is on PATH.
func Available() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// need skips t when redis-server is missing, or fails it when
// OPSBOT_REQUIRE_REDIS is set (CI sets it so a missing install fails loudly).
func need(t testing.TB) {
	t.Helper()
	if Available() {
		return
	}
	if os.Getenv("OPSBOT_REQUIRE_REDIS") != "" {
		t.Fatal("redis-server not found on PATH and OPSBOT_REQUIRE_REDIS is set")
	}
	t.Skip("redis-server not found on PATH")
}

// Start starts a redis-server for t and stops it in t.Cleanup. The test is
// skipped when redis-server is not installed, unless OPSBOT_REQUIRE_REDIS is
// set (CI sets it so a missing install fails loudly instead of skipping).
func Start(t testing.TB) *Server {
	t.Helper()
	need(t)
	return startServer(t, false)
}

// StartPersistent is Start with an append-only file (fsync always): what
// was written survives Stop and Restart, for tests of crash recovery.
func StartPersistent(t testing.TB) *Server {
	t.Helper()
	need(t)
	return startServer(t, true)
}

// startServer starts a server with extra arguments, stopped at test end.
func startServer(t testing.TB, persistent bool, args ...string) *Server {
	t.Helper()
	s, err := newServer(t.TempDir(), persistent, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// New starts a redis-server whose files live in dir. The caller must Stop it.
func New(dir string) (*Server, error) { return newServer(dir, false) }

func newServer(dir string, persistent bool, args ...string) (*Server, error) {
	return launch(dir, "", persistent, args...)
}

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Client returns a fresh go-redis client for the server, closed at test end.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (s *Server) port() string {
	_, port, _ := net.SplitHostPort(s.Addr)
	return port
}

// Restart starts the process if it is not running, and waits until it answers PING.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	var argv []string
	if s.conf != "" {
		argv = append(argv, s.conf)
	}
	argv = append(argv, "--port", s.port(), "--bind", "127.0.0.1", "--save", "")
	if s.busPort != 0 {
		argv = append(argv, "--cluster-port", strconv.Itoa(s.busPort))
	}
	if s.persistent {
		argv = append(argv, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		argv = append(argv, "--appendonly", "no")
	}
	argv = append(argv, "--dir", s.dir, "--daemonize", "no",
		// A replica syncs at once instead of after the default 5 s.
		"--repl-diskless-sync-delay", "0",
		// Fault tests use DEBUG SLEEP to hold the server busy.
		"--enable-debug-command", "local",
		"--logfile", filepath.Join(s.dir, "redis.log"))
	cmd := exec.Command("redis-server", append(argv, s.args...)...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	// Short timeouts of its own: go-redis ignores a context's deadline
	// unless told, and a check between PINGs must come often.
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1,
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond})
	defer c.Close()
	// A loaded CI machine running many servers at once can be slow to
	// start one; 30 s is generous, and an exit is noticed at once.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			s.cmd, s.done = nil, nil
			return fmt.Errorf("%w on %s: %s", errExited, s.Addr, s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("redistest: redis-server on %s did not answer PING within 30s: %s", s.Addr, s.logTail())
}

// Stop kills the process (as a crash would) and waits for it to exit. Data is lost.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}

// Running reports whether the process is up (not stopped by Stop).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Pause freezes the process (SIGSTOP) as a hung host would: connections
// stay open but nothing is answered, replicated or acknowledged. Resume
// undoes it; Stop works on a paused server.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume lets a paused server run again.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Flush empties every database, for tests sharing one server across subtests.
func (s *Server) Flush(t testing.TB) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		t.Fatalf("redistest: flushall: %v", err)
	}
}

// Do runs one command on the server with a short timeout.
func (s *Server) Do(args ...any) (any, error) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Do(ctx, args...).Result()
}

// waitFor polls ok every 50 ms until it reports true or timeout passes.
func waitFor(timeout time.Duration, what string, ok func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		done, err := ok()
		if done {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("redistest: %s within %s: %w", what, timeout, last)
			}
			return fmt.Errorf("redistest: not %s within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
