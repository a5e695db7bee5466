package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Freeze is a deploy freeze opened by a major change for its window: CI asks
// GET /v1/freeze?repo=owner/name before deploying and `/ops freeze` lists it.
// It ends at End or, earlier, when the change closes (EndFreeze).
type Freeze struct {
	ChangeID string   // the change request that opened it; one freeze per change
	Client   string   // client key
	Repos    []string // "owner/name", lower-case; none = announced only, freezes no repository
	Start    time.Time
	End      time.Time // exclusive: frozen while Start <= now < End
	Reason   string
	OpenedBy string    // who scheduled the change (audited as the freeze's opener)
	OpenedAt time.Time // when (the audit entry's time; zero: Start)
}

// Covers reports whether the freeze blocks deploys of repo at the moment at.
// Repositories compare case-insensitively (GitHub names do); a freeze with no
// repositories blocks none.
func (f Freeze) Covers(repo string, at time.Time) bool {
	return f.Active(at) && slices.Contains(f.Repos, strings.ToLower(strings.TrimSpace(repo)))
}

// Active reports whether the freeze is in force at the moment at.
func (f Freeze) Active(at time.Time) bool { return !at.Before(f.Start) && at.Before(f.End) }

// freezeRepo is a GitHub "owner/name": owner rules as GitHub's (letters,
// digits, hyphens, up to 39, not starting with a hyphen); repository names of
// letters, digits, '.', '_' and '-'.
var freezeRepo = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,38}/[a-z0-9._-]{1,100}$`)

// freezeRecord is the stored JSON form (field names fixed independently of Go names).
type freezeRecord struct {
	ChangeID string    `json:"change_id"`
	Client   string    `json:"client"`
	Repos    []string  `json:"repos,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Reason   string    `json:"reason,omitempty"`
	OpenedBy string    `json:"opened_by,omitempty"`
	OpenedAt time.Time `json:"opened_at,omitzero"`
}

func (s *Store) freezeKeys() []string {
	return []string{s.key("freezes"), s.key("freezes", "_end")}
}

