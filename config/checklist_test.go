package config

import (
	"strings"
	"testing"
	"time"
)

func TestChecklistDefaults(t *testing.T) {
	path := writeConfig(t, `clients:
  acme:
    launch:
      pentest: requested
      team: [U0ENG1]
checklists:
  templates:
    light:
      items:
        - {key: monitoring, kind: Verified, check: monitoring, ttl: 1h}
        - {key: signoff-form, title: Client form signed, kind: attested, role: support}
`)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := cfg.Checklists
	if strings.Join(cl.TemplateNames(), ",") != "default,light" || len(cl.Templates["default"].Items) != 11 {
		t.Fatalf("templates %v (default has %d items)", cl.TemplateNames(), len(cl.Templates["default"].Items))
	}
	light := cl.Templates["light"].Items
	if light[0].Kind != "verified" || light[0].Title != "monitoring" || light[0].TTL.Std() != time.Hour || light[1].TTL.Std() != DefaultStaleAfter {
		t.Errorf("light %+v", light)
	}
	if c := cfg.Clients["acme"].LaunchConditions(); !c["pentest"] || c["detectify"] {
		t.Errorf("conditions %v", c)
	}
	if cl.QuoteTolerance != DefaultQuoteTolerance || cl.Expire != DefaultChecklistExpire {
		t.Errorf("defaults %+v", cl)
	}
}

func TestChecklistProblemsWithLines(t *testing.T) {
	path := writeConfig(t, `clients:
  acme:
    launch:
      pentest: maybe
      loadtest: {url: "ftp://x", token: abc, total: 5, clients_per_second: 5, duration: 900}
checklists:
  quote_tolerance: 400
  templates:
    bad:
      items:
        - {key: a, kind: verified, check: vibes}
        - {key: a, kind: attested, role: stakeholder}
        - {key: c, kind: sometimes}
        - {key: d, kind: attested, role: security, when: friday}
`)
	_, err := Load(path, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"clients.acme.launch.pentest", "clients.acme.launch.loadtest.url", "clients.acme.launch.loadtest.token", "clients.acme.launch.loadtest.duration",
		"clients.acme.launch.loadtest.max_avg_ms", "clients.acme.launch.loadtest: set one of", "checklists.quote_tolerance",
		"checklists.templates.bad.items[0].check", "checklists.templates.bad.items[1].key", "checklists.templates.bad.items[1].role",
		"checklists.templates.bad.items[2].kind", "checklists.templates.bad.items[3].when", "yaml:11: checklists.templates.bad.items[0].check", "yaml:14:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem at %s in:\n%v", want, err)
		}
	}
}

// defaultChecklists is the checklists section of a file that has none.
func defaultChecklists() Checklists {
	items := DefaultChecklistItems()
	for i := range items {
		if items[i].TTL == 0 {
			items[i].TTL = Duration(DefaultStaleAfter)
		}
	}
	return Checklists{Templates: map[string]ChecklistTemplate{DefaultTemplate: {Items: items}},
		QuoteTolerance: DefaultQuoteTolerance, StaleAfter: Duration(DefaultStaleAfter), Expire: DefaultChecklistExpire,
		LoadtestPoll: Duration(5 * time.Second)}
}
