package app

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awscost/awscosttest"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
	"github.com/383project/opsbot/integrations/awsmon/elbtest"
	"github.com/383project/opsbot/integrations/github/githubtest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/integrations/route53/route53test"
	"github.com/383project/opsbot/integrations/shield"
	"github.com/383project/opsbot/integrations/shield/shieldtest"
	"github.com/383project/opsbot/integrations/statuscake/statuscaketest"
)

// demoWorld is what `opsbot demo` runs against: the project's own
// wire-format fakes of StatusCake, PagerDuty, Cost Explorer, EC2, RDS,
// CloudWatch, Shield, Elastic Load Balancing, GitHub and Route 53, started in this process and filled with
// made-up data, and one local web site the newcomer can take down. The
// fakes are the test-grade code of their packages; this only starts and
// fills them. Nothing here reaches the network beyond 127.0.0.1.
type demoWorld struct {
	tb     *demoTB
	sc     *statuscaketest.Server
	pd     *pagerdutytest.Server
	gh     *githubtest.Server
	cost   *awscosttest.Server
	mon    *awsmontest.Server
	r53    *route53test.Server
	shield *shieldtest.Server
	elb    *elbtest.Server  // no load balancers: Shield's check asks, and finds none
	aws    *httptest.Server // one endpoint for every AWS service (awsRouter)
	shop   *httptest.Server // the local demo site, acme/shop
	shopUp atomic.Bool
}

// The demo's made-up facts, shared by its data, its config and /demo.
const (
	demoRegion     = "eu-west-1"
	demoAcmeAcct   = "111111111111"
	demoGlobexAcct = "222222222222"
	demoAcmeZone   = "Z0DEMOACME0001"
	demoIssueURL   = "https://github.com/demo-acme/website/issues/42"
	demoSCAcmeWWW  = "7000001"
	demoSCGlobWWW  = "7000002"
	demoSCGlobAPI  = "7000003"
	demoSchedule   = "PDEMO01"
	demoRoutingKey = "demoroutingkey000000000000000000" // 32 characters, as PagerDuty requires
	demoEC2Owner   = "123456789012"                     // the account the EC2 fake reports its instances in
)

// demoPerson is one made-up person of the demo, one per role.
type demoPerson struct {
	name, role, client, email string
}

var demoPeople = []demoPerson{
	{"sam", "support", "", "sam@demo.example"},
	{"erin", "engineer", "", "erin@demo.example"},
	{"fiona", "finance", "", "fiona@demo.example"},
	{"stella", "stakeholder", "acme", "stella@demo.example"},
	{"sasha", "security", "", "sasha@demo.example"},
}

// startDemoWorld starts the fakes and the local site and fills them; close
// stops them all.
func startDemoWorld(now time.Time) *demoWorld {
	tb := &demoTB{}
	w := &demoWorld{tb: tb, sc: statuscaketest.New(tb), pd: pagerdutytest.New(tb), gh: githubtest.New(tb),
		cost: awscosttest.New(tb), mon: awsmontest.New(tb), r53: route53test.New(tb), shield: shieldtest.New(tb), elb: elbtest.New(tb)}
	w.aws = httptest.NewServer(awsRouter(map[string]string{
		"ce": w.cost.URL, "ec2": w.mon.URL, "rds": w.mon.URL, "monitoring": w.mon.URL,
		"route53": w.r53.URL, "shield": w.shield.URL, "elasticloadbalancing": w.elb.URL,
	}))
	tb.Cleanup(w.aws.Close)
	w.shopUp.Store(true)
	w.shop = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		if !w.shopUp.Load() {
			http.Error(rw, "demo shop: closed (taken down with /demo down shop)", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "demo shop: open")
	}))
	tb.Cleanup(w.shop.Close)
	w.fillUptime(now)
	w.fillPeople(now)
	w.fillAWS(now)
	w.fillChanges()
	return w
}

func (w *demoWorld) close() { w.tb.cleanup() }

