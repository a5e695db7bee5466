package store_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func TestSilenceMatches(t *testing.T) {
	whole := store.Silence{Client: "acme", Start: t0, End: t0.Add(time.Hour)}
	site := store.Silence{Client: "acme", Site: "www", Start: t0, End: t0.Add(time.Hour)}
	cases := []struct {
		name       string
		sil        store.Silence
		client, st string
		at         time.Time
		want       bool
	}{
		{"whole client, any site", whole, "acme", "api", t0.Add(time.Minute), true},
		{"whole client, no site", whole, "acme", "", t0, true},
		{"other client", whole, "beta", "", t0, false},
		{"before start", whole, "acme", "", t0.Add(-time.Nanosecond), false},
		{"at end", whole, "acme", "", t0.Add(time.Hour), false},
		{"just before end", whole, "acme", "", t0.Add(time.Hour - time.Nanosecond), true},
		{"site matches", site, "acme", "www", t0, true},
		{"other site", site, "acme", "api", t0, false},
		{"site silence, client-wide alert", site, "acme", "", t0, false},
	}
	for _, c := range cases {
		if got := c.sil.Matches(c.client, c.st, c.at); got != c.want {
			t.Errorf("%s: Matches(%q, %q, %v) = %v, want %v", c.name, c.client, c.st, c.at, got, c.want)
		}
	}
}

var silenceID = regexp.MustCompile(`^s-[a-z2-7]{6}$`)

func TestSilenceAddListRemove(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)

	long, err := s.AddSilence(ctx, store.Silence{Client: "acme", Reason: "migration", CreatedBy: "U1", Start: t0, End: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !silenceID.MatchString(long.ID) {
		t.Fatalf("ID %q does not look like s-xxxxxx", long.ID)
	}
	short, err := s.AddSilence(ctx, store.Silence{Client: "beta", Site: "www", Reason: "restart <now>", CreatedBy: "U2", Start: t0, End: t0.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if short.ID == long.ID {
		t.Fatal("two silences got the same ID")
	}

	got, err := s.Silences(ctx, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != short.ID || got[1].ID != long.ID {
		t.Fatalf("Silences = %+v; want short then long (ordered by end)", got)
	}
	g := got[0]
	if g.Client != "beta" || g.Site != "www" || g.Reason != "restart <now>" || g.CreatedBy != "U2" || !g.Start.Equal(t0) || !g.End.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("round trip lost data: %+v", g)
	}

	// Expiry is by `now`: at the short one's end it is gone, and purged.
	got, err = s.Silences(ctx, t0.Add(30*time.Minute))
	if err != nil || len(got) != 1 || got[0].ID != long.ID {
		t.Fatalf("Silences after the short one ended = %+v, %v", got, err)
	}
	if n := rdb.HLen(ctx, "opsbot:silences").Val(); n != 1 {
		t.Fatalf("expired record not purged: hash has %d entries", n)
	}
	if n := rdb.ZCard(ctx, "opsbot:silences:_end").Val(); n != 1 {
		t.Fatalf("expired record not purged: index has %d entries", n)
	}
	if _, err := s.RemoveSilence(ctx, short.ID, "U1", t0.Add(31*time.Minute)); !errors.Is(err, store.ErrSilenceNotFound) {
		t.Fatalf("RemoveSilence(expired) = %v, want ErrSilenceNotFound", err)
	}

	at := t0.Add(40 * time.Minute)
	ended, err := s.RemoveSilence(ctx, long.ID, "U3", at)
	if err != nil {
		t.Fatal(err)
	}
	if ended.ID != long.ID || ended.Client != "acme" || !ended.End.Equal(at) {
		t.Fatalf("RemoveSilence = %+v; want acme ended at %v", ended, at)
	}
	if got, err := s.Silences(ctx, at); err != nil || len(got) != 0 {
		t.Fatalf("Silences after removal = %+v, %v", got, err)
	}
	if _, err := s.RemoveSilence(ctx, long.ID, "U3", at); !errors.Is(err, store.ErrSilenceNotFound) {
		t.Fatalf("second RemoveSilence = %v, want ErrSilenceNotFound", err)
	}
	if _, err := s.RemoveSilence(ctx, "s-nope00", "U3", at); !errors.Is(err, store.ErrSilenceNotFound) {
		t.Fatalf("RemoveSilence(unknown) = %v, want ErrSilenceNotFound", err)
	}

	entries, err := s.RecentAudit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("audit has %d entries, want 3 (two adds, one remove): %+v", len(entries), entries)
	}
	rm, add2, add1 := entries[0], entries[1], entries[2]
	if rm.Action != "silence.remove" || rm.Actor != "U3" || rm.Target != long.ID || rm.Client != "acme" || !rm.At.Equal(at) || !strings.Contains(rm.Detail, "migration") {
		t.Fatalf("remove audit entry = %+v", rm)
	}
	if add2.Action != "silence.add" || add2.Actor != "U2" || add2.Target != short.ID || add2.Client != "beta" ||
		!strings.Contains(add2.Detail, "restart <now>") || !strings.Contains(add2.Detail, "www") || !strings.Contains(add2.Detail, "2026-11-22T10:30:00Z") {
		t.Fatalf("add audit entry = %+v", add2)
	}
	if add1.Action != "silence.add" || add1.Target != long.ID {
		t.Fatalf("first audit entry = %+v", add1)
	}
}

func TestAddSilenceFailsClosedWhenAuditUnwritable(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	if err := rdb.Set(ctx, "opsbot:audit", "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := s.AddSilence(ctx, store.Silence{Client: "acme", Reason: "x", CreatedBy: "U1", Start: t0, End: t0.Add(time.Hour)})
	if err == nil {
		t.Fatal("AddSilence succeeded although the audit entry could not be written")
	}
	if errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("WRONGTYPE classified as unavailable: %v", err)
	}
	if got, err := s.Silences(ctx, t0); err != nil || len(got) != 0 {
		t.Fatalf("silence stored despite failed audit: %+v, %v", got, err)
	}
	if n := rdb.Exists(ctx, "opsbot:silences", "opsbot:silences:_end").Val(); n != 0 {
		t.Fatalf("%d silence keys exist despite failed audit", n)
	}
}

func TestRemoveSilenceFailsClosedWhenAuditUnwritable(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	sil, err := s.AddSilence(ctx, store.Silence{Client: "acme", Reason: "x", CreatedBy: "U1", Start: t0, End: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	rdb.Del(ctx, "opsbot:audit")
	if err := rdb.Set(ctx, "opsbot:audit", "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveSilence(ctx, sil.ID, "U2", t0.Add(time.Minute)); err == nil || errors.Is(err, store.ErrSilenceNotFound) {
		t.Fatalf("RemoveSilence = %v; want an audit failure", err)
	}
	if got, err := s.Silences(ctx, t0.Add(time.Minute)); err != nil || len(got) != 1 {
		t.Fatalf("silence removed despite failed audit: %+v, %v", got, err)
	}
}

func TestAddSilenceRejectsBadShape(t *testing.T) {
	s, _, _ := newStore(t)
	for _, sil := range []store.Silence{
		{Reason: "no client", Start: t0, End: t0.Add(time.Hour)},
		{Client: "acme", Reason: "ends before it starts", Start: t0, End: t0.Add(-time.Hour)},
		{Client: "acme", Reason: "zero length", Start: t0, End: t0},
		{Client: "acme", Reason: "no start", End: t0},
	} {
		if _, err := s.AddSilence(context.Background(), sil); err == nil {
			t.Errorf("AddSilence(%+v) succeeded", sil)
		}
	}
}
