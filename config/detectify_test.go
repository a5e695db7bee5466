package config

import (
	"errors"
	"strings"
	"testing"
)

// detectifyDoc is a valid file with a security channel and one client
// "acme" whose detectify block is given.
func detectifyDoc(block string) string {
	return "channels:\n  security: \"#security\"\nclients:\n  acme:\n    detectify: " + block + "\n"
}

const tokenA, tokenB = "5605b488634efe810dff4276e28ca7f9", "0123456789abcdef0123456789abcdef"

func TestDetectifyRules(t *testing.T) {
	const dp = "clients.acme.detectify"
	tests := []struct {
		name, src string
		env       map[string]string
		path      string // "": valid
	}{
		{"profiles", detectifyDoc(`{profiles: [` + tokenA + `, ` + tokenB + `]}`), nil, ""},
		{"no profiles", detectifyDoc(`{schedule: "0 2 * * 1"}`), nil, dp + ".profiles"},
		{"profile upper case", detectifyDoc(`{profiles: [` + strings.ToUpper(tokenA) + `]}`), nil, dp + ".profiles[0]"},
		{"profile a domain", detectifyDoc(`{profiles: [acme.example]}`), nil, dp + ".profiles[0]"},
		{"profile twice in one client", detectifyDoc(`{profiles: [` + tokenA + `, ` + tokenA + `]}`), nil, dp + ".profiles[1]"},
		{"profile of two clients", "channels:\n  security: C0SEC1\nclients:\n  acme:\n    detectify: {profiles: [" + tokenA +
			"]}\n  beta:\n    detectify: {profiles: [" + tokenA + "]}\n", nil, "clients.beta.detectify.profiles[0]"},
		{"schedule", detectifyDoc(`{profiles: [` + tokenA + `], schedule: "CRON_TZ=Europe/London 30 1 * * SUN"}`), nil, ""},
		{"schedule off", detectifyDoc(`{profiles: [` + tokenA + `], schedule: "off"}`), nil, ""},
		{"schedule bad", detectifyDoc(`{profiles: [` + tokenA + `], schedule: "mondays"}`), nil, dp + ".schedule"},
		{"schedule with seconds", detectifyDoc(`{profiles: [` + tokenA + `], schedule: "0 0 2 * * 1"}`), nil, dp + ".schedule"},
		{"routing", detectifyDoc(`{profiles: [` + tokenA + `], routing: {critical: page, High: POST, medium: post, low: none}}`), nil, ""},
		{"routing unknown severity", detectifyDoc(`{profiles: [` + tokenA + `], routing: {urgent: page}}`), nil, dp + ".routing.urgent"},
		{"routing unknown route", detectifyDoc(`{profiles: [` + tokenA + `], routing: {high: email}}`), nil, dp + ".routing.high"},
		{"no security channel", "clients:\n  acme:\n    detectify: {profiles: [" + tokenA + "]}\n", nil, "channels.security"},
		{"poll interval", "detectify:\n  poll_interval: 1s\n", nil, ""},
		{"poll interval too short", "detectify:\n  poll_interval: 500ms\n", nil, "detectify.poll_interval"},
		{"poll interval too long", "detectify:\n  poll_interval: 2h\n", nil, "detectify.poll_interval"},
		{"digest bad", "detectify:\n  digest: weekly\n", nil, "detectify.digest"},
		{"secret", "", map[string]string{"DETECTIFY_API_KEY": "k", "DETECTIFY_API_SECRET": "c2VjcmV0"}, ""},
		{"secret not base64", "", map[string]string{"DETECTIFY_API_KEY": "k", "DETECTIFY_API_SECRET": "not-base64!"}, "DETECTIFY_API_SECRET"},
		{"secret without key", "", map[string]string{"DETECTIFY_API_SECRET": "c2VjcmV0"}, "DETECTIFY_API_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.src), envOf(tt.env))
			if tt.path == "" {
				if err != nil {
					t.Fatalf("Load: %v\nfile:\n%s", err, tt.src)
				}
				return
			}
			ps, ok := errors.AsType[Problems](err)
			if !ok || len(ps) != 1 {
				t.Fatalf("got %v, want one problem at %s\nfile:\n%s", err, tt.path, tt.src)
			}
			p := ps[0]
			if p.Path != tt.path {
				t.Errorf("got %q at %q, want a problem at %s", p, p.Path, tt.path)
			}
			if strings.Contains(p.Msg, "not-base64!") {
				t.Errorf("the secret is quoted back: %q", p.Msg)
			}
		})
	}
}

func TestDetectifyDefaultsAndRoute(t *testing.T) {
	cfg, err := Load(writeConfig(t, detectifyDoc(`{profiles: [`+tokenA+`], routing: {medium: post}}`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Clients["acme"].Detectify
	if d.Schedule != DefaultScanSchedule || cfg.Detectify.PollInterval.Std() != DefaultScanPoll || cfg.Detectify.Digest != DefaultFindingDigest {
		t.Fatalf("defaults: %+v %+v", d, cfg.Detectify)
	}
	for sev, want := range map[string]string{"critical": RoutePage, "high": RoutePage, "medium": RoutePost, "low": RouteDigest, "information": RouteDigest, "odd": RouteDigest} {
		if got := d.Route(sev); got != want {
			t.Errorf("Route(%s) = %s, want %s", sev, got, want)
		}
	}
	if got := cfg.DetectifyClients(); len(got) != 1 || got[0] != "acme" {
		t.Fatalf("DetectifyClients = %v", got)
	}
}