func (w *demoWorld) fillUptime(now time.Time) {
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for _, t := range []statuscaketest.Test{
		{ID: demoSCAcmeWWW, Name: "ACME www (demo)", WebsiteURL: "https://www.acme.example/", Uptime: 100},
		{ID: demoSCGlobWWW, Name: "Globex www (demo)", WebsiteURL: "https://www.globex.example/", Uptime: 99.9},
		{ID: demoSCGlobAPI, Name: "Globex API (demo)", WebsiteURL: "https://api.globex.example/health", Uptime: 99.8},
	} {
		t.LastTested = now
		w.sc.AddTest(t)
		w.sc.AddPeriod(t.ID, "up", month, time.Time{})
	}
	// Globex's API was down for 12 minutes in the first night of the month:
	// its uptime this month is below 100 %, within the SLA.
	if out := month.Add(2 * time.Hour); out.Before(now.Add(-time.Hour)) {
		w.sc.AddPeriod(demoSCGlobAPI, "down", out, out.Add(12*time.Minute))
	}
}

func (w *demoWorld) fillPeople(now time.Time) {
	w.pd.AddUser("PDEMOYOU", "You (demo admin)", demoAdminEmail)
	for i, p := range demoPeople {
		w.pd.AddUser(fmt.Sprintf("PDEMO%03d", i+1), p.name, p.email)
	}
	w.pd.SetOnCalls(
		pagerdutytest.OnCall{UserID: "PDEMO001", ScheduleID: demoSchedule, Schedule: "Primary (demo)",
			EscalationPolicyID: "PDEMOEP", EscalationPolicy: "Support (demo)", Level: 1, Start: now.Add(-6 * time.Hour), End: now.Add(18 * time.Hour)},
		pagerdutytest.OnCall{UserID: "PDEMOYOU", EscalationPolicyID: "PDEMOEP", EscalationPolicy: "Support (demo)", Level: 2},
	)
}

// demoAdminEmail is the local user's e-mail at the demo's PagerDuty.
const demoAdminEmail = "you@demo.example"

// fillAWS gives both clients costs since last month's first day and
// servers: ACME's second web server has run hot for the last hour, so the
// first server check finds it in breach.
func (w *demoWorld) fillAWS(now time.Time) {
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	day := 0
	for d := first; !d.After(now); d = d.AddDate(0, 0, 1) {
		day++
		wave := float64(day%7) * 0.9
		acme := integrations.CostScope{LinkedAccount: demoAcmeAcct}
		w.cost.SetDaily(acme, d, "Amazon Elastic Compute Cloud - Compute", 21+wave)
		w.cost.SetDaily(acme, d, "Amazon Relational Database Service", 8.4)
		w.cost.SetDaily(acme, d, "Amazon CloudFront", 2.1+wave/3)
		globex := integrations.CostScope{LinkedAccount: demoGlobexAcct}
		w.cost.SetDaily(globex, d, "Amazon Elastic Compute Cloud - Compute", 9.5+wave/2)
		w.cost.SetDaily(globex, d, "Amazon Simple Storage Service", 1.2)
	}
	// The forecast is the rest of the month at the usual rate: ACME ends
	// about 10 % over its $900 quote, Globex under its $400 one.
	left := float64(time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Sub(now).Hours()) / 24
	w.cost.SetForecast(integrations.CostScope{LinkedAccount: demoAcmeAcct}, 33*left)
	w.cost.SetForecast(integrations.CostScope{LinkedAccount: demoGlobexAcct}, 11.5*left)

	launched := now.AddDate(0, -4, 0)
	w.mon.AddInstances(
		awsmontest.Instance{ID: "i-0acde00000000001a", Name: "acme-web-1 (demo)", Type: "t3.large", Region: demoRegion, LaunchedAt: launched},
		awsmontest.Instance{ID: "i-0acde00000000002b", Name: "acme-web-2 (demo)", Type: "t3.large", Region: demoRegion, LaunchedAt: launched},
		awsmontest.Instance{ID: "i-0910be00000000003", Name: "globex-app (demo)", Type: "t3.medium", Region: demoRegion, LaunchedAt: launched},
	)
	w.mon.AddDBInstances(awsmontest.DBInstance{ID: "acme-demo-db", Class: "db.t3.medium", Engine: "mysql", Region: demoRegion, StorageGiB: 100})
	// ACME pays for Shield Advanced: its first web server's Elastic IP is
	// protected, the second's is not (a gap for the security channel).
	w.mon.AddAddresses(
		awsmontest.Address{AllocationID: "eipalloc-0acde0001", PublicIP: "192.0.2.11", Region: demoRegion, InstanceID: "i-0acde00000000001a"},
		awsmontest.Address{AllocationID: "eipalloc-0acde0002", PublicIP: "192.0.2.12", Region: demoRegion, InstanceID: "i-0acde00000000002b"},
	)
	w.shield.SetSubscription(true)
	w.shield.Protect("acme-web-1 (demo)", shield.EIPAllocationARN(demoRegion, demoEC2Owner, "eipalloc-0acde0001"))
	// Five-minute points from three hours ago to a day ahead, so every
	// check while the demo runs sees recent values.
	start := now.Truncate(5 * time.Minute).Add(-3 * time.Hour)
	for t := start; t.Before(now.Add(24 * time.Hour)); t = t.Add(5 * time.Minute) {
		hot := 35.0
		if t.After(now.Add(-time.Hour)) {
			hot = 96.5
		}
		w.mon.AddPoints("i-0acde00000000001a", "CPUUtilization", awsmontest.Point{At: t, Value: 31})
		w.mon.AddPoints("i-0acde00000000002b", "CPUUtilization", awsmontest.Point{At: t, Value: hot})
		w.mon.AddPoints("i-0910be00000000003", "CPUUtilization", awsmontest.Point{At: t, Value: 18})
		for _, id := range []string{"i-0acde00000000001a", "i-0acde00000000002b", "i-0910be00000000003"} {
			w.mon.AddPoints(id, "NetworkOut", awsmontest.Point{At: t, Value: 4.2e7})
		}
		w.mon.AddPoints("acme-demo-db", "CPUUtilization", awsmontest.Point{At: t, Value: 22})
		w.mon.AddPoints("acme-demo-db", "FreeStorageSpace", awsmontest.Point{At: t, Value: 61 << 30})
	}
}

