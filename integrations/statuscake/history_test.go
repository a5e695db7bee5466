package statuscake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/statuscake/statuscaketest"
)

func TestLastCheckSaysWhy(t *testing.T) {
	srv := statuscaketest.New(t)
	id := srv.AddTest(statuscaketest.Test{Name: "api", WebsiteURL: "https://api.acme.example", Status: "down"})
	quiet := srv.AddTest(statuscaketest.Test{Name: "www", WebsiteURL: "https://www.acme.example", Status: "down"})
	fresh := srv.AddTest(statuscaketest.Test{Name: "new", WebsiteURL: "https://new.acme.example"})
	t0 := time.Date(2026, 11, 20, 10, 0, 12, 0, time.UTC)
	srv.AddRun(id, statuscaketest.Run{At: t0, Location: "DEFRA1", StatusCode: 200, Performance: 412})
	srv.AddRun(id, statuscaketest.Run{At: t0.Add(time.Minute), Location: "UKCON2", StatusCode: 503, Performance: 80})
	srv.AddRun(quiet, statuscaketest.Run{At: t0, Location: "DEFRA1"})
	c, _ := newClient(t, srv, statuscaketest.Token)
	ctx := context.Background()

	got, err := c.LastCheck(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.StatusCode != 503 || got.Error != "HTTP 503 from UKCON2" || !got.CheckedAt.Equal(t0.Add(time.Minute)) || got.ResponseTime != 80*time.Millisecond {
		t.Errorf("LastCheck(503) = %+v", got)
	}
	if got, err := c.LastCheck(ctx, quiet); err != nil || got.StatusCode != 0 || got.Error != "no response from DEFRA1" {
		t.Errorf("LastCheck(no answer) = %+v, %v", got, err)
	}
	if _, err := c.LastCheck(ctx, fresh); !errors.Is(err, integrations.ErrNotFound) {
		t.Errorf("LastCheck(no runs) err = %v, want ErrNotFound", err)
	}
	if _, err := c.LastCheck(ctx, "999"); !errors.Is(err, integrations.ErrNotFound) {
		t.Errorf("LastCheck(unknown) err = %v, want ErrNotFound", err)
	}
	if n := srv.Requests("/v1/uptime/" + id + "/history"); n != 1 {
		t.Errorf("%d history requests, want 1", n)
	}
}
