package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/store"
)

// Two clients: ACME and Globex, each with a channel, a site, AWS scope, a
// repository and a stakeholder.
const (
	acmeStake     = "UACMEST001"
	globexStake   = "UGLOBEXST1"
	acmeChannel   = "C0ACMEALRT"
	globexChannel = "C0GLOBEXAL"
)

// acmeMarkers are pieces of ACME's data: none may reach Globex's stakeholder.
var acmeMarkers = []string{
	"ACME Corp", "(`acme`)", "acme-corp.test", "acme-co/shop", "Move ACME checkout", "ACME old DB retired", "4,321",
	"i-0acce55", "acme-db-primary", "ACME maintenance", "ACME checkout returns 502", "CR-1", "111111111111",
	acmeChannel, acmeStake, "pat.oncall@agency.example",
}

// startTenants runs opsbot with both clients and ACME's (and Globex's)
// data in every store a list reads: sites, costs, servers, silences,
// freezes, change requests, the change log, and who is on call.
func startTenants(t *testing.T) *opsbot {
	t.Helper()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret-test",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	pd := pagerdutytest.New(t)
	pd.AddUser("PPAT", "Pat Oncall", "pat.oncall@agency.example")
	pd.SetOnCalls(pagerdutytest.OnCall{UserID: "PPAT", ScheduleID: "PSCHED1", Schedule: "Primary", EscalationPolicyID: "PEP1",
		EscalationPolicy: "Platform", Level: 1, Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour)})
	yaml := `channels:
  support: C0SUPPORT
  finance: C0FINANCE
integrations:
  aws:
    region: eu-west-1
    endpoint_url: http://127.0.0.1:1
  pagerduty:
    api_url: ` + pd.URL + `
    events_url: ` + pd.URL + `
    schedules: {primary: PSCHED1}
clients:
  acme:
    name: ACME Corp
    channels: {alerts: ` + acmeChannel + `}
    hosting_quote: 5000
    repos: [acme-co/shop]
    sites:
      - {name: shop, url: "https://shop.acme-corp.test/", statuscake_id: "111"}
    aws: {account_id: "111111111111", instances: [i-0acce5500000000a1]}
  globex:
    name: Globex Inc
    channels: {alerts: ` + globexChannel + `}
    hosting_quote: 700
    repos: [globex/site]
    sites:
      - {name: www, url: "https://www.globex.test/", statuscake_id: "222"}
    aws: {account_id: "222222222222", instances: [i-0b0b0b0b0b0b0b0b0]}
`
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	o := start(t, map[string]string{"OPSBOT_CONFIG": cfg, "PAGERDUTY_TOKEN": pagerdutytest.Token})
	o.fake.AddChannel(acmeChannel, "acme-alerts")
	o.fake.AddChannel(globexChannel, "globex-alerts")
	o.fake.AddUser(slacktest.User{ID: acmeStake, Name: "acmeperson"})
	o.fake.AddUser(slacktest.User{ID: globexStake, Name: "globexperson"})
	for _, g := range []string{"<@" + acmeStake + "> stakeholder acme", "<@" + globexStake + "> stakeholder globex"} {
		if got := o.command(t, admin, "role grant "+g); !strings.Contains(got, "is now") {
			t.Fatalf("grant %s: %s", g, got)
		}
	}
	seedTenants(t, store.New(o.rdb, "opsbot:"))
	return o
}

