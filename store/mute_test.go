package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func TestMutesIncludeChangeWindowsAndFreezes(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	window := func(id, client string, state store.ChangeState, from, to time.Time) {
		t.Helper()
		cr := &store.ChangeRequest{ID: id, Client: client, Title: "t " + id, State: state, CreatedAt: t0.Add(-time.Hour),
			Proposal: &store.Proposal{Plan: "p", WindowStart: from, WindowEnd: to, Version: 1}}
		if err := s.CreateChange(ctx, cr); err != nil {
			t.Fatal(err)
		}
	}
	window("CR-1", "acme", store.ChangeScheduled, t0, t0.Add(time.Hour))                  // in force
	window("CR-2", "acme", store.ChangeApproved, t0, t0.Add(time.Hour))                   // not scheduled yet
	window("CR-3", "beta", store.ChangeCutOver, t0.Add(-time.Hour), t0.Add(2*time.Hour))  // in force
	window("CR-4", "beta", store.ChangeScheduled, t0.Add(time.Hour), t0.Add(2*time.Hour)) // later
	window("CR-5", "gamma", store.ChangeClosed, t0, t0.Add(time.Hour))                    // ended
	for _, f := range []store.Freeze{
		{ChangeID: "CR-1", Client: "acme", Start: t0, End: t0.Add(time.Hour), Reason: "same change"},
		{ChangeID: "CR-6", Client: "delta", Start: t0, End: t0.Add(time.Hour), Reason: "freeze only"},
	} {
		if err := s.AddFreeze(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddSilence(ctx, store.Silence{Client: "acme", Site: "www", Reason: "r", CreatedBy: "UADMIN0001", Start: t0, End: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mutes, err := s.Mutes(ctx, t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mutes {
		got = append(got, m.Client+"/"+m.Change)
	}
	slices.Sort(got)
	if want := []string{"acme/", "acme/CR-1", "beta/CR-3", "delta/CR-6"}; !slices.Equal(got, want) {
		t.Fatalf("mutes = %v, want %v", got, want)
	}
	for _, m := range mutes {
		if m.Change != "" && !m.Matches(m.Client, "any-site", t0.Add(30*time.Minute)) {
			t.Errorf("window %+v does not mute the whole client", m)
		}
	}
}
