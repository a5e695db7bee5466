package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSmokeAllow(t *testing.T) {
	tests := []struct {
		entry string
		bad   bool
	}{
		{"10.20.0.0/16", false}, {"10.20.0.5", false}, {"fd12:3456::/48", false}, {"Staging.Internal.Example.", false},
		{"localhost", false}, {"127.0.0.1/32", false},
		{"0.0.0.0/0", true}, {"::/0", true}, {"10.0.0.0/33", true}, {"host:8080", true}, {"*.internal", true},
		{"https://x.example/", true}, {"a_b.example", true}, {"-x.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			src := fmt.Sprintf("changes:\n  smoke_allow:\n    - 10.1.0.0/16\n    - %q\n", tt.entry)
			cfg, err := Load(writeConfig(t, src), nil)
			if !tt.bad {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				want := []string{"10.1.0.0/16", strings.TrimSuffix(strings.ToLower(tt.entry), ".")}
				if !reflect.DeepEqual(cfg.Changes.SmokeAllow, want) {
					t.Errorf("SmokeAllow = %q, want %q", cfg.Changes.SmokeAllow, want)
				}
				return
			}
			ps, ok := errors.AsType[Problems](err)
			if !ok || len(ps) != 1 || ps[0].Path != "changes.smoke_allow[1]" || ps[0].Line != 4 || !strings.Contains(ps[0].Msg, "e.g.") {
				t.Fatalf("got %v, want one problem at changes.smoke_allow[1], line 4, with an example", err)
			}
		})
	}
}

// TestRule: a check from outside the package is reported at its path's
// line, together with the built-in problems, and Check passes rules on.
func TestRule(t *testing.T) {
	src := "timezone: Mars/Olympus\nclients:\n  acme:\n    sites:\n      - name: www\n        url: http://10.0.0.1/\n"
	path := writeConfig(t, src)
	var seen string
	rule := func(cfg *Config, add func(string, string, ...any)) {
		seen = cfg.Clients["acme"].Sites[0].URL
		add("clients.acme.sites[0].url", "%s is refused", seen)
	}
	for name, err := range map[string]error{"Load": func() error { _, err := Load(path, nil, rule); return err }(), "Check": Check(path, nil, rule)} {
		ps, ok := errors.AsType[Problems](err)
		if !ok || len(ps) != 2 {
			t.Fatalf("%s: got %v, want two problems", name, err)
		}
		if p := ps[1]; p.Path != "clients.acme.sites[0].url" || p.Line != 6 || p.Msg != "http://10.0.0.1/ is refused" {
			t.Errorf("%s: rule's problem = %+v", name, p)
		}
	}
	if seen != "http://10.0.0.1/" {
		t.Errorf("the rule saw %q", seen)
	}
}

func TestFreezeTokenIsASecret(t *testing.T) {
	cfg, err := Load("", envOf(map[string]string{"OPSBOT_FREEZE_TOKEN": "ci-freeze-token-123"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Secrets.FreezeToken.Reveal() != "ci-freeze-token-123" {
		t.Fatalf("FreezeToken = %q", cfg.Secrets.FreezeToken.Reveal())
	}
	if s := fmt.Sprintf("%v %+v", cfg.Secrets, cfg); strings.Contains(s, "ci-freeze-token-123") {
		t.Error("the freeze token printed")
	}
}