func seedTenants(t *testing.T, st *store.Store) {
	t.Helper()
	ctx, now := context.Background(), time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for client, mtd := range map[string]float64{"acme": 4321.09, "globex": 650.5} {
		must(st.SaveCostSnapshot(ctx, client, store.CostSnapshot{Currency: "USD", FetchedAt: now, Month: month, MonthToDate: mtd,
			Days:     []store.CostDay{{Day: month, Amount: mtd}},
			Services: []store.CostService{{Service: "Amazon Elastic Compute Cloud - Compute", Amount: mtd}}}))
	}
	must(st.SaveServers(ctx, store.ServerRecord{Client: "acme", TakenAt: now, Resources: []store.ServerResource{
		{Kind: store.ResourceInstance, ID: "i-0acce5500000000a1", Name: "acme-db-primary", State: "running"}}}))
	must(st.SaveServers(ctx, store.ServerRecord{Client: "globex", TakenAt: now, Resources: []store.ServerResource{
		{Kind: store.ResourceInstance, ID: "i-0b0b0b0b0b0b0b0b0", Name: "globex-web", State: "running"}}}))
	_, _, err := st.RecordCheck(ctx, store.SiteStatus{Key: "uptime/acme/shop", Client: "acme", Site: "shop", URL: "https://shop.acme-corp.test/",
		Source: "statuscake", State: "down", LastChecked: now, Error: "ACME checkout returns 502"})
	must(err)
	_, err = st.AddSilence(ctx, store.Silence{Client: "acme", Reason: "ACME maintenance", CreatedBy: admin, Start: now, End: now.Add(time.Hour)})
	must(err)
	must(st.AddFreeze(ctx, store.Freeze{ChangeID: "CR-1", Client: "acme", Repos: []string{"acme-co/shop"}, Start: now.Add(-time.Minute),
		End: now.Add(2 * time.Hour), Reason: "Move ACME checkout to the new cluster"}))
	must(st.AddFreeze(ctx, store.Freeze{ChangeID: "CR-2", Client: "globex", Repos: []string{"globex/site"}, Start: now.Add(-time.Minute),
		End: now.Add(time.Hour), Reason: "Globex CDN switch"}))
	for _, cr := range []store.ChangeRequest{
		{ID: "CR-1", Client: "acme", Title: "Move ACME checkout to the new cluster", RequestedBy: acmeStake, State: store.ChangeScheduled, CreatedAt: now},
		{ID: "CR-2", Client: "globex", Title: "Globex CDN switch", RequestedBy: globexStake, State: store.ChangeScheduled, CreatedAt: now},
	} {
		must(st.CreateChange(ctx, &cr))
	}
	done, err := store.NewChangeRequest("CR-3", "acme", "ACME old DB retired", "old database", "", acmeStake, now.Add(-time.Hour))
	must(err)
	must(st.AppendChangeLog(ctx, *done, "done", now))
}

// commandIn sends /ops text from user in channel and returns the reply.
func (o *opsbot) commandIn(t testing.TB, user, channel, text string) string {
	t.Helper()
	return o.replyTo(t, func() string { return o.fake.SlashCommand(user, channel, text) })
}

// helpVerbs are the verbs user may run, read from their /ops help.
func (o *opsbot) helpVerbs(t *testing.T, user string) []string {
	t.Helper()
	for line := range strings.SplitSeq(o.command(t, user, "help"), "\n") {
		if list, ok := strings.CutPrefix(line, "What you can run: "); ok {
			return strings.Split(list, ", ")
		}
	}
	t.Fatal("help does not list the verbs")
	return nil
}

func leaks(s string) []string {
	var found []string
	for _, m := range acmeMarkers {
		if strings.Contains(s, m) {
			found = append(found, m)
		}
	}
	return found
}

// TestStakeholderOfAnotherClientSeesNothingOfACME walks every verb of the
// /ops surface (as the admin's help lists it), with the argument forms the
// verbs take, as Globex's stakeholder in Globex's channel: no reply,
// message or file shows anything of ACME's. The admin, walking the lists,
// does see ACME's data, so its absence is not an empty store's.
func TestStakeholderOfAnotherClientSeesNothingOfACME(t *testing.T) {
	o := startTenants(t)
	seen := map[string]bool{}
	for _, in := range []string{"status acme", "cost acme", "servers acme", "changes", "freeze", "oncall", "changelog", "silences"} {
		for _, m := range leaks(o.command(t, admin, in)) {
			seen[m] = true
		}
	}
	for _, m := range []string{"ACME Corp", "4,321", "acme-db-primary", "Move ACME checkout", "ACME old DB retired", "ACME maintenance",
		"ACME checkout returns 502", "pat.oncall@agency.example", "CR-1"} {
		if !seen[m] {
			t.Errorf("the admin does not see %q: the walk below would prove nothing about it", m)
		}
	}

	verbs := o.helpVerbs(t, admin)
	if len(verbs) < 15 {
		t.Fatalf("admin's help lists only %v", verbs)
	}
	walkStart, filesBefore := time.Now(), len(o.fake.Files())
	forms := []string{"", "acme", "ac", "ACME", "acme --here", "--here", "help", "list", "list acme", "export", "export --here",
		"acme --mine", "acme --refresh", "grant @globexperson stakeholder acme"}
	for _, verb := range append(verbs, "nosuchverb") {
		for _, args := range forms {
			in := strings.TrimSpace(verb + " " + args)
			if got := leaks(o.commandIn(t, globexStake, globexChannel, in)); len(got) > 0 {
				t.Errorf("/ops %s as Globex's stakeholder shows %q", in, got)
			}
		}
	}
	// Nothing the walk made opsbot post, show or upload anywhere shows it either.
	for _, method := range []string{"chat.postMessage", "chat.postEphemeral", "chat.update", "files.completeUploadExternal", "response_url"} {
		for _, c := range o.fake.Calls(method) {
			if c.At.Before(walkStart) {
				continue
			}
			if got := leaks(c.Form.Encode() + flatten(c.JSON)); len(got) > 0 {
				t.Errorf("%s during the walk shows %q", method, got)
			}
		}
	}
	for _, f := range o.fake.Files()[filesBefore:] {
		if got := leaks(f.Name + f.Title + f.Channel); len(got) > 0 {
			t.Errorf("file %s (%s) in %s", f.Name, f.Title, f.Channel)
		}
	}
	if n := len(o.fake.Messages(globexChannel)); n != 0 {
		t.Errorf("%d messages posted in Globex's channel", n)
	}
	// Globex's stakeholder does see Globex's own data.
	for in, want := range map[string]string{"status": "Globex Inc", "cost globex": "$650.50", "servers globex": "globex-web",
		"freeze": "Globex CDN switch", "changes": "CR-2", "oncall": "Pat Oncall"} {
		if got := o.commandIn(t, globexStake, globexChannel, in); !strings.Contains(got, want) {
			t.Errorf("/ops %s as Globex's stakeholder lacks %q:\n%s", in, want, got)
		}
	}
}