// normaliseRepos trims, lower-cases, checks, sorts and de-duplicates repos.
func normaliseRepos(repos []string) ([]string, error) {
	out := make([]string, 0, len(repos))
	for _, r := range repos {
		r = strings.ToLower(strings.TrimSpace(r))
		if !freezeRepo.MatchString(r) {
			return nil, fmt.Errorf("store: freeze: %q is not a repository (owner/name)", r)
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// AddFreeze stores the freeze of a change, replacing any earlier freeze of
// the same ChangeID (a rescheduled window moves it). Repositories are stored
// lower-case; one that is not "owner/name" refuses the whole freeze.
// The record, its end index and its audit entry ("freeze.open") are
// written in one MULTI/EXEC.
func (s *Store) AddFreeze(ctx context.Context, f Freeze) error {
	switch {
	case strings.TrimSpace(f.ChangeID) == "":
		return errors.New("store: freeze: change ID is required")
	case f.Start.IsZero() || !f.End.After(f.Start):
		return fmt.Errorf("store: freeze %s: end %v must be after start %v", f.ChangeID, f.End, f.Start)
	}
	repos, err := normaliseRepos(f.Repos)
	if err != nil {
		return err
	}
	rec, err := json.Marshal(freezeRecord{ChangeID: f.ChangeID, Client: f.Client, Repos: repos,
		Start: f.Start.UTC(), End: f.End.UTC(), Reason: f.Reason, OpenedBy: f.OpenedBy, OpenedAt: f.OpenedAt.UTC()})
	if err != nil {
		return fmt.Errorf("store: freeze %s: %w", f.ChangeID, err)
	}
	if err := s.checkAuditWritable(ctx, s.rdb); err != nil {
		return wrap("add freeze "+f.ChangeID+" (audit first)", err)
	}
	keys := s.freezeKeys()
	pipe := s.rdb.TxPipeline()
	what := "no repositories"
	if len(repos) > 0 {
		what = strings.Join(repos, ", ")
	}
	s.addAudit(ctx, pipe, AuditEntry{At: cmp.Or(f.OpenedAt, f.Start), Actor: f.OpenedBy, Action: "freeze.open", Target: f.ChangeID, Client: f.Client,
		Detail: fmt.Sprintf("%s from %s to %s: %s", what, f.Start.UTC().Format(time.RFC3339), f.End.UTC().Format(time.RFC3339), f.Reason)})
	pipe.HSet(ctx, keys[0], f.ChangeID, string(rec))
	pipe.ZAdd(ctx, keys[1], redis.Z{Score: float64(f.End.UnixMilli()), Member: f.ChangeID})
	_, err = pipe.Exec(ctx)
	return wrap("add freeze "+f.ChangeID, err)
}

// closeFreeze queues the removal of the freeze of cr, which just ended,
// with its audit entry ("freeze.close"), in the caller's transaction.
func (s *Store) closeFreeze(ctx context.Context, p redis.Pipeliner, cr ChangeRequest, at time.Time) {
	by := ""
	if n := len(cr.History); n > 0 {
		by = cr.History[n-1].By
	}
	keys := s.freezeKeys()
	s.addAudit(ctx, p, AuditEntry{At: at, Actor: by, Action: "freeze.close", Target: cr.ID, Client: cr.Client,
		Detail: "the change ended (" + cr.Outcome() + ")"})
	p.HDel(ctx, keys[0], cr.ID)
	p.ZRem(ctx, keys[1], cr.ID)
}

// EndFreeze removes the freeze of a change that closed before its window
// ended. Ending a change without a freeze (or one already over) is no error.
// A change request ending through UpdateChange closes its freeze itself.
func (s *Store) EndFreeze(ctx context.Context, changeID string) error {
	keys := s.freezeKeys()
	pipe := s.rdb.TxPipeline()
	pipe.HDel(ctx, keys[0], changeID)
	pipe.ZRem(ctx, keys[1], changeID)
	_, err := pipe.Exec(ctx)
	return wrap("end freeze "+changeID, err)
}

// ActiveFreezes returns the freezes in force at now (Start <= now < End),
// ordered by End then ChangeID, in one round trip that also purges the ones
// that have ended. now must be the real time: freezes ended by then are
// deleted. A freeze scheduled to start later is kept but not returned.
func (s *Store) ActiveFreezes(ctx context.Context, now time.Time) ([]Freeze, error) {
	vals, err := activeRecordsScript.Run(ctx, s.rdb, s.freezeKeys(), now.UnixMilli()).StringSlice()
	if err != nil {
		return nil, wrap("list freezes", err)
	}
	out := make([]Freeze, 0, len(vals))
	for _, v := range vals {
		var r freezeRecord
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			continue // a corrupt record freezes nothing
		}
		f := Freeze(r)
		if f.Active(now) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b Freeze) int {
		return cmp.Or(a.End.Compare(b.End), strings.Compare(a.ChangeID, b.ChangeID))
	})
	return out, nil
}

// ActiveFreeze answers CI's question "may repo deploy now?": frozen is true
// when an active freeze lists repo (case-insensitively), and then changeID
// and until name the freeze that lasts longest (ties: the lowest change ID).
// A freeze with no repositories freezes nothing here: it is only announced.
func (s *Store) ActiveFreeze(ctx context.Context, repo string, now time.Time) (changeID string, until time.Time, frozen bool, err error) {
	all, err := s.ActiveFreezes(ctx, now)
	if err != nil {
		return "", time.Time{}, false, err
	}
	for _, f := range all { // ordered by End then ChangeID
		if f.Covers(repo, now) && (!frozen || f.End.After(until)) {
			changeID, until, frozen = f.ChangeID, f.End, true
		}
	}
	return changeID, until, frozen, nil
}
