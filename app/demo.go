package app

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/383project/opsbot/bot/console"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations/github/githubtest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/integrations/statuscake/statuscaketest"
	"github.com/383project/opsbot/store"
)

// demoConfig is the demo's configuration: two made-up clients whose
// integrations point at the demo world's fakes.
//
//go:embed demo.yaml
var demoConfig []byte

// runDemo is `opsbot demo`: the console on the embedded store, with the demo
// configuration, against the demo world (demo_world.go), one person per role
// seeded and every monitor's first look taken before the first prompt. The
// environment is not read (but for USER and OPSBOT_LOG_LEVEL): no Slack
// token, REDIS_URL or AWS credential of the shell reaches the demo.
func runDemo(ctx context.Context, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	w := startDemoWorld(time.Now())
	defer w.close()
	env := w.env(getenv)
	cfg, err := config.LoadData("demo.yaml", demoConfig, env, probeRule)
	if err != nil {
		fmt.Fprintf(stderr, "opsbot demo: the demo configuration does not load:\n%v\n", err)
		return exitFailure
	}
	d := &demo{w: w, emails: demoEmails{consoleUserID: demoAdminEmail}}
	// Static made-up credentials: the fakes read the signature's region only.
	awsCfg := aws.Config{Region: demoRegion, Credentials: credentials.NewStaticCredentialsProvider("AKIDDEMO", "demo-secret", "")}
	return serve(ctx, cfg, env, runOptions{
		world:  world{aws: &awsCfg},
		emails: d.emails,
		local:  map[string]console.Local{"/demo": d.command},
		banner: demoBanner(isTerminal(stdin)),
		ready:  d.ready,
	}, stdin, stdout, stderr)
}

// env is the demo's environment: the fakes' URLs for the configuration and
// the tokens they accept, nothing of the shell's but USER and the log level.
func (w *demoWorld) env(getenv func(string) string) func(string) string {
	vars := map[string]string{
		"DEMO_SHOP_URL": w.shop.URL + "/", "DEMO_PAGERDUTY_URL": w.pd.URL, "DEMO_STATUSCAKE_URL": w.sc.URL,
		"DEMO_GITHUB_URL": w.gh.URL, "DEMO_AWS_URL": w.aws.URL,
		"PAGERDUTY_TOKEN": pagerdutytest.Token, "PAGERDUTY_ROUTING_KEY": demoRoutingKey,
		"STATUSCAKE_TOKEN": statuscaketest.Token, "GITHUB_TOKEN": githubtest.Token,
		"USER": getenv("USER"), "OPSBOT_LOG_LEVEL": getenv("OPSBOT_LOG_LEVEL"),
	}
	return func(k string) string { return vars[k] }
}

// demo is the running demo: its world, the background it drives, and the
// demo people's e-mail addresses (PagerDuty acts as them).
type demo struct {
	w      *demoWorld
	bg     *background
	emails demoEmails
}

// demoEmails finds a demo person's e-mail, as Slack's users.info would.
type demoEmails map[string]string

func (e demoEmails) UserEmail(_ context.Context, userID string) (string, error) {
	if m, ok := e[userID]; ok {
		return m, nil
	}
	return "", commands.ErrUnknownUser
}