// TestCostChartGoesToTheRequestersDM: `/ops cost acme` typed in Globex's
// channel puts no file there; the chart reaches the requester through
// conversations.open and files upload v2 into that DM. --here shares it
// only in ACME's own channel.
func TestCostChartGoesToTheRequestersDM(t *testing.T) {
	o := startTenants(t)
	for _, in := range []string{"cost acme", "cost acme --here"} {
		before := len(o.fake.Files())
		got := o.commandIn(t, admin, globexChannel, in)
		files := o.fake.Files()
		if len(files) != before+1 {
			t.Fatalf("files after /ops %s: %+v", in, files)
		}
		if f := files[before]; f.Channel != "D"+admin || !strings.HasPrefix(f.Name, "cost-acme-") {
			t.Fatalf("/ops %s: the chart went to %q, want the requester's DM", in, f.Channel)
		}
		if !strings.Contains(got, "is in your direct messages with me as `cost-acme-") {
			t.Fatalf("/ops %s in Globex's channel: %s", in, got)
		}
		if in == "cost acme --here" && !strings.Contains(got, "this channel is not ACME Corp's or the team's") {
			t.Fatalf("--here in Globex's channel is not explained: %s", got)
		}
	}
	if _, err := o.fake.WaitCall("conversations.open", func(c slacktest.Call) bool { return c.Form.Get("users") == admin }, wait); err != nil {
		t.Fatalf("no conversations.open with the requester: %v", err)
	}
	for _, f := range o.fake.Files() {
		if f.Channel == globexChannel {
			t.Fatalf("a file landed in Globex's channel: %+v", f)
		}
	}
	if got := o.commandIn(t, admin, acmeChannel, "cost acme --here"); !strings.Contains(got, "is shared in this channel") {
		t.Fatalf("--here in ACME's channel: %s", got)
	}
	if files := o.fake.Files(); files[len(files)-1].Channel != acmeChannel {
		t.Fatalf("--here in ACME's channel went to %q", files[len(files)-1].Channel)
	}
}

// TestRolesAreNotGrantedToBotsEndToEnd: opsbot's own user (auth.test) and a
// user users.info marks is_bot get no role.
func TestRolesAreNotGrantedToBotsEndToEnd(t *testing.T) {
	o := start(t, nil)
	o.fake.AddUser(slacktest.User{ID: "UDEPLOYBOT", Name: "deploybot", IsBot: true})
	for _, who := range []string{"<@" + slacktest.BotUserID + ">", "<@UDEPLOYBOT>", "@deploybot"} {
		if got := o.command(t, admin, "role grant "+who+" admin"); !strings.Contains(got, "is a bot or an app, and roles are for people") {
			t.Errorf("grant to %s: %s", who, got)
		}
	}
	for _, id := range []string{slacktest.BotUserID, "UDEPLOYBOT"} {
		if roles := o.rdb.SMembers(context.Background(), "opsbot:roles:"+id).Val(); len(roles) != 0 {
			t.Errorf("%s holds %v", id, roles)
		}
	}
	if got := o.command(t, admin, "role grant @alice support"); !strings.Contains(got, "is now *support*") {
		t.Fatalf("grant to a person: %s", got)
	}
}
