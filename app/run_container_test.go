package app

import (
	"context"
	"strings"
	"testing"
)

// In a container (the image sets OPSBOT_CONTAINER=1) without Slack tokens
// there is nobody at a console: opsbot says what is missing and exits 2
// instead of reading an empty stdin, exiting 0 and being restarted forever.
func TestContainerWithoutTokensExitsWithReason(t *testing.T) {
	var out, errOut syncBuffer
	env := map[string]string{"OPSBOT_CONTAINER": "1"}
	code := Run(context.Background(), []string{"opsbot"}, func(k string) string { return env[k] }, strings.NewReader("/ops help\n"), &out, &errOut)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, errOut.String())
	}
	for _, want := range []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "container"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("message lacks %q:\n%s", want, errOut.String())
		}
	}
	if out.String() != "" {
		t.Errorf("the console ran anyway:\n%s", out.String())
	}
}
