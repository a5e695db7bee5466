package app

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// replicaEnv marks this test binary, run again, as an opsbot replica.
const replicaEnv = "OPSBOT_TEST_REPLICA_PROCESS"

// TestReplicaProcess is not a test: spawnReplica runs the test binary again
// with only this function selected, to run opsbot as a process of its own
// that a test can kill (SIGKILL: no shutdown, no deferred code).
func TestReplicaProcess(t *testing.T) {
	if os.Getenv(replicaEnv) != "1" {
		t.Skip("runs only as a replica process started by spawnReplica")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(Run(ctx, []string{"opsbot"}, os.Getenv, strings.NewReader(""), os.Stderr, os.Stderr))
}

// spawnReplica runs another replica of o (same settings, same fake Slack
// and Redis) as a separate process and waits until it holds the Socket
// Mode connection; its output goes to o's logs. kill sends SIGKILL.
func (o *opsbot) spawnReplica(t testing.TB) (kill func()) {
	t.Helper()
	conns := o.fake.Connections()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), replicaEnv+"=1")
	for k, v := range o.replicaVars(t) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = o.logs, o.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	kill = func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
	t.Cleanup(kill)
	if err := o.fake.WaitConnections(conns+1, 30*time.Second); err != nil {
		t.Fatalf("replica process never connected: %v\nlogs:\n%s", err, o.logs)
	}
	return kill
}

// runReplica runs another replica of o in this process, on the same fake
// Slack and Redis, until the test ends.
func (o *opsbot) runReplica(t testing.TB) {
	t.Helper()
	conns := o.fake.Connections()
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	vars := o.replicaVars(t)
	go func() {
		exit <- Run(ctx, []string{"opsbot"}, func(k string) string { return vars[k] }, strings.NewReader(""), o.logs, o.logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exit:
		case <-time.After(10 * time.Second):
			t.Error("replica did not stop within 10s of cancellation")
		}
	})
	if err := o.fake.WaitConnections(conns+1, 30*time.Second); err != nil {
		t.Fatalf("replica never connected: %v\nlogs:\n%s", err, o.logs)
	}
}

// halt stops o's own replica cleanly (as SIGTERM would) and waits for it.
func (o *opsbot) halt(t testing.TB) {
	t.Helper()
	o.stop()
	select {
	case code := <-o.exit:
		o.exit <- code // for the cleanup that waits for it too
	case <-time.After(10 * time.Second):
		t.Fatal("opsbot did not stop within 10s")
	}
}

// replicaVars are o's settings with an HTTP address of the replica's own.
func (o *opsbot) replicaVars(t testing.TB) map[string]string {
	vars := maps.Clone(o.vars)
	vars["OPSBOT_HTTP_ADDR"] = freeAddr(t)
	return vars
}
