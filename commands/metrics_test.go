package commands_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/metrics"
	"github.com/383project/opsbot/store"
)

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "x" + hex.EncodeToString(b[:])
}

// Verbs, action IDs and callback IDs arrive from Slack, so anyone can send
// any: 1,000 made-up ones of each must not become 3,000 metric series.
// Labels come from the route table; everything else is "unknown".
func TestUnknownIDsShareOneMetricLabel(t *testing.T) {
	m := metrics.New()
	f := newFixtureWith(t, func(d *commands.Deps, _ *store.Store) { d.Metrics = m })
	ctx := context.Background()
	user := commands.User{ID: "UALICE0001", Name: "alice"}
	for i := range 1000 {
		text := randomID()
		if i%10 == 0 {
			text += " " + strings.Repeat("y", commands.MaxTextLen) // refused for its length, before the verb is looked up
		}
		f.r.Command(ctx, commands.Command{User: user, ChannelID: "C0OPS0001", Text: text})
		f.r.Action(ctx, commands.Action{User: user, ActionID: randomID(), ChannelID: "C0OPS0001"})
		f.r.Submit(ctx, commands.Submission{User: user, CallbackID: randomID(), ViewID: "V1"})
	}
	f.r.Command(ctx, commands.Command{User: user, ChannelID: "C0OPS0001", Text: "whoami"})

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var series []string
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "opsbot_commands_total{") {
			series = append(series, line)
		}
	}
	if len(series) > 10 {
		t.Fatalf("%d opsbot_commands_total series after 3,000 made-up IDs, want a handful; first: %v", len(series), series[:5])
	}
	body := rec.Body.String()
	for _, want := range []string{`verb="unknown"`, `verb="whoami"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, strings.Join(series, "\n"))
		}
	}
	if strings.Contains(body, `verb="x`) {
		t.Errorf("a made-up ID became a label:\n%s", strings.Join(series, "\n"))
	}
}
