package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awscost/awscosttest"
	"github.com/383project/opsbot/store"
)

// awsEnv is opsbot with n clients watched in AWS, Cost Explorer faked.
type awsEnv struct {
	*opsbot
	ce *awscosttest.Server
	st *store.Store
}

func accountOf(i int) string { return fmt.Sprintf("1234567890%02d", i) }
func clientOf(i int) string  { return fmt.Sprintf("client-%02d", i) }

func startAWS(t testing.TB, n int) *awsEnv {
	t.Helper()
	e := &awsEnv{ce: awscosttest.New(t)}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret-test",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL_COST_EXPLORER": e.ce.URL} {
		t.Setenv(k, v)
	}
	var b strings.Builder
	b.WriteString("channels:\n  support: \"#ops-support\"\n  finance: \"#finance\"\nintegrations:\n  aws:\n    region: eu-west-1\nclients:\n")
	for i := range n {
		fmt.Fprintf(&b, "  %s:\n    name: Client %02d\n    hosting_quote: 650\n    aws:\n      account_id: \"%s\"\n      instances: [i-0abc00000000000%02d]\n", clientOf(i), i, accountOf(i), i)
	}
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e.opsbot = start(t, map[string]string{"OPSBOT_CONFIG": cfg})
	e.st = store.New(e.redis.Connect(t), "opsbot:")
	return e
}

// seed gives client i a month of costs in the fake Cost Explorer.
func (e *awsEnv) seed(i int, now time.Time) {
	scope := integrations.CostScope{LinkedAccount: accountOf(i)}
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for d := first.AddDate(0, -1, 0); !d.After(now); d = d.AddDate(0, 0, 1) {
		e.ce.SetDaily(scope, d, "Amazon Elastic Compute Cloud - Compute", 18)
		e.ce.SetDaily(scope, d, "Amazon Relational Database Service", 6.5)
	}
	e.ce.SetForecast(scope, 400)
}

func TestCostServersAndThresholdsEndToEnd(t *testing.T) {
	e := startAWS(t, 2)
	now := time.Now().UTC()
	e.seed(0, now)
	e.command(t, admin, "role grant @alice support")
	e.command(t, admin, "role grant @bob stakeholder client-01")

	// Answers come from the cache: nothing fetched yet, and no AWS call made.
	if got := e.command(t, "UALICE0001", "cost client-00"); !strings.Contains(strings.ToLower(got), "no cost data") {
		t.Fatalf("cost before any fetch: %s", got)
	}
	if n := len(e.ce.Requests()); n != 0 {
		t.Fatalf("answering from the cache made %d Cost Explorer calls", n)
	}
	// --refresh fetches now; the chart is uploaded to the channel.
	got := e.command(t, "UALICE0001", "cost client-00 --refresh")
	if !strings.Contains(got, "$") || !strings.Contains(got, "650") || strings.Contains(got, "went wrong") {
		t.Fatalf("refreshed cost: %s\nlogs:\n%s", got, e.logs)
	}
	deadline := time.Now().Add(wait)
	for !slices.ContainsFunc(e.fake.Files(), func(f slacktest.File) bool { return strings.HasSuffix(f.Name, ".png") && len(f.Content) > 1000 }) {
		if time.Now().After(deadline) {
			t.Fatalf("no PNG chart uploaded: %+v", e.fake.Files())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("cost reply:\n%s", got)
	// A stakeholder sees their own client only.
	if got := e.command(t, "UBOB000001", "cost client-00"); !strings.Contains(got, ":no_entry:") || strings.Contains(got, "563.50") {
		t.Fatalf("stakeholder asking for another client's cost: %s", got)
	}
	// Thresholds: bad input changes nothing; a good one is stored and audited.
	for _, bad := range []string{"cpu 150", "cpu abc", "disk 5"} {
		if got := e.command(t, admin, "threshold set client-00 "+bad); !strings.Contains(got, ":warning:") {
			t.Fatalf("threshold set %s: %s", bad, got)
		}
	}
	if th, err := e.st.Thresholds(context.Background(), "client-00"); err != nil || th != (store.ServerThresholds{}) {
		t.Fatalf("bad input stored thresholds: %+v %v", th, err)
	}
	e.command(t, admin, "threshold set client-00 cpu 85")
	if th, _ := e.st.Thresholds(context.Background(), "client-00"); th.CPU != 85 {
		t.Fatalf("threshold not stored: %+v", th)
	}
	if got := e.command(t, admin, "audit 5"); !strings.Contains(got, "threshold") {
		t.Fatalf("threshold change not audited: %s", got)
	}
	if got := e.command(t, "UALICE0001", "servers"); strings.Contains(got, "went wrong") || strings.Contains(got, "not configured") {
		t.Fatalf("/ops servers: %s", got)
	}
}
