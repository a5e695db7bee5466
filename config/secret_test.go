package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// loadWithSecrets returns a valid Config holding every secret.
func loadWithSecrets(t *testing.T) (*Config, []string) {
	t.Helper()
	secrets := map[string]string{
		"SLACK_BOT_TOKEN":            botToken,
		"SLACK_APP_TOKEN":            appToken,
		"REDIS_URL":                  "redis://:REDISPASSWORD@redis:6379/0",
		"PAGERDUTY_TOKEN":            "PDTOKENVALUE",
		"STATUSCAKE_TOKEN":           "SCTOKENVALUE",
		"GITHUB_TOKEN":               "ghp_GITHUBTOKENVALUE",
		"DETECTIFY_API_KEY":          "DETECTIFYKEYVALUE",
		"DETECTIFY_API_SECRET":       "REVURUNUSUZZU0VDUkVUVkFMVUU=",
		"PAGERDUTY_ROUTING_KEY":      routingDefault,
		"PAGERDUTY_ROUTING_KEY_ACME": routingAcme,
	}
	cfg, err := Load("testdata/full.yaml", func(k string) string {
		if k == "REDIS_DB" {
			return "1"
		}
		return secrets[k]
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	raw := []string{botToken, appToken, "REDISPASSWORD", "PDTOKENVALUE", "SCTOKENVALUE", "GITHUBTOKENVALUE", "DETECTIFYKEYVALUE", "REVURUNUSUZZU0VDUkVUVkFMVUU=", routingDefault, routingAcme}
	return cfg, raw
}

func TestSecretsNeverPrinted(t *testing.T) {
	cfg, raw := loadWithSecrets(t)
	s := cfg.Secrets.SlackBotToken
	acmeKey, ok := cfg.RoutingKey("acme")
	if !ok || acmeKey.Reveal() != routingAcme {
		t.Fatalf("RoutingKey(acme) = %v, %v", acmeKey, ok)
	}

	if ref := cfg.PagerRef("acme"); ref != "acme" {
		t.Errorf("PagerRef(acme) with a routing key = %q, want acme", ref)
	}
	noKeys := &Config{}
	if ref := noKeys.PagerRef("acme"); ref != "" {
		t.Errorf("PagerRef(acme) without any routing key = %q, want \"\" (pages nobody)", ref)
	}

	slogJSON := func(args ...any) string {
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", args...)
		return buf.String()
	}
	slogText := func(args ...any) string {
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("config", args...)
		return buf.String()
	}
	mustJSON := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		return string(b)
	}
	mustYAML := func(v any) string {
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatalf("yaml.Marshal: %v", err)
		}
		return string(b)
	}
	outputs := []struct{ name, out string }{
		{"%v config", fmt.Sprintf("%v", cfg)},
		{"%+v config", fmt.Sprintf("%+v", *cfg)},
		{"%#v config", fmt.Sprintf("%#v", *cfg)},
		{"%s secrets", fmt.Sprintf("%s", cfg.Secrets)},
		{"%v secret", fmt.Sprintf("%v", s)},
		{"%s secret", fmt.Sprintf("%s", s)},
		{"%q secret", fmt.Sprintf("%q", s)},
		{"%x secret", fmt.Sprintf("%x", s)},
		{"%d secret", fmt.Sprintf("%d", s)},
		{"%#v secret", fmt.Sprintf("%#v", s)},
		{"Sprint", fmt.Sprint(s, cfg.Secrets)},
		{"String", s.String()},
		{"slog JSON config", slogJSON("cfg", cfg)},
		{"slog JSON secrets", slogJSON("secrets", cfg.Secrets, "token", s)},
		{"slog JSON group", slogJSON(slog.Group("slack", "token", s))},
		{"slog text config", slogText("cfg", cfg, "token", s)},
		{"json config", mustJSON(cfg)},
		{"json secret", mustJSON(s)},
		{"yaml secrets", mustYAML(cfg.Secrets)},
		{"%v routing keys", fmt.Sprintf("%v", cfg.Secrets.RoutingKeys)},
		{"%#v routing keys", fmt.Sprintf("%#v", cfg.Secrets.RoutingKeys)},
		{"json routing keys", mustJSON(cfg.Secrets.RoutingKeys)},
		{"yaml routing keys", mustYAML(cfg.Secrets.RoutingKeys)},
		{"slog routing key", slogJSON("key", acmeKey, "keys", cfg.Secrets.RoutingKeys)},
	}
	for _, o := range outputs {
		for _, secret := range raw {
			if strings.Contains(o.out, secret) {
				t.Errorf("%s shows a secret:\n%s", o.name, o.out)
				break
			}
		}
		if !strings.Contains(o.out, "[redacted]") {
			t.Errorf("%s: no [redacted] in %s", o.name, o.out)
		}
	}
	if got := s.Reveal(); got != botToken {
		t.Errorf("Reveal() = %q, want the token", got)
	}
}

func TestEmptySecretPrintsEmpty(t *testing.T) {
	var s Secret
	tests := []struct{ name, got string }{
		{"%v", fmt.Sprintf("%v", s)},
		{"String", s.String()},
		{"slog", s.LogValue().String()},
	}
	for _, tt := range tests {
		if tt.got != "" {
			t.Errorf("%s of an empty Secret = %q, want \"\"", tt.name, tt.got)
		}
	}
}
