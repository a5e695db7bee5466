package redistest

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A server whose port is already taken exits; Restart must say so at once
// with the server's own reason, not wait out the PING deadline.
func TestRestartReportsAnExitAtOnce(t *testing.T) {
	need(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := &Server{Addr: l.Addr().String(), dir: t.TempDir()}
	start := time.Now()
	err = s.Restart()
	if !errors.Is(err, errExited) {
		t.Fatalf("Restart on a taken port = %v, want errExited", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the exit was noticed after %v", took)
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Errorf("error does not carry the server's reason: %v", err)
	}
	if s.Running() {
		t.Error("an exited server reports Running")
	}
	s.Stop() // must not block on a process already gone
}

// A Cluster node's bus port is chosen free too, not left to port+10000,
// which may be another process's (or above 65535).
func TestClusterNodeGetsItsOwnBusPort(t *testing.T) {
	need(t)
	s, err := newServer(t.TempDir(), false, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	if s.busPort == 0 {
		t.Fatal("no bus port chosen")
	}
	got, err := s.Do("config", "get", "cluster-port")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := got.(map[any]any); ok {
		got = []any{"cluster-port", v["cluster-port"]}
	}
	if pair, _ := got.([]any); len(pair) != 2 || pair[1] != strconv.Itoa(s.busPort) {
		t.Errorf("config get cluster-port = %v, want %d", got, s.busPort)
	}
}
