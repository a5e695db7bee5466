package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

var (
	clT0     = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clAdmin  = store.Principal{UserID: "UADMIN", Grants: []store.Grant{{Role: store.Admin}}}
	clAdmin2 = store.Principal{UserID: "UADMIN2", Grants: []store.Grant{{Role: store.Admin}}}
	clSec    = store.Principal{UserID: "USEC", Grants: []store.Grant{{Role: store.Security}}}
	clSupp   = store.Principal{UserID: "USUPP", Grants: []store.Grant{{Role: store.Support}}}
	clEng    = store.Principal{UserID: "UENG", Grants: []store.Grant{{Role: store.Engineer}}}
)

func clSpecs() []store.ItemSpec {
	return []store.ItemSpec{
		{Key: "quoted", Title: "Provisioned as quoted", Kind: store.ItemKindVerified, Check: "quoted", TTL: time.Hour},
		{Key: "compliance", Title: "Compliance reviewed", Kind: store.ItemKindAttested, Role: store.Security},
		{Key: "pentest", Title: "Pentest done", Kind: store.ItemKindAttested, Role: store.Security, When: "pentest"},
	}
}

func newCL(t *testing.T) *store.Checklist {
	t.Helper()
	c, err := store.NewChecklist("L-1", "acme", "default", clSpecs(), nil, "USUPP", clT0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChecklistConditionMakesItemNA(t *testing.T) {
	c := newCL(t)
	it, _ := c.Item("pentest")
	if it.State != store.ItemNA || !strings.Contains(it.Detail, "pentest") {
		t.Fatalf("pentest without the condition: %+v", it)
	}
	c2, _ := store.NewChecklist("L-2", "acme", "default", clSpecs(), map[string]bool{"pentest": true}, "USUPP", clT0)
	if it, _ := c2.Item("pentest"); it.State != store.ItemUnchecked {
		t.Fatalf("pentest with the condition: %+v", it)
	}
}

func TestChecklistAttestRules(t *testing.T) {
	c := newCL(t)
	var ce *store.ChecklistError
	if err := c.Attest("quoted", clAdmin, "", clT0); !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot be ticked by hand") {
		t.Fatalf("ticking a verified item: %v", err)
	}
	if err := c.Attest("compliance", clSupp, "", clT0); !errors.As(err, &ce) || !strings.Contains(err.Error(), "security") {
		t.Fatalf("support ticking a security item: %v", err)
	}
	if it, _ := c.Item("compliance"); it.State != store.ItemUnchecked {
		t.Fatalf("a refused tick changed the item: %+v", it)
	}
	if err := c.Attest("compliance", clSec, "reviewed with legal", clT0); err != nil {
		t.Fatal(err)
	}
	if it, _ := c.Item("compliance"); it.State != store.ItemAttested || it.By != "USEC" || !it.At.Equal(clT0) {
		t.Fatalf("attested: %+v", it)
	}
}

func TestChecklistWaiverFourEyesAndExpiry(t *testing.T) {
	c := newCL(t)
	exp := clT0.Add(10 * 24 * time.Hour)
	for name, err := range map[string]error{
		"no reason":     c.AskWaiver("quoted", clSupp, "business priority", "  ", exp, clT0),
		"400 days":      c.AskWaiver("quoted", clSupp, "business priority", "x", clT0.Add(400*24*time.Hour), clT0),
		"bad category":  c.AskWaiver("quoted", clSupp, "because", "x", exp, clT0),
		"engineer asks": c.AskWaiver("quoted", clEng, "other", "x", exp, clT0),
	} {
		var ce *store.ChecklistError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if it, _ := c.Item("quoted"); it.Waiver != nil {
		t.Fatalf("refused waivers left one: %+v", it.Waiver)
	}
	if err := c.AskWaiver("quoted", clSupp, "business priority", "forecast lags a week", exp, clT0); err != nil {
		t.Fatal(err)
	}
	if b := c.Blockers(clT0); len(b) != 2 {
		t.Fatalf("an unapproved waiver counts: blockers %s", store.BlockerTitles(b))
	}
	if err := c.ApproveWaiver("quoted", clSupp, clT0); err == nil {
		t.Fatal("support approved a waiver")
	}
	if err := c.AskWaiver("compliance", clSec, "other", "x", exp, clT0); err != nil {
		t.Fatal(err)
	}
	if err := c.ApproveWaiver("compliance", clSec, clT0); err == nil || !strings.Contains(err.Error(), "different person") {
		t.Fatalf("self-approval: %v", err)
	}
	if err := c.ApproveWaiver("quoted", clSec, clT0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if it, _ := c.Item("quoted"); it.Effective(clT0.Add(time.Hour)) != store.ItemWaived {
		t.Fatalf("approved waiver: %s", it.Effective(clT0.Add(time.Hour)))
	}
	if got := c.ExpireWaivers(exp.Add(-time.Second)); len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	if got := c.ExpireWaivers(exp); len(got) != 2 {
		t.Fatalf("expired %v", got)
	}
	if it, _ := c.Item("quoted"); it.Effective(exp) != store.ItemFailing || it.Waiver != nil {
		t.Fatalf("after expiry: %+v", it)
	}
}

func TestChecklistSignOff(t *testing.T) {
	c := newCL(t)
	var refused *store.SignOffRefused
	if err := c.SignOff(clAdmin, clT0); !errors.As(err, &refused) || !strings.Contains(err.Error(), "Provisioned as quoted, Compliance reviewed") {
		t.Fatalf("sign-off with blockers: %v", err)
	}
	_ = c.Record("quoted", store.CheckResult{State: store.ItemVerified, Detail: "forecast $950 vs quote $1,000"}, clT0)
	_ = c.Attest("compliance", clSec, "", clT0)
	if err := c.SignOff(clSec, clT0); err == nil || c.SignedOff() {
		t.Fatalf("security signed off: %v", err)
	}
	if err := c.SignOff(clAdmin, clT0.Add(2*time.Hour)); !errors.As(err, &refused) || !strings.Contains(err.Error(), "Provisioned as quoted") {
		t.Fatalf("stale verification let sign-off through: %v", err)
	}
	_ = c.Record("quoted", store.CheckResult{State: store.ItemVerified, Detail: "ok"}, clT0.Add(2*time.Hour))
	if err := c.SignOff(clAdmin, clT0.Add(2*time.Hour)); err != nil || !c.SignedOff() {
		t.Fatalf("sign-off: %v", err)
	}
	if err := c.AskWaiver("quoted", clAdmin, "other", "x", clT0.Add(3*time.Hour), clT0.Add(2*time.Hour)); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("signed-off checklist changed: %v", err)
	}
}

func TestChecklistStoreAuditsEveryChange(t *testing.T) {
	ctx := context.Background()
	s := store.New(redistest.Start(t).Client(t), "opsbot:")
	c := newCL(t)
	if err := s.CreateChecklist(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateChecklist(ctx, "L-1", clT0, func(c *store.Checklist) ([]store.OutboxItem, error) {
		return nil, c.Attest("quoted", clAdmin, "", clT0)
	}); err == nil {
		t.Fatal("ticking a verified item was saved")
	}
	got, err := s.UpdateChecklist(ctx, "L-1", clT0, func(c *store.Checklist) ([]store.OutboxItem, error) {
		return nil, c.Attest("compliance", clSec, "", clT0)
	})
	if err != nil || got.Version != 2 {
		t.Fatalf("update: %v version %d", err, got.Version)
	}
	_, err = s.UpdateChecklist(ctx, "L-1", clT0, func(c *store.Checklist) ([]store.OutboxItem, error) { return nil, c.SignOff(clAdmin2, clT0) })
	var refused *store.SignOffRefused
	if !errors.As(err, &refused) {
		t.Fatalf("sign-off: %v", err)
	}
	audit, err := s.RecentAudit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range audit {
		actions = append(actions, e.Action+" "+e.Target)
	}
	want := "checklist.signoff_refused L-1,checklist.attest L-1/compliance,checklist.create L-1"
	if strings.Join(actions, ",") != want {
		t.Fatalf("audit %v, want %s", actions, want)
	}
	list, err := s.ClientChecklists(ctx, "acme")
	if err != nil || len(list) != 1 || list[0].Version != 3 {
		t.Fatalf("client list %+v %v", list, err)
	}
}
