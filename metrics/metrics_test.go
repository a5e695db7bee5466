package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Commands, latencies and envelopes land under their labels, however
// often the same labels come back (their children are cached).
func TestCommandAndEnvelopeSeries(t *testing.T) {
	m := New()
	for range 3 {
		m.Command("command", "help", "ok", time.Millisecond)
	}
	m.Command("command", "role", "denied", time.Millisecond)
	m.Command("action", "incident_ack", "ok", time.Millisecond)
	m.Envelope("slash_commands")
	m.Envelope("slash_commands")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`opsbot_commands_total{outcome="ok",verb="help"} 3`,
		`opsbot_commands_total{outcome="denied",verb="role"} 1`,
		`opsbot_commands_total{outcome="ok",verb="incident_ack"} 1`,
		`opsbot_handler_duration_seconds_count{kind="command"} 4`,
		`opsbot_handler_duration_seconds_count{kind="action"} 1`,
		`opsbot_slack_envelopes_total{type="slash_commands"} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("no %s in:\n%s", want, body)
		}
	}
}

func BenchmarkCommand(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.Command("command", "help", "ok", time.Millisecond)
		m.Envelope("slash_commands")
	}
}
