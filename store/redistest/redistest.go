// Package redistest starts a throwaway real redis-server for a test package.
//
// Each Server listens on its own free loopback port with persistence off and a
// private directory, so tests share no state. Tests may Stop and Start it again
// to exercise fault handling; the port stays the same so clients reconnect.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
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

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Available reports whether redis-server is on PATH.
func Available() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// Start starts a redis-server for t and stops it in t.Cleanup. The test is
// skipped when redis-server is not installed, unless OPSBOT_REQUIRE_REDIS is
// set (CI sets it so a missing install fails loudly instead of skipping).
func Start(t testing.TB) *Server {
	t.Helper()
	if !Available() {
		if os.Getenv("OPSBOT_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server not found on PATH and OPSBOT_REQUIRE_REDIS is set")
		}
		t.Skip("redis-server not found on PATH")
	}
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartPersistent is Start with an append-only file (fsync always): what
// was written survives Stop and Restart, for tests of crash recovery.
func StartPersistent(t testing.TB) *Server {
	t.Helper()
	if !Available() {
		Start(t) // skips or fails as Start does
	}
	s := &Server{dir: t.TempDir(), persistent: true}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// New starts a redis-server whose files live in dir. The caller must Stop it.
func New(dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Client returns a fresh go-redis client for the server, closed at test end.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Restart starts the process if it is not running, and waits until it answers PING.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	_, port, _ := net.SplitHostPort(s.Addr)
	aof := []string{"--appendonly", "no"}
	if s.persistent {
		aof = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	cmd := exec.Command("redis-server", append([]string{
		"--port", port, "--bind", "127.0.0.1",
		"--save", ""}, aof...)...)
	cmd.Args = append(cmd.Args,
		"--dir", s.dir, "--daemonize", "no",
		// Fault tests use DEBUG SLEEP to hold the server busy.
		"--enable-debug-command", "local",
		"--logfile", filepath.Join(s.dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start redis-server: %w", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redistest: redis-server on %s did not answer PING within 10s", s.Addr)
}

// Stop kills the process (as a crash would) and waits for it to exit. Data is lost.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
