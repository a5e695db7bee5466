package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartupErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"one token only", map[string]string{"SLACK_BOT_TOKEN": botToken}, nil, exitUsage, "SLACK_APP_TOKEN"},
		{"unknown flag", nil, []string{"--frobnicate"}, exitUsage, "usage: opsbot"},
		{"missing config file", map[string]string{"OPSBOT_CONFIG": "/nonexistent/opsbot.yaml"}, nil, exitUsage, "/nonexistent/opsbot.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := Run(context.Background(), append([]string{"opsbot"}, tt.args...), func(k string) string { return tt.env[k] }, strings.NewReader(""), &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("exit %d (want %d), output:\n%s", code, tt.code, out.String())
			}
			if strings.Contains(out.String(), botToken) {
				t.Fatal("token printed")
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("admins: [\"not-an-id\"]\nclients:\n  \"Bad Key\":\n    name: x\nchannels:\n  support: \"no spaces allowed\"\n"), 0o600)
	var out bytes.Buffer
	code := Run(context.Background(), []string{"opsbot", "config", "check", bad}, func(string) string { return "" }, nil, &out, &out)
	if code != exitUsage {
		t.Fatalf("exit %d, output:\n%s", code, out.String())
	}
	for _, want := range []string{"bad.yaml:1:", "bad.yaml:3:", "bad.yaml:6:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config check output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := Run(context.Background(), []string{"opsbot", "config", "check", "../deploy/opsbot.example.yaml"}, exampleEnv, nil, &out, &out); code != exitOK {
		t.Fatalf("example config: exit %d\n%s", code, out.String())
	}
}

// exampleEnv is a bare environment: the example config needs no variables.
func exampleEnv(string) string { return "" }

func TestConsolePipedInput(t *testing.T) {
	var out, errOut syncBuffer
	in := strings.NewReader("/ops help\n/ops whoami\nops role grant @bob support\nrole list\n/ops rol\n")
	code := Run(context.Background(), []string{"opsbot"}, func(string) string { return "" }, in, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"WHAT YOU CAN RUN", "You are @", "admin", "✅", "is now support", "[1] Undo", "support: @bob", "Did you mean", "ops> /ops whoami"} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
}

func TestSIGTERMFinishesInFlightWork(t *testing.T) {
	o := start(t, nil)
	// Hold Redis busy for a second so the command below is still in flight
	// (acked, waiting on its dedup and RBAC look-ups) when SIGTERM arrives.
	primary, err := o.redis.PrimaryFor(o.key("roles"))
	if err != nil {
		t.Fatal(err)
	}
	blocker := primary.Client(t)
	sleeping := make(chan struct{})
	slept := make(chan error, 1)
	go func() {
		close(sleeping)
		slept <- blocker.Do(context.Background(), "DEBUG", "SLEEP", "1").Err()
	}()
	<-sleeping
	time.Sleep(50 * time.Millisecond) // let DEBUG SLEEP reach the server first
	sent := time.Now()
	env := o.fake.SlashCommand(admin, "C0OPS0001", "whoami")
	ack, err := o.fake.WaitAck(env, wait)
	if err != nil {
		t.Fatal(err)
	}
	// Acked at once although the work behind it is stuck on Redis.
	if d := ack.At.Sub(ack.SentAt); d > 200*time.Millisecond {
		t.Fatalf("ack took %v while Redis was busy: the ack waited for the work", d)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-o.exit:
		o.exit <- code // for the cleanup
		if code != exitOK {
			t.Fatalf("exit code %d after SIGTERM, want 0\n%s", code, o.logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("opsbot did not exit within 10s of SIGTERM")
	}
	if err := <-slept; err != nil {
		t.Fatalf("DEBUG SLEEP failed, so nothing was in flight: %v", err)
	}
	calls := o.fake.Calls("response_url")
	if len(calls) != 1 || calls[0].At.Before(sent.Add(500*time.Millisecond)) || !strings.Contains(flatten(calls[0].JSON), "You are <@UADMIN0001>") {
		t.Fatalf("the in-flight command was not answered before exit: %d replies\n%s", len(calls), o.logs)
	}
	if !strings.Contains(o.logs.String(), "opsbot stopped cleanly") {
		t.Fatalf("no clean-stop log line:\n%s", o.logs)
	}
}
