package config

import (
	"slices"
	"testing"
	"time"
)

func TestAlertsDefaultsAndOverrides(t *testing.T) {
	path := writeConfig(t, "clients:\n  acme:\n    escalation: []\n    unusual_pages: [vanished, spike]\n  beta: {}\n")
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Escalation("beta"); len(got) != 1 || got[0].After.Std() != 2*time.Hour {
		t.Errorf("default ladder = %+v, want one step after 2h", got)
	}
	if got := cfg.Escalation("acme"); got == nil || len(got) != 0 {
		t.Errorf("acme's ladder = %#v, want none", got)
	}
	if got := cfg.UnusualPages("beta"); !slices.Equal(got, []string{"vanished"}) {
		t.Errorf("default unusual pages = %v", got)
	}
	if got := cfg.UnusualPages("acme"); !slices.Equal(got, []string{"vanished", "spike"}) {
		t.Errorf("acme's unusual pages = %v", got)
	}
	if cfg.Alerts.GroupWindow.Std() != DefaultGroupWindow {
		t.Errorf("group window = %v", cfg.Alerts.GroupWindow)
	}
}

func TestAlertsProblems(t *testing.T) {
	src := `alerts:
  escalation:
    - after: 30s
    - after: 2h
      channel: ops escalation
      severity: loud
    - after: 1h
  group_window: 2h
  unusual_pages: [vanished, exploded]
clients:
  acme:
    escalation:
      - after: 0s
`
	path := writeConfig(t, src)
	_, err := Load(path, nil)
	want := []string{
		`opsbot.yaml:3: alerts.escalation[0].after: 30s: a step comes at least 1m after the alert fired (e.g. after: 2h)`,
		`opsbot.yaml:5: alerts.escalation[1].channel: "ops escalation" is not a channel ID (C0123ABCD) or #name`,
		`opsbot.yaml:6: alerts.escalation[1].severity: "loud" is not one of critical, error, warning, info`,
		`opsbot.yaml:7: alerts.escalation[2].after: 1h: each step comes after the one before (2h)`,
		`opsbot.yaml:8: alerts.group_window: 2h is not between 0s and 1h`,
		`opsbot.yaml:9: alerts.unusual_pages[1]: "exploded" is not one of [vanished appeared type_changed spike]`,
		`opsbot.yaml:13: clients.acme.escalation[0].after: 0s: a step comes at least 1m after the alert fired (e.g. after: 2h)`,
	}
	got := problemLines(t, err, path)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing problem %s\ngot:\n%v", w, got)
		}
	}
}
