package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// TrainingState is where a person stands with security training.
type TrainingState string

// Training states, worst first.
const (
	TrainingOverdue   TrainingState = "overdue"   // never done, or the last completion has expired
	TrainingDueSoon   TrainingState = "due soon"  // the last completion expires within the due-soon window
	TrainingUnmatched TrainingState = "unmatched" // no Udemy account with their Slack e-mail, and nothing recorded
	TrainingCurrent   TrainingState = "current"
)

// TrainingRecord is training done elsewhere, recorded by security or admin.
type TrainingRecord struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`
	Course   string    `json:"course"`
	Date     time.Time `json:"date"` // the day it was completed (UTC midnight)
	Evidence string    `json:"evidence"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// UdemyPerson is one Udemy account as the last sync saw it.
type UdemyPerson struct {
	Name string `json:"name,omitempty"`
	// Completions: course ID → first completion.
	Completions map[string]time.Time `json:"completions,omitempty"`
}

// TrainingSync is the last sync of Udemy's reports: active accounts by
// lower-case e-mail (deactivated ones are left out), course titles, and
// each team member's Slack e-mail (user ID → e-mail).
type TrainingSync struct {
	At      time.Time              `json:"at"`
	People  map[string]UdemyPerson `json:"people"`
	Courses map[string]string      `json:"courses"`
	Emails  map[string]string      `json:"emails"`
}

// TrainingStatus is one person's standing.
type TrainingStatus struct {
	User    string
	Email   string
	State   TrainingState
	Last    time.Time // latest completion (zero: none)
	Course  string    // what it was
	Source  string    // "udemy" or "recorded by <@U…>"
	Expires time.Time // Last + valid for (zero: none)
}

// TrainingRules are the compliance settings.
type TrainingRules struct {
	ValidFor, DueSoon time.Duration
}

// Status judges one person from their Udemy account (nil when unmatched)
// and their recorded trainings at now.
func (r TrainingRules) Status(user, email string, udemy *UdemyPerson, courses map[string]string, recs []TrainingRecord, now time.Time) TrainingStatus {
	st := TrainingStatus{User: user, Email: email}
	if udemy != nil {
		for id, at := range udemy.Completions {
			if at.After(st.Last) {
				st.Last, st.Course, st.Source = at, courseName(courses, id), "udemy"
			}
		}
	}
	for _, rec := range recs {
		if rec.Date.After(st.Last) {
			st.Last, st.Course, st.Source = rec.Date, rec.Course, "recorded by <@"+rec.By+">"
		}
	}
	switch {
	case st.Last.IsZero() && udemy == nil:
		st.State = TrainingUnmatched
		return st
	case st.Last.IsZero():
		st.State = TrainingOverdue
		return st
	}
	st.Expires = st.Last.Add(r.ValidFor)
	switch {
	case !now.Before(st.Expires):
		st.State = TrainingOverdue
	case st.Expires.Sub(now) <= r.DueSoon:
		st.State = TrainingDueSoon
	default:
		st.State = TrainingCurrent
	}
	return st
}

func courseName(courses map[string]string, id string) string {
	if t := courses[id]; t != "" {
		return t
	}
	return "Udemy course " + id
}

// NeedsReminder reports whether the person is reminded: overdue or due soon.
func (s TrainingStatus) NeedsReminder() bool {
	return s.State == TrainingOverdue || s.State == TrainingDueSoon
}

func (s *Store) trainingSyncKey() string    { return s.key("training", "sync") }
func (s *Store) trainingRecordsKey() string { return s.key("training", "records") }

// SaveTrainingSync replaces the last sync.
func (s *Store) SaveTrainingSync(ctx context.Context, ts TrainingSync) error {
	data, err := json.Marshal(ts)
	if err != nil {
		return fmt.Errorf("store: training sync: %w", err)
	}
	return wrap("save training sync", s.rdb.Set(ctx, s.trainingSyncKey(), data, 0).Err())
}

