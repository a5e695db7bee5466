package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/udemy/udemytest"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// TestTrainingEndToEnd: five engineers against the Udemy fake, three
// replicas on one Redis, the sync and the reminders firing every second:
// each person gets the right status, the two who need it get one DM each
// (not one per fire or per replica), and the week's summary is posted once.
func TestTrainingEndToEnd(t *testing.T) {
	now := time.Now().UTC()
	day := 24 * time.Hour
	people := []slacktest.User{
		{ID: "UCURRENT01", Name: "cora", Email: "cora@agency.example"},
		{ID: "UDUESOON01", Name: "dean", Email: "Dean@agency.example"}, // case differs from Udemy's
		{ID: "UOVERDUE01", Name: "olga", Email: "olga@agency.example"},
		{ID: "UDEACTIV01", Name: "dora", Email: "dora@agency.example"},
		{ID: "UNOMATCH01", Name: "nick", Email: "nick@elsewhere.example"},
	}
	ud := udemytest.New(t)
	row := func(email string, done time.Time, deactivated bool) udemytest.Row {
		return udemytest.Row{Email: email, Name: "P", CourseID: 567828, CourseTitle: "Secure Coding Essentials",
			FirstCompleted: done, Deactivated: deactivated, CompletionRatio: 60} // the ratio dropped: the date counts
	}
	ud.Add(row("cora@agency.example", now.Add(-30*day), false), row("dean@agency.example", now.Add(-355*day), false),
		row("olga@agency.example", now.Add(-400*day), false), row("dora@agency.example", now.Add(-10*day), true),
		row("someone@agency.example", now.Add(-5*day), false))
	for i := range 230 { // three pages of 100: the sync must follow next
		ud.Add(row(fmt.Sprintf("filler%03d@agency.example", i), time.Time{}, false))
	}
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	yaml := `channels:
  security: "#security"
training:
  courses: [567828]
  sync: "@every 1s"
  remind: "@every 1s"
integrations:
  udemy:
    api_url: ` + ud.URL + `
    organization_id: "` + udemytest.Organization + `"
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := redistest.Deploy(t, false)
	st := store.New(rs.Connect(t), "opsbot:")
	for _, p := range people {
		if _, err := st.Grant(context.Background(), admin, p.ID, store.Grant{Role: store.Engineer}, now); err != nil {
			t.Fatal(err)
		}
	}
	setup := func(f *slacktest.Server) {
		for _, p := range people {
			f.AddUser(p)
		}
	}
	env := map[string]string{"OPSBOT_CONFIG": cfg, "UDEMY_CLIENT_ID": udemytest.ClientID, "UDEMY_CLIENT_SECRET": udemytest.ClientSecret}
	replicas := []*opsbot{startOnWith(t, env, rs, setup), startOnWith(t, env, rs, setup), startOnWith(t, env, rs, setup)}

	dms := func(user string) int {
		n := 0
		for _, o := range replicas {
			n += len(o.fake.Messages(slacktest.DMChannel(user)))
		}
		return n
	}
	summaries := func() []string {
		var out []string
		for _, o := range replicas {
			for _, m := range o.fake.Messages("C0SECURTY") {
				out = append(out, m.Text)
			}
		}
		return out
	}
	deadline := time.Now().Add(3 * wait)
	for dms("UDUESOON01") == 0 || dms("UOVERDUE01") == 0 || len(summaries()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("reminders: due soon %d, overdue %d, summaries %q\nlogs:\n%s", dms("UDUESOON01"), dms("UOVERDUE01"), summaries(), replicas[0].logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // three more fires of each job, on any replica
	for _, p := range people {
		want := map[string]int{"UDUESOON01": 1, "UOVERDUE01": 1}[p.ID]
		if got := dms(p.ID); got != want {
			t.Errorf("%s got %d DMs, want %d", p.Name, got, want)
		}
	}
	if s := summaries(); len(s) != 1 || !strings.Contains(s[0], "1 current, 1 due soon, 1 overdue, 2 not matched") || !strings.Contains(s[0], "2 reminded") {
		t.Errorf("summaries: %q", s)
	}
	for _, o := range replicas {
		if m := o.fake.Messages(slacktest.DMChannel("UOVERDUE01")); len(m) == 1 && !strings.Contains(m[0].Text, "course-dashboard-redirect/?course_id=567828") {
			t.Errorf("reminder without a link to the course: %s", m[0].Text)
		}
	}

	// Each person's own view; the team table for security.
	o := replicas[0]
	for user, want := range map[string]string{"UCURRENT01": "*current*", "UDUESOON01": "*due soon*", "UOVERDUE01": "*overdue*",
		"UDEACTIV01": "*unmatched*", "UNOMATCH01": "*unmatched*"} {
		if got := o.command(t, user, "training"); !strings.Contains(got, want) {
			t.Errorf("%s's /ops training lacks %s:\n%s", user, want, got)
		}
	}
	if got := o.command(t, "UCURRENT01", "training <@UOVERDUE01>"); !strings.Contains(got, ":no_entry:") {
		t.Errorf("an engineer looking at someone else: %s", got)
	}
	o.command(t, admin, "role grant @alice security")
	table := o.command(t, "UALICE0001", "training")
	// alice, now security, is one of the team too (training.who).
	if !strings.Contains(table, "6 people: 1 current, 1 due soon, 1 overdue, 3 unmatched") {
		t.Errorf("team table:\n%s", table)
	}

	// Recording training done elsewhere: bad dates change nothing.
	future := now.AddDate(0, 0, 3).Format(time.DateOnly)
	for _, bad := range []string{"record <@UOVERDUE01> owasp " + future + " cert", "record <@UOVERDUE01> owasp 2026/01/01 cert",
		"record <@UOVERDUE01> owasp " + now.Format(time.DateOnly)} {
		if got := o.command(t, "UALICE0001", "training "+bad); !strings.Contains(got, ":warning:") || !strings.Contains(got, "/ops training record") {
			t.Errorf("training %s: %s", bad, got)
		}
	}
	if recs, _ := st.TrainingRecords(context.Background()); len(recs) != 0 {
		t.Fatalf("bad input stored %v", recs)
	}
	if got := o.command(t, "UCURRENT01", "training record <@UOVERDUE01> owasp "+now.Format(time.DateOnly)+" cert"); !strings.Contains(got, ":no_entry:") {
		t.Errorf("an engineer recording: %s", got)
	}
	got := o.command(t, "UALICE0001", "training record <@UOVERDUE01> owasp-top-10 "+now.Format(time.DateOnly)+" certificate https://training.example/c/1")
	if !strings.Contains(got, "Recorded") {
		t.Fatalf("record: %s", got)
	}
	if got := o.command(t, "UOVERDUE01", "training"); !strings.Contains(got, "*current*") || !strings.Contains(got, "owasp-top-10") {
		t.Errorf("after the record: %s", got)
	}
	if got := o.command(t, admin, "audit 3"); !strings.Contains(got, "training.record") {
		t.Errorf("record not audited: %s", got)
	}
}
