// Command opsbot is a Slack-first ChatOps bot for uptime, servers, cost,
// security scans, change requests and launch checklists. Without Slack
// tokens it runs a local console on an embedded store.
package main

import (
	"context"
	"os"

	"github.com/383project/opsbot/app"
)

func main() {
	os.Exit(app.Run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}