// LoadTrainingSync returns the last sync (ok false before the first).
func (s *Store) LoadTrainingSync(ctx context.Context) (TrainingSync, bool, error) {
	raw, err := s.rdb.Get(ctx, s.trainingSyncKey()).Bytes()
	if errors.Is(err, redis.Nil) {
		return TrainingSync{}, false, nil
	}
	if err != nil {
		return TrainingSync{}, false, wrap("read training sync", err)
	}
	var ts TrainingSync
	if err := json.Unmarshal(raw, &ts); err != nil {
		return TrainingSync{}, false, fmt.Errorf("store: training sync: %w", err)
	}
	return ts, true, nil
}

// recordTrainingScript stores a record with its audit entry first.
// KEYS: records hash, audit stream. ARGV: id, json, audit maxlen, field/value pairs...
var recordTrainingScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local fields = {}
for i = 4, #ARGV do fields[#fields+1] = ARGV[i] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// RecordTraining stores training done elsewhere, audited in the same step.
// The returned error may be ErrNotReplicated with the record stored.
func (s *Store) RecordTraining(ctx context.Context, rec TrainingRecord) (TrainingRecord, error) {
	if rec.User == "" || rec.Course == "" || rec.By == "" || rec.Date.IsZero() {
		return TrainingRecord{}, errors.New("store: record training: user, course, date and actor are required")
	}
	e := AuditEntry{At: rec.At, Actor: rec.By, Action: "training.record", Target: rec.User,
		Detail: rec.Course + " completed " + rec.Date.Format(time.DateOnly), Reason: rec.Evidence}
	for range 5 {
		var id [6]byte
		_, _ = rand.Read(id[:])
		rec.ID = "t-" + hex.EncodeToString(id[:])
		data, err := json.Marshal(rec)
		if err != nil {
			return TrainingRecord{}, err
		}
		args := append([]any{rec.ID, data, auditMaxLen}, e.fields()...)
		n, err := s.runAudited(ctx, "record training of "+rec.User+" (audit first)", recordTrainingScript,
			[]string{s.trainingRecordsKey(), s.auditStream()}, args...)
		if n == 1 {
			return rec, err
		}
		if err != nil {
			return TrainingRecord{}, err
		}
	}
	return TrainingRecord{}, errors.New("store: record training: could not draw a free ID")
}

// TrainingRecords returns every recorded training by user, oldest first.
func (s *Store) TrainingRecords(ctx context.Context) (map[string][]TrainingRecord, error) {
	all, err := s.rdb.HGetAll(ctx, s.trainingRecordsKey()).Result()
	if err != nil {
		return nil, wrap("read training records", err)
	}
	out := map[string][]TrainingRecord{}
	for id, raw := range all {
		var r TrainingRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("store: training record %s: %w", id, err)
		}
		out[r.User] = append(out[r.User], r)
	}
	for _, rs := range out {
		slices.SortFunc(rs, func(a, b TrainingRecord) int { return a.Date.Compare(b.Date) })
	}
	return out, nil
}

// TrainingTeam lists who must be trained: holders of the roles in who.
func TrainingTeam(grants map[string][]Grant, who []Role) []string {
	var team []string
	for user, gs := range grants {
		if slices.ContainsFunc(gs, func(g Grant) bool { return slices.Contains(who, g.Role) }) {
			team = append(team, user)
		}
	}
	slices.Sort(team)
	return team
}

// TrainingStatuses judges each of users from the sync and the records.
func (r TrainingRules) TrainingStatuses(users []string, ts TrainingSync, recs map[string][]TrainingRecord, now time.Time) []TrainingStatus {
	out := make([]TrainingStatus, 0, len(users))
	for _, u := range users {
		email := strings.ToLower(ts.Emails[u])
		var person *UdemyPerson
		if p, ok := ts.People[email]; ok && email != "" {
			person = &p
		}
		out = append(out, r.Status(u, email, person, ts.Courses, recs[u], now))
	}
	return out
}
