package app

import (
	"io"
	"os"

	"golang.org/x/term"

	"github.com/383project/opsbot/config"
)

// noSlackInContainer is what opsbot says when it starts in a container
// without tokens: the console would read an empty stdin, exit 0 and be
// restarted again and again by Docker or Kubernetes.
const noSlackInContainer = `opsbot: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set. In a container opsbot needs Slack:
  docker compose: put both in deploy/.env (see deploy/docker-compose.yml)
  Helm: the Secret named by existingSecret must hold both
The local console needs a terminal: docker run -it, or go run . outside a container.`

// consoleImpossible reports whether opsbot runs in a container (the image
// sets OPSBOT_CONTAINER=1) without Slack tokens and without a terminal to
// run the console on. Outside a container a pipe still drives the console
// (printf '/ops help\n' | go run .).
func consoleImpossible(cfg *config.Config, getenv func(string) string, stdin io.Reader) bool {
	return !cfg.SlackEnabled() && getenv("OPSBOT_CONTAINER") == "1" && !isTerminal(stdin)
}

// isTerminal reports whether r is a terminal (an interactive console).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
