package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestConfigurationReference keeps docs/configuration.md and
// deploy/opsbot.example.yaml in step with the configuration's types: every
// key opsbot reads has a row in the reference and is set (or shown
// commented out) in the example, and neither names a key that does not exist.
func TestConfigurationReference(t *testing.T) {
	var schema []string
	schemaKeys(reflect.TypeFor[Config](), "", &schema)
	slices.Sort(schema)

	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.<>\\[\\]]+)`").FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, m[1])
	}
	slices.Sort(documented)
	for _, k := range schema {
		if _, found := slices.BinarySearch(documented, k); !found {
			t.Errorf("docs/configuration.md has no row for %s", k)
		}
	}
	for i, k := range documented {
		if _, found := slices.BinarySearch(schema, k); !found {
			t.Errorf("docs/configuration.md documents %s, which is not a key opsbot reads", k)
		}
		if i > 0 && documented[i-1] == k {
			t.Errorf("docs/configuration.md documents %s twice", k)
		}
	}

	raw, err := os.ReadFile("../deploy/opsbot.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	exampleKeys(&root, reflect.TypeFor[Config](), "", set)
	for _, k := range schema {
		last := k[strings.LastIndex(k, ".")+1:]
		commented := regexp.MustCompile(`(?m)^\s*#\s*` + regexp.QuoteMeta(last) + `:`).Match(raw)
		if !set[k] && !commented {
			t.Errorf("deploy/opsbot.example.yaml does not show %s", k)
		}
	}
	for k := range set {
		if _, found := slices.BinarySearch(schema, k); !found {
			t.Errorf("deploy/opsbot.example.yaml sets %s, which is not a key opsbot reads", k)
		}
	}
}
