package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A configured channel name that Slack does not know is a start-up warning
// naming its key and a /readyz reason; known names are resolved to IDs.
func TestUnknownChannelNameWarnsAndFailsReadiness(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	yaml := "channels:\n  support: \"#ops-support\"\n  finance: \"#no-such-finance\"\n" +
		"clients:\n  acme:\n    channels:\n      alerts: \"#acme-alerts\"\n      general: \"#acme-typo\"\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	o := start(t, map[string]string{"OPSBOT_CONFIG": cfg})
	logs := o.logs.String()
	for _, want := range []string{`"key":"channels.finance"`, `"channel":"#no-such-finance"`, `"key":"clients.acme.channels.general"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("start-up logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, `"key":"channels.support","channel":"#ops-support","err"`) {
		t.Error("a channel that exists was reported missing")
	}
	code, body := o.get(t, "/readyz")
	if code != 503 || !strings.Contains(body, "channels.finance #no-such-finance") ||
		!strings.Contains(body, "clients.acme.channels.general #acme-typo") || strings.Contains(body, "ops-support") {
		t.Fatalf("/readyz = %d %s", code, body)
	}
}