// ready seeds one person per role and takes every monitor's first look
// (StatusCake, the local site, the SLA, servers, costs), then waits until
// what they posted has been shown, so the first prompt comes after it.
func (d *demo) ready(ctx context.Context, bg *background, dir commands.Directory) error {
	d.bg = bg
	now := time.Now()
	for _, p := range demoPeople {
		u, err := dir.UserByName(ctx, p.name)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", p.name, err)
		}
		d.emails[u.ID] = p.email
		if _, err := bg.st.Grant(ctx, consoleUserID, u.ID, store.Grant{Role: store.Role(p.role), Client: p.client}, now); err != nil {
			return fmt.Errorf("demo: grant %s to %s: %w", p.role, p.name, err)
		}
	}
	var errs []error
	if bg.uptime.poll != nil {
		errs = append(errs, bg.uptime.poll.Run(ctx))
	}
	errs = append(errs, bg.uptime.checkNow(ctx, demoShopKey), bg.uptime.sla.Run(ctx))
	if bg.aws.servers != nil {
		errs = append(errs, bg.aws.servers.Run(ctx))
	}
	if bg.aws.cost != nil {
		errs = append(errs, bg.aws.cost.Run(ctx))
	}
	if bg.shield.job != nil {
		errs = append(errs, bg.shield.job.Run(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("demo: first look: %w", err)
	}
	settle(ctx, bg.st, 10*time.Second)
	return nil
}

// demoShopKey is the local demo site's monitored key.
const demoShopKey = "uptime/acme/shop"

// demoSites are the sites /demo down and /demo up switch: the local site,
// and the StatusCake tests the fake reports.
var demoSites = map[string]string{"acme/shop": "", "acme/www": demoSCAcmeWWW, "globex/www": demoSCGlobWWW, "globex/api": demoSCGlobAPI}

// command is the console's /demo: help, down <site>, up <site>.
func (d *demo) command(ctx context.Context, args string, say func(string)) {
	verb, site, _ := strings.Cut(args, " ")
	switch verb {
	case "", "help":
		say(demoHelp)
	case "down", "up":
		d.switchSite(ctx, verb == "up", strings.TrimSpace(site), say)
	default:
		say("✗ /demo knows down <site>, up <site> and help, e.g. /demo down shop")
	}
}

// switchSite takes a demo site down or brings it back, and has opsbot look
// at it at once (its own probe, or a StatusCake poll) instead of at its
// next check, so the alert or the recovery follows straight away.
func (d *demo) switchSite(ctx context.Context, up bool, name string, say func(string)) {
	key := demoSiteKey(name)
	if key == "" {
		say("✗ Which demo site? One of shop, acme/www, globex/www, globex/api, e.g. /demo down shop")
		return
	}
	status, word, code := "down", "down", 503
	if up {
		status, word, code = "up", "back up", 200
	}
	var err error
	if id := demoSites[key]; id == "" {
		d.w.shopUp.Store(up)
		say(fmt.Sprintf("The demo site %s is %s (it answers %d). opsbot checks it now, and every 10 s.", key, word, code))
		err = d.bg.uptime.checkNow(ctx, "uptime/"+key)
	} else {
		d.w.sc.SetStatus(id, status)
		say(fmt.Sprintf("StatusCake (demo) now reports %s %s. opsbot polls it now, and every 30 s.", key, status))
		err = d.bg.uptime.poll.Run(ctx)
	}
	if err != nil {
		say("✗ The check failed: " + err.Error())
	}
}

// demoSiteKey finds a demo site by "client/site" or by a site name of one client.
func demoSiteKey(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if _, ok := demoSites[name]; ok {
		return name
	}
	found := ""
	for k := range demoSites {
		if strings.HasSuffix(k, "/"+name) {
			if found != "" {
				return "" // www is ACME's and Globex's: ask
			}
			found = k
		}
	}
	return found
}

// demoBanner marks everything that follows as demo data and says how to start.
func demoBanner(interactive bool) string {
	b := "opsbot DEMO: everything here is made up. Two demo clients (acme, globex) with sites, servers, costs,\n" +
		"a GitHub issue and a hosted zone are served by fakes inside this process; nothing is sent anywhere,\n" +
		"and the state is in memory, lost on exit.\n" +
		"You are the admin; one person per role is set up: @sam support, @erin engineer, @fiona finance,\n" +
		"@stella stakeholder of acme, @sasha security. /as @fiona acts as her, /as alone as you again.\n" +
		"Try /ops status, /demo down shop, /ops cost acme, /ops servers; /demo shows the whole tour.\n"
	if interactive {
		b += "Buttons show as [n]: type the number to press one. In a form, type cancel to leave it.\n" +
			"exit, quit or Ctrl-D ends the demo.\n"
	}
	return b + "Taking a first look at the demo world...\n"
}

const demoHelp = `THE DEMO WORLD (made up; served by fakes inside this process)
acme, ACME Ltd: sites www (StatusCake) and shop (a local site you can take down); servers acme-web-1,
  acme-web-2 (running hot, its Elastic IP without Shield) and acme-demo-db; quote $900 a month; Shield
  Advanced; repository demo-acme/website; zone acme.example.
globex, Globex Corp: sites www and api (StatusCake); server globex-app; quote $400 a month.
People: you (admin), @sam support, @erin engineer, @fiona finance, @stella stakeholder of acme, @sasha security.
A tour:
  /ops status · /demo down shop, then press Acknowledge on the alert · /demo up shop
  /ops cost acme (the chart is written to a file) · /ops servers acme · /ops oncall · /as @sasha, /ops shield acme
  /as @erin, then /ops change ` + demoIssueURL + ` (the form is filled from the issue)
  /as @sam: Start investigating, then Propose a change: zone ` + demoAcmeZone + `, record www.acme.example, type A,
    new value 192.0.2.20: the cost goes up, so @stella and @fiona must approve (erin and sam may not: four eyes)
  /as @stella, /as @fiona: Approve in their direct messages
  /as @sam: Schedule, Start provisioning, smoke checks, Cut over DNS, Roll back DNS · /ops changelog
/demo down <site>, /demo up <site>: shop, acme/www, globex/www or globex/api`
