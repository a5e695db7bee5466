package config

import (
	"strings"
	"testing"
)

func TestSecuritySettings(t *testing.T) {
	path := writeConfig(t, `clients:
  acme:
    aws:
      shield: Advanced
  beta:
    aws:
      regions: [eu-west-1]
      shield: standard
training:
  courses: [567828, "1234"]
  who: [Engineer]
integrations:
  udemy:
    api_url: https://agency.udemy.com
    organization_id: "4242"
`)
	cfg, err := Load(path, envOf(map[string]string{"UDEMY_CLIENT_ID": "id-1", "UDEMY_CLIENT_SECRET": "shh"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Clients["acme"].ShieldLevel(); got != ShieldAdvanced {
		t.Errorf("acme shield %q", got)
	}
	if got := cfg.Clients["beta"].ShieldLevel(); got != ShieldStandard {
		t.Errorf("beta shield %q (default standard)", got)
	}
	tr := cfg.Training
	if !cfg.TrainingEnabled() || strings.Join(tr.Courses, ",") != "567828,1234" || tr.Who[0] != "engineer" ||
		tr.ValidFor.Std() != DefaultTrainingValid || tr.Remind != DefaultTrainingRemind {
		t.Errorf("training %+v", tr)
	}
	if cfg.Secrets.UdemyClientSecret.Reveal() != "shh" || strings.Contains(cfg.Secrets.UdemyClientSecret.String(), "shh") {
		t.Errorf("udemy secret not read or printed")
	}
}

func TestSecurityProblems(t *testing.T) {
	path := writeConfig(t, `clients:
  acme:
    aws:
      shield: gold
training:
  courses: [abc]
  valid_for: 1h
  who: [janitor]
integrations:
  udemy:
    api_url: https://agency.udemy.com
`)
	_, err := Load(path, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"clients.acme.aws.shield", "training.courses[0]", "training.valid_for", "training.who[0]", "integrations.udemy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem at %s in:\n%v", want, err)
		}
	}
}
