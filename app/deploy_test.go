package app

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The container files keep the promise of consoleImpossible: the image says
// it is a container, compose needs its env file and does not restart a
// configuration error forever, and no secret or git history enters the image.
// (No Docker engine runs the tests; this is what can be checked without one.)
func TestContainerFiles(t *testing.T) {
	dockerfile, err := os.ReadFile("../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^ENV OPSBOT_CONTAINER=1$`).Match(dockerfile) {
		t.Error("deploy/Dockerfile does not set ENV OPSBOT_CONTAINER=1")
	}

	data, err := os.ReadFile("../deploy/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Restart     string            `yaml:"restart"`
			EnvFile     string            `yaml:"env_file"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("deploy/docker-compose.yml: %v", err)
	}
	bot, ok := compose.Services["opsbot"]
	if !ok {
		t.Fatal("deploy/docker-compose.yml has no opsbot service")
	}
	if bot.EnvFile != ".env" {
		t.Errorf("opsbot env_file = %q, want .env (required: the tokens live there)", bot.EnvFile)
	}
	if !strings.HasPrefix(bot.Restart, "on-failure:") {
		t.Errorf("opsbot restart = %q: exit 2 (no tokens) would restart forever; want on-failure:N", bot.Restart)
	}
	for k := range bot.Environment {
		if strings.Contains(k, "TOKEN") {
			t.Errorf("compose sets %s in the file; secrets belong in .env", k)
		}
	}

	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(ignore), "\n")
	for _, want := range []string{".git", "deploy/.env", "**/.env"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}
