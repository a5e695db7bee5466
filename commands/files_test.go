package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

// Channels of the file tests: the team's support channel (by ID), ACME's
// alert channel (by #name, as config may still hold names) and Beta's.
const (
	supportChannel = "C0SUPPORT1"
	acmeChannel    = "C0ACMEALRT"
	betaChannel    = "C0BETAGEN1"
)

func withChannels(d *commands.Deps) {
	d.Channels = commands.Channels{Team: []string{supportChannel, "#finance"},
		Clients: map[string][]string{"acme": {"#acme-alerts"}, "beta": {betaChannel}}}
}

// runIn runs /ops text as user in a channel (id and name as Slack sends them).
func (f *fixture) runIn(user, channelID, channelName, words string) string {
	return text(f.r.Command(context.Background(), commands.Command{User: commands.User{ID: user}, ChannelID: channelID, ChannelName: channelName, Text: words, TriggerID: "T1"}))
}

// TestCostChartGoesToTheRequester: `/ops cost acme` typed in Beta's
// channel sends the chart to the requester's DM, never into the channel;
// --here shares it only in ACME's or the team's channels and otherwise
// says why and still sends it privately.
func TestCostChartGoesToTheRequester(t *testing.T) {
	cf := newCostFixture(t, withChannels)
	cf.cache(t, "acme", costSnapshot())
	tests := []struct {
		name, channel, channelName, args string
		wantTo, wantSays                 string
	}{
		{"another client's channel", betaChannel, "beta-general", "", "dm:" + supportUser, "is in your direct messages with me as `cost-acme-2026-11.png`."},
		{"another client's channel, --here", betaChannel, "beta-general", " --here", "dm:" + supportUser,
			"is in your direct messages with me as `cost-acme-2026-11.png`: this channel is not Acme Ltd's or the team's, so I don't share it here."},
		{"a channel of nobody's, --here", "C0RANDOM01", "random", " --HERE", "dm:" + supportUser, "so I don't share it here"},
		{"the client's channel", acmeChannel, "acme-alerts", "", "dm:" + supportUser, "add `--here` to share it in this channel."},
		{"the client's channel, --here", acmeChannel, "acme-alerts", " --here", acmeChannel, "is shared in this channel as `cost-acme-2026-11.png`."},
		{"the team's channel, --here", supportChannel, "ops-support", " --here", supportChannel, "is shared in this channel"},
		{"the team's channel by #name, --here", "C0FINANCE9", "finance", " --here", "C0FINANCE9", "is shared in this channel"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cf.runIn(supportUser, tt.channel, tt.channelName, "cost acme"+tt.args)
			wantAll(t, got, "*Month to date:* $2,200.00", tt.wantSays)
			ups := cf.up.all()
			if len(ups) != i+1 || ups[i].channel != tt.wantTo || ups[i].filename != "cost-acme-2026-11.png" {
				t.Fatalf("uploads: %d, last to %q", len(ups), ups[len(ups)-1].channel)
			}
		})
	}
	for _, u := range cf.up.all() {
		if u.channel == betaChannel || u.channel == "C0RANDOM01" {
			t.Fatalf("a chart landed in %s", u.channel)
		}
	}
	// A stakeholder of beta asking for acme in beta's channel gets no chart at all.
	cf.grant(t, "USTBETA001", store.Grant{Role: store.Stakeholder, Client: "beta"})
	before := len(cf.up.all())
	if got := cf.runIn("USTBETA001", betaChannel, "beta-general", "cost acme --here"); !strings.HasPrefix(got, ":no_entry:") {
		t.Fatalf("beta's stakeholder: %s", got)
	}
	if len(cf.up.all()) != before {
		t.Fatal("a refused cost request uploaded a chart")
	}
}

// TestChangelogExportHere: the CSV goes to the requester; --here shares it
// in the team's channels only; --here without export is explained.
func TestChangelogExportHere(t *testing.T) {
	up := &uploads{}
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.ChangeLog, d.Files, d.Now = st, up, func() time.Time { return clNow }
		withChannels(d)
	})
	f.novemberLog(t)
	f.grant(t, clFinance, store.Grant{Role: store.Finance})
	if got := f.runIn(clFinance, acmeChannel, "acme-alerts", "changelog export 2026-11 --here"); !strings.Contains(got, "this channel is not one of the team's channels, so I don't share it here") {
		t.Fatalf("export --here in a client's channel: %s", got)
	}
	if got := f.runIn(clFinance, supportChannel, "ops-support", "changelog export --here 2026-11"); !strings.Contains(got, "is shared in this channel as `changelog-2026-11.csv`") {
		t.Fatalf("export --here in the team's channel: %s", got)
	}
	if got := f.runIn(clFinance, supportChannel, "ops-support", "changelog 2026-11 --here"); !strings.Contains(got, "goes with `export`") {
		t.Fatalf("--here without export: %s", got)
	}
	ups := up.all()
	if len(ups) != 2 || ups[0].channel != "dm:"+clFinance || ups[1].channel != supportChannel {
		t.Fatalf("uploads: %+v", ups)
	}
}
