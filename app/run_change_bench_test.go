package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/store/redistest"
)

// BenchmarkChangeApprovalLatency measures, through the fake Slack over a
// real websocket, real Redis and the whole program: an Approve click until
// the approval form is opened (views.open; Slack's trigger lives 3 s), and
// a proposal form's submission until the request's message is updated
// (chat.update). It reports the p50 and p99 of each.
func BenchmarkChangeApprovalLatency(b *testing.B) {
	e := startChanges(b, redistest.Deploy(b, false))
	openAndPropose(b, e, time.Now().Add(time.Hour).UTC())
	var clicks, submits []time.Duration
	version := 1
	b.ResetTimer()
	for range b.N {
		sent := time.Now()
		e.fake.BlockAction(carol, slackAction("change_approve", fmt.Sprintf("CR-1|%d", version)))
		if _, err := e.fake.WaitCall("views.open", func(c slacktest.Call) bool { return !c.At.Before(sent) }, wait); err != nil {
			b.Fatalf("approval form not opened: %v", err)
		}
		clicks = append(clicks, time.Since(sent))

		sent = time.Now()
		_, meta, _ := e.openForm(b, func() string { return e.fake.BlockAction("UALICE0001", slackAction("change_propose", "CR-1")) })
		edit := proposal(time.Now().Add(time.Hour).UTC())
		edit["cr_proposed"] = map[string]any{"value": txt(fmt.Sprintf("%d.00", 700+version))}
		sent = time.Now()
		if ack := e.submit(b, "UALICE0001", "change_propose", "", meta, edit); ack != "" {
			b.Fatalf("edit refused: %s", ack)
		}
		version++
		want := fmt.Sprintf("Proposal v%d", version)
		if _, err := e.fake.WaitCall("chat.update", func(c slacktest.Call) bool {
			return !c.At.Before(sent) && strings.Contains(c.Form.Get("blocks")+c.Form.Get("text")+fmt.Sprint(c.JSON), want)
		}, wait); err != nil {
			b.Fatalf("message not updated to %s: %v", want, err)
		}
		submits = append(submits, time.Since(sent))
	}
	b.StopTimer()
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(d[min(len(d)-1, len(d)*99/100)].Microseconds())/1000, name+"-p99-ms")
	}
	report("click-to-modal", clicks)
	report("submit-to-update", submits)
}
