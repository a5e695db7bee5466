package commands_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// discardUploads takes the chart like Slack would, without keeping it.
type discardUploads struct{}

func (discardUploads) Upload(context.Context, string, string, string, []byte) (string, error) {
	return "F0000001", nil
}

func (discardUploads) UploadDM(context.Context, string, string, string, []byte) (string, error) {
	return "F0000002", nil
}

// costBenchRouter is the router over a real Redis holding 50 clients' cached costs.
func costBenchRouter(b *testing.B) *commands.Router {
	b.Helper()
	st := store.New(redistest.Start(b).Client(b), "opsbot:")
	clients, quotes := map[string]string{}, map[string]float64{}
	for i := range 50 {
		key := fmt.Sprintf("client-%02d", i)
		clients[key], quotes[key] = fmt.Sprintf("Client %02d Ltd", i), 3000
		if err := st.SaveCostSnapshot(context.Background(), key, costSnapshot()); err != nil {
			b.Fatal(err)
		}
	}
	r, err := commands.New(commands.Deps{Roles: st, Audit: st, Admins: []string{admin}, Clients: clients,
		SigningKey: []byte("0123456789abcdef0123456789abcdef"), Costs: st, CostQuotes: quotes, Files: discardUploads{},
		Now: func() time.Time { return costNow }})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func p99ms(d []time.Duration) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[max(int(math.Ceil(0.99*float64(len(s))))-1, 0)]) / float64(time.Millisecond)
}

// BenchmarkCostCommand is `/ops cost` through Router.Command answered from
// the Redis cache: the 50-client overview, and one client in full with its
// chart rendered (handed to an uploader that drops it; the upload to the
// fake Slack belongs to the end-to-end variant in the run package).
func BenchmarkCostCommand(b *testing.B) {
	for _, bc := range []struct{ name, text string }{{"all-50-clients", "cost"}, {"one-client-with-chart", "cost client-07"}} {
		b.Run(bc.name, func(b *testing.B) {
			r := costBenchRouter(b)
			cmd := commands.Command{User: commands.User{ID: admin}, ChannelID: "C0OPS0001", Text: bc.text}
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				reply := r.Command(context.Background(), cmd)
				lat = append(lat, time.Since(start))
				if len(reply.Blocks) == 0 {
					b.Fatalf("no blocks: %q", reply.Text)
				}
			}
			b.ReportMetric(p99ms(lat), "p99-ms")
		})
	}
}
