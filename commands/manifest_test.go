package commands

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The /ops usage hint Slack shows under the command names only verbs the
// router has: a verb advertised there and missing here answers "unknown".
func TestManifestAdvertisesOnlyRoutedVerbs(t *testing.T) {
	data, err := os.ReadFile("../deploy/slack-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			SlashCommands []struct {
				Command   string `yaml:"command"`
				UsageHint string `yaml:"usage_hint"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("slack-manifest.yaml: %v", err)
	}
	verbs := map[string]bool{}
	for _, r := range routes().verbs {
		verbs[r.Verb] = true
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/ops" {
		t.Fatalf("slash commands = %+v, want /ops", m.Features.SlashCommands)
	}
	hint := m.Features.SlashCommands[0].UsageHint
	forms := strings.Split(hint, "|")
	if len(forms) < 3 {
		t.Fatalf("usage_hint %q: want forms separated by |", hint)
	}
	for _, form := range forms {
		words := strings.Fields(form)
		if len(words) == 0 {
			t.Errorf("usage_hint %q has an empty form", hint)
			continue
		}
		if !verbs[words[0]] {
			t.Errorf("usage_hint advertises %q, which the router does not have", words[0])
		}
	}
}
