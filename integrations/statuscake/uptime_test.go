package statuscake_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/statuscake"
	"github.com/383project/opsbot/integrations/statuscake/statuscaketest"
)

// newClient returns a client for srv with token, logging into a buffer.
func newClient(t *testing.T, srv *statuscaketest.Server, token string) (*statuscake.Client, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return statuscake.New(statuscake.Config{APIURL: srv.URL, Token: token}, srv.Client(), log), &logs
}

func TestUptimeAllPages(t *testing.T) {
	srv := statuscaketest.New(t)
	srv.MaxLimit = 2
	tests := []statuscaketest.Test{
		{ID: "1", Name: "acme home", WebsiteURL: "https://acme.example", Status: "up", Uptime: 99.82},
		{ID: "2", Name: "acme shop", WebsiteURL: "https://shop.acme.example", Status: "down", Uptime: 97.5},
		{ID: "3", Name: "beta", WebsiteURL: "https://beta.example", Status: "up", Paused: true, Uptime: 100},
		{ID: "4", Name: "gamma", WebsiteURL: "https://gamma.example", Status: "down", Paused: true},
		{ID: "5", Name: "delta", WebsiteURL: "https://delta.example", Status: "up", Uptime: 12.25},
	}
	for _, tc := range tests {
		srv.AddTest(tc)
	}
	srv.SetStatus("5", "down")
	c, _ := newClient(t, srv, statuscaketest.Token)

	before := time.Now()
	got, err := c.Uptime(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	want := []integrations.CheckResult{
		{Source: "statuscake", ID: "1", Name: "acme home", URL: "https://acme.example", State: integrations.StateUp, Uptime: 99.82},
		{Source: "statuscake", ID: "2", Name: "acme shop", URL: "https://shop.acme.example", State: integrations.StateDown, Uptime: 97.5},
		{Source: "statuscake", ID: "3", Name: "beta", URL: "https://beta.example", State: integrations.StateUnknown, Uptime: 100},
		{Source: "statuscake", ID: "4", Name: "gamma", URL: "https://gamma.example", State: integrations.StateUnknown, Uptime: 0},
		{Source: "statuscake", ID: "5", Name: "delta", URL: "https://delta.example", State: integrations.StateDown, Uptime: 12.25},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].CheckedAt.Before(before) || got[i].CheckedAt.After(after) {
			t.Errorf("result %d: CheckedAt %v, want the time of the call", i, got[i].CheckedAt)
		}
		got[i].CheckedAt = time.Time{}
		if got[i] != want[i] {
			t.Errorf("result %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if got, want := srv.Requests("/v1/uptime"), 3; got != want {
		t.Errorf("requests to /v1/uptime = %d, want %d (3 pages of 2)", got, want)
	}
}

func TestTest(t *testing.T) {
	srv := statuscaketest.New(t)
	tested := time.Date(2026, 11, 20, 10, 1, 12, 0, time.UTC)
	srv.AddTest(statuscaketest.Test{ID: "6421337", Name: "acme", WebsiteURL: "https://acme.example", Status: "down", Uptime: 99.82, LastTested: tested})
	srv.AddTest(statuscaketest.Test{ID: "7", Name: "new", WebsiteURL: "https://new.example", Paused: true})
	c, _ := newClient(t, srv, statuscaketest.Token)

	got, err := c.Test(context.Background(), "6421337")
	if err != nil {
		t.Fatal(err)
	}
	want := integrations.CheckResult{Source: "statuscake", ID: "6421337", Name: "acme", URL: "https://acme.example",
		State: integrations.StateDown, Uptime: 99.82, CheckedAt: tested}
	if !got.CheckedAt.Equal(want.CheckedAt) {
		t.Errorf("CheckedAt = %v, want %v", got.CheckedAt, want.CheckedAt)
	}
	got.CheckedAt = want.CheckedAt
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	got, err = c.Test(context.Background(), "7")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != integrations.StateUnknown || time.Since(got.CheckedAt) > time.Minute {
		t.Errorf("paused, never tested: got State %q CheckedAt %v, want unknown and now", got.State, got.CheckedAt)
	}
}

func TestPeriodsAcrossMonthStart(t *testing.T) {
	srv := statuscaketest.New(t)
	srv.MaxLimit = 2 // force links.next paging
	id := srv.AddTest(statuscaketest.Test{Name: "acme"})
	at := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, time.UTC) }
	monthStart, now := at(1, 0, 0), at(20, 12, 0)
	srv.AddPeriod(id, "up", at(1, 0, 0).AddDate(0, 0, -20), at(1, 0, 0).Add(-time.Hour)) // October only
	srv.AddPeriod(id, "down", at(1, 0, 0).Add(-time.Hour), at(1, 0, 30))                 // running at month start
	srv.AddPeriod(id, "up", at(1, 0, 30), at(10, 8, 0))
	srv.AddPeriod(id, "down", at(10, 8, 0), at(10, 8, 43))
	srv.AddPeriod(id, "up", at(10, 8, 43), at(20, 11, 0))
	srv.AddPeriod(id, "down", at(20, 11, 0), time.Time{}) // running now
	c, _ := newClient(t, srv, statuscaketest.Token)

	got, err := c.Periods(context.Background(), id, monthStart, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []integrations.Period{
		{State: integrations.StateDown, Start: at(20, 11, 0)},
		{State: integrations.StateUp, Start: at(10, 8, 43), End: at(20, 11, 0)},
		{State: integrations.StateDown, Start: at(10, 8, 0), End: at(10, 8, 43)},
		{State: integrations.StateUp, Start: at(1, 0, 30), End: at(10, 8, 0)},
		{State: integrations.StateDown, Start: at(1, 0, 0).Add(-time.Hour), End: at(1, 0, 30)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d periods, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].State != want[i].State || !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("period %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if got, want := srv.Requests("/v1/uptime/"+id+"/periods"), 3; got != want {
		t.Errorf("period requests = %d, want %d", got, want)
	}

	_, down := statuscake.MonthUptime(got, monthStart, now)
	if want := 30*time.Minute + 43*time.Minute + time.Hour; down != want {
		t.Errorf("month down time = %v, want %v (incl. 30m of the period running at month start)", down, want)
	}
}