// fillChanges gives ACME a GitHub issue to open a change request from and
// a hosted zone whose www record the request can cut over.
func (w *demoWorld) fillChanges() {
	w.gh.AddIssue(githubtest.Issue{Owner: "demo-acme", Repo: "website", Number: 42,
		Title:  "Checkout times out under load (demo)",
		Body:   "Since the spring sale, checkout takes over 30 s at lunchtime and times out for some customers. The web servers run at full CPU. (Made-up issue of the opsbot demo.)",
		Author: "erin"})
	// Route 53 keeps a change PENDING for a while (often a minute): a
	// second here, so the cut-over's progress shows on its message.
	w.r53.PendingFor(time.Second)
	w.r53.AddZone(demoAcmeZone, "acme.example.")
	w.r53.SetRecords(demoAcmeZone, route53test.Record{Name: "www.acme.example.", Type: "A", TTL: 300, Values: []string{"192.0.2.10"}})
}

// awsRouter is one endpoint for every AWS service the demo fakes, as
// integrations.aws.endpoint_url is one URL for all of them: each request
// goes to the fake of the service its SigV4 signature names (the credential
// scope's service: ce, ec2, rds, monitoring, route53, shield,
// elasticloadbalancing). A service without a fake is answered 400.
func awsRouter(fakes map[string]string) http.Handler {
	proxies := map[string]*httputil.ReverseProxy{}
	for svc, raw := range fakes {
		u, _ := url.Parse(raw) // httptest URLs
		proxies[svc] = httputil.NewSingleHostReverseProxy(u)
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p, ok := proxies[signingService(r.Header.Get("Authorization"))]
		if !ok {
			http.Error(rw, "the demo fakes no such AWS service", http.StatusBadRequest)
			return
		}
		p.ServeHTTP(rw, r)
	})
}

// signingService is the service of a SigV4 Authorization header's
// credential scope ("Credential=AKID/20260101/eu-west-1/ec2/aws4_request").
func signingService(auth string) string {
	_, scope, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	scope, _, _ = strings.Cut(scope, ",")
	parts := strings.Split(scope, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// demoTB is what the fakes' constructors take (they are test helpers): it
// keeps their clean-ups for close. The fakes call nothing else of it.
type demoTB struct {
	testing.TB // nil: any other method would panic, and none is called
	mu         sync.Mutex
	cleanups   []func()
}

func (t *demoTB) Helper() {}

func (t *demoTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *demoTB) cleanup() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
