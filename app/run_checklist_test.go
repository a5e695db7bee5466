package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awscost/awscosttest"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
	"github.com/383project/opsbot/integrations/awsmon/elbtest"
	"github.com/383project/opsbot/integrations/github/githubtest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/integrations/s3/s3test"
	"github.com/383project/opsbot/integrations/shield"
	"github.com/383project/opsbot/integrations/shield/shieldtest"
	"github.com/383project/opsbot/store"
)

// launchEnv is opsbot with the fakes a launch checklist is proven from.
type launchEnv struct {
	*opsbot
	st  *store.Store
	ce  *awscosttest.Server
	gh  *githubtest.Server
	sh  *shieldtest.Server
	ec  *awsmontest.Server
	s3  *s3test.Server
	elb *elbtest.Server
	arn string
}

const (
	launchAcct  = "123456789012"
	launchAlice = "UALICE0001" // support
	launchBob   = "UBOB000001" // security
)

func startLaunch(t *testing.T) *launchEnv {
	t.Helper()
	e := &launchEnv{ce: awscosttest.New(t), gh: githubtest.New(t), sh: shieldtest.New(t), ec: awsmontest.New(t), s3: s3test.New(t), elb: elbtest.New(t)}
	pd := pagerdutytest.New(t)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("all good")) }))
	t.Cleanup(site.Close)
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret-test",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL_COST_EXPLORER": e.ce.URL, "AWS_ENDPOINT_URL_SHIELD": e.sh.URL, "AWS_ENDPOINT_URL_EC2": e.ec.URL, "AWS_ENDPOINT_URL_RDS": e.ec.URL, "AWS_ENDPOINT_URL_S3": e.s3.URL, "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2": e.elb.URL, "AWS_MAX_ATTEMPTS": "1"} {
		t.Setenv(k, v)
	}
	// What fails at first: the forecast is twice the quote, the deploy
	// check run failed, one public instance has no Shield protection,
	// alice (the team) has no training on record, the database has
	// automated backups off and the bucket was never versioned.
	e.forecast(2000)
	e.gh.SetRepo(githubtest.Repo{Owner: "acme", Name: "web", CheckRuns: []githubtest.CheckRun{
		{Name: "build", Status: "completed", Conclusion: "success"}, {Name: "deploy-staging", Status: "completed", Conclusion: "failure"}}})
	e.ec.AddInstances(awsmontest.Instance{ID: "i-0000000000000001a", Name: "web-1", Region: "eu-west-1"})
	e.ec.AddAddresses(awsmontest.Address{AllocationID: "eipalloc-01", PublicIP: "203.0.113.1", Region: "eu-west-1", InstanceID: "i-0000000000000001a"})
	e.ec.AddDBInstances(awsmontest.DBInstance{ID: "acme-db", Class: "db.t3.medium", Engine: "postgres", Region: "eu-west-1", StorageGiB: 100})
	e.s3.SetBucket("acme-uploads", "")
	e.sh.SetSubscription(true)
	e.arn = shield.EIPAllocationARN("eu-west-1", launchAcct, "eipalloc-01")

	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	yaml := `channels:
  support: "#ops-support"
uptime:
  allow_private: true
checklists:
  expire: "@every 1s"
training:
  courses: [567828]
clients:
  acme:
    name: Acme Ltd
    channels:
      general: "#acme"
    hosting_quote: 1000
    repos: [acme/web]
    aws:
      account_id: "` + launchAcct + `"
      regions: [eu-west-1]
      shield: advanced
    sites:
      - name: www
        url: ` + site.URL + `/
        recover_after: 1
        probe:
          interval: 10s
          keyword: all good
    launch:
      team: [` + launchAlice + `]
      databases: [acme-db]
      buckets: [acme-uploads]
integrations:
  github:
    api_url: ` + e.gh.APIURL() + `
  pagerduty:
    api_url: ` + pd.URL + `
    events_url: ` + pd.URL + `
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e.opsbot = start(t, map[string]string{"OPSBOT_CONFIG": cfg, "PAGERDUTY_ROUTING_KEY": pdRoutingKey, "GITHUB_TOKEN": githubtest.Token})
	e.st = store.New(e.redis.Connect(t), "opsbot:")
	for _, g := range []string{"@alice support", "@bob security"} {
		if got := e.command(t, admin, "role grant "+g); !strings.Contains(got, "now") {
			t.Fatalf("grant %s: %s", g, got)
		}
	}
	return e
}

func (e *launchEnv) checklist(t *testing.T, id string) store.Checklist {
	t.Helper()
	cl, err := e.st.GetChecklist(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// press clicks a checklist button and returns the reply the person sees.
func (e *launchEnv) press(t *testing.T, user, action, value string) string {
	t.Helper()
	cl := e.checklist(t, strings.Split(value, "|")[0])
	return e.replyTo(t, func() string {
		return e.fake.BlockAction(user, slacktest.BlockAction{ActionID: action, BlockID: "cl-launch", Value: value, ChannelID: cl.Channel, MessageTS: cl.MessageTS})
	})
}

// verify presses Re-verify (or Sign off) and waits for the run to end;
// it returns how long the run took.
func (e *launchEnv) verify(t *testing.T, user, action, id string) time.Duration {
	t.Helper()
	start := time.Now()
	if got := e.press(t, user, action, id); !strings.Contains(got, "Re-verifying") {
		t.Fatalf("%s: %s\nlogs:\n%s", action, got, e.logs)
	}
	deadline := start.Add(2 * wait)
	for e.checklist(t, id).Run != nil {
		if time.Now().After(deadline) {
			t.Fatalf("re-verification still running\nlogs:\n%s", e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// posted waits until checklist id's message is posted and returns it.
func (e *launchEnv) posted(t *testing.T, id string) store.Checklist {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if cl := e.checklist(t, id); cl.MessageTS != "" {
			return cl
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message for checklist %s\nlogs:\n%s", id, e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func states(cl store.Checklist, now time.Time) map[string]store.ItemState {
	out := map[string]store.ItemState{}
	for _, it := range cl.Items {
		out[it.Key] = it.Effective(now)
	}
	return out
}

// threadHas waits for a line in the checklist's thread containing all of want.
func (e *launchEnv) threadHas(t *testing.T, cl store.Checklist, want ...string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		for _, m := range e.fake.Messages(cl.Channel) {
			ok := m.ThreadTS == cl.MessageTS
			for _, w := range want {
				ok = ok && strings.Contains(m.Text, w)
			}
			if ok {
				return
			}
		}
		if time.Now().After(deadline) {
			var lines []string
			for _, m := range e.fake.Messages(cl.Channel) {
				if m.ThreadTS != "" {
					lines = append(lines, m.Text)
				}
			}
			t.Fatalf("no thread line with %q in:\n%s", want, strings.Join(lines, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// forecast makes Cost Explorer's forecast of this month total: 100 spent on
// the 1st and the rest forecast (on a month's last day opsbot forecasts
// what was spent, so all of it is spent then).
func (e *launchEnv) forecast(total float64) {
	scope := integrations.CostScope{LinkedAccount: launchAcct}
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	spent := 100.0
	if now.AddDate(0, 0, 1).Month() != now.Month() {
		spent = total
	}
	e.ce.SetDaily(scope, first, "Amazon Elastic Compute Cloud - Compute", spent)
	e.ce.SetForecast(scope, total-spent)
}
