package store

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// A launch checklist is the gate before a client's site goes live: items
// the bot proves from an API (verified), items a person with a named role
// ticks (attested), waivers that need a second person, and an admin's
// sign-off after which the checklist is read-only. The rules here are
// pure; checkliststore.go saves them.

// ItemKind says how an item is proven.
type ItemKind string

// The kinds of items.
const (
	ItemKindVerified ItemKind = "verified" // the bot proves it from an API
	ItemKindAttested ItemKind = "attested" // a person with the item's role ticks it
)

// ItemState is where an item stands (a waiver is on top of it: see Effective).
type ItemState string

// The item states.
const (
	ItemUnchecked ItemState = "unchecked" // ⏳ not checked yet
	ItemVerified  ItemState = "verified"  // ✅ proven by the bot (evidence + time)
	ItemAttested  ItemState = "attested"  // ✅ ticked by a person (who + when)
	ItemFailing   ItemState = "failing"   // ❌ what failed, in words
	ItemNA        ItemState = "na"        // ➖ not applicable, with the reason
	ItemWaived    ItemState = "waived"    // ⚠️ an approved waiver in force (never stored)
	ItemStale     ItemState = "stale"     // ⏳ verified longer ago than its TTL (never stored)
)

// WaiverCategories are the reasons a waiver may be asked for.
var WaiverCategories = []string{"out of scope", "business priority", "architecture constraint", "other"}

// MaxWaiver is the longest a waiver may run.
const MaxWaiver = 90 * 24 * time.Hour

// maxReason bounds a waiver's reason text.
const maxReason = 1000

// ErrChecklistNotFound is returned for an unknown checklist ID.
var ErrChecklistNotFound = errors.New("no such checklist")

// ChecklistError is a refused checklist action, worded for the person.
type ChecklistError struct{ Msg string }

func (e *ChecklistError) Error() string { return e.Msg }

func refuse(format string, args ...any) error {
	return &ChecklistError{Msg: fmt.Sprintf(format, args...)}
}

// ItemSpec is one item of a template.
type ItemSpec struct {
	Key   string        `json:"key"`
	Title string        `json:"title"`
	Kind  ItemKind      `json:"kind"`
	Check string        `json:"check,omitempty"` // verified: the source that proves it
	Role  Role          `json:"role,omitempty"`  // attested: who may tick it (admin always may)
	When  string        `json:"when,omitempty"`  // applies only when the client has this condition
	TTL   time.Duration `json:"ttl,omitempty"`   // a verification older than this is stale
}

// ItemWaiver sets an item aside until Expires; it counts only once approved
// by someone other than the person who asked.
type ItemWaiver struct {
	Category   string    `json:"category"`
	Reason     string    `json:"reason"`
	Expires    time.Time `json:"expires"`
	AskedBy    string    `json:"asked_by"`
	AskedAt    time.Time `json:"asked_at"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	ApprovedAt time.Time `json:"approved_at,omitzero"`
}

// ChecklistItem is one item of a launch and where it stands.
type ChecklistItem struct {
	ItemSpec
	State  ItemState   `json:"state"`
	Detail string      `json:"detail,omitempty"` // evidence, what failed, or why n/a, in words
	URL    string      `json:"url,omitempty"`    // evidence link (a loader.io report)
	At     time.Time   `json:"at,omitzero"`      // when it was checked or ticked
	By     string      `json:"by,omitempty"`     // who ticked it
	Waiver *ItemWaiver `json:"waiver,omitempty"`
}

// Effective is the item's state at now: an approved waiver in force shows
// as waived, a verification past its TTL as stale.
func (i ChecklistItem) Effective(now time.Time) ItemState {
	if w := i.Waiver; w != nil && w.ApprovedBy != "" && now.Before(w.Expires) && i.State != ItemVerified && i.State != ItemAttested {
		return ItemWaived
	}
	if i.State == ItemVerified && i.TTL > 0 && now.Sub(i.At) > i.TTL {
		return ItemStale
	}
	return i.State
}

// CheckResult is what a verification source found for one client.
type CheckResult struct {
	State  ItemState // ItemVerified, ItemFailing or ItemNA
	Detail string    // evidence or what failed, in words
	URL    string
}

// ChecklistRun is a re-verification in progress, saved with the checklist
// so whichever replica holds its lease carries it (as a change request's
// long step).
type ChecklistRun struct {
	By       string    `json:"by"`
	Channel  string    `json:"channel,omitempty"`  // where it was clicked: a refusal is shown there to By alone
	SignOff  bool      `json:"sign_off,omitempty"` // sign off afterwards if nothing holds it back
	Started  time.Time `json:"started"`
	Deadline time.Time `json:"deadline"`
	Done     int       `json:"done,omitempty"` // items checked so far, for the progress line
	Note     string    `json:"note,omitempty"` // a long check's progress ("load test running: 20s of about 60s")
	Runs     int       `json:"runs,omitempty"` // times a replica took it up; > 1 means resumed
}

// ChecklistEvent is one line of a checklist's history: audited and posted
// in its thread.
type ChecklistEvent struct {
	At     time.Time
	Actor  string // "" for opsbot
	Action string // checklist.create, checklist.attest, ...
	Item   string
	Text   string // who did what; trusted text with <@user> mentions
	Detail string // a source's words (evidence, what failed): escape before showing
	Reason string // a person's words: escape before showing
}

// Checklist is one launch's checklist.
type Checklist struct {
	ID          string          `json:"id"`
	Client      string          `json:"client"`
	Template    string          `json:"template"`
	Items       []ChecklistItem `json:"items"`
	CreatedBy   string          `json:"created_by"`
	Created     time.Time       `json:"created"`
	Channel     string          `json:"channel,omitempty"`
	MessageTS   string          `json:"message_ts,omitempty"`
	SignedOffBy string          `json:"signed_off_by,omitempty"`
	SignedOffAt time.Time       `json:"signed_off_at,omitzero"`
	Run         *ChecklistRun   `json:"run,omitempty"`
	Version     int             `json:"version"`

	events []ChecklistEvent // added by this update: audited and threaded on save
}

// NewChecklist builds a launch's checklist from a template: items whose
// condition the client does not meet are n/a with the reason.
func NewChecklist(id, client, template string, specs []ItemSpec, conditions map[string]bool, by string, at time.Time) (*Checklist, error) {
	if len(specs) == 0 {
		return nil, refuse("template %q has no items", template)
	}
	c := &Checklist{ID: id, Client: client, Template: template, CreatedBy: by, Created: at}
	for _, s := range specs {
		it := ChecklistItem{ItemSpec: s, State: ItemUnchecked}
		if s.When != "" && !conditions[s.When] {
			it.State, it.Detail, it.At = ItemNA, "applies only when the client has "+s.When+" (not set for "+client+")", at
		}
		c.Items = append(c.Items, it)
	}
	c.note(by, "checklist.create", "", at, fmt.Sprintf("checklist %s opened for %s from template %s", id, client, template), "")
	return c, nil
}

// Events are the history lines this update added.
func (c *Checklist) Events() []ChecklistEvent { return c.events }

func (c *Checklist) note(actor, action, item string, at time.Time, text, reason string) {
	c.events = append(c.events, ChecklistEvent{At: at, Actor: actor, Action: action, Item: item, Text: text, Reason: reason})
}

// SignedOff reports whether the launch was signed off (read-only).
func (c *Checklist) SignedOff() bool { return c.SignedOffBy != "" }

// Item finds an item by key.
func (c *Checklist) Item(key string) (*ChecklistItem, error) {
	for i := range c.Items {
		if c.Items[i].Key == key {
			return &c.Items[i], nil
		}
	}
	return nil, refuse("checklist %s has no item %q", c.ID, key)
}

func (c *Checklist) writable() error {
	if c.SignedOff() {
		return refuse("checklist %s was signed off by <@%s>: it is read-only now", c.ID, c.SignedOffBy)
	}
	return nil
}

// MayTick reports whether p may tick it (and so ask to waive it): the
// item's role for attested items, support for verified ones; admin always.
func MayTick(p Principal, it ChecklistItem, client string) bool {
	if p.HasRole(Admin) {
		return true
	}
	if it.Kind == ItemKindAttested {
		return it.Role != "" && p.HasRole(it.Role)
	}
	return p.CanFor(PermChecklistTick, client) || p.HasRole(Security)
}

// Attest ticks an attested item for p.
func (c *Checklist) Attest(key string, p Principal, evidence string, at time.Time) error {
	if err := c.writable(); err != nil {
		return err
	}
	it, err := c.Item(key)
	switch {
	case err != nil:
		return err
	case it.Kind != ItemKindAttested:
		return refuse("%q is verified by opsbot from the systems themselves: it cannot be ticked by hand. Press Re-verify instead.", it.Title)
	case it.State == ItemNA:
		return refuse("%q does not apply to this launch: %s", it.Title, it.Detail)
	case !MayTick(p, *it, c.Client):
		return refuse("%q is ticked by someone with the %s role (or an admin).", it.Title, it.Role)
	case it.State == ItemAttested:
		return refuse("%q was already ticked by <@%s>.", it.Title, it.By)
	}
	it.State, it.By, it.At, it.Detail = ItemAttested, p.UserID, at, strings.TrimSpace(evidence)
	c.note(p.UserID, "checklist.attest", key, at, fmt.Sprintf("✅ %s attested by <@%s>", it.Title, p.UserID), it.Detail)
	return nil
}

// Record saves a verification's result; the history gets a line only when
// the state changes.
func (c *Checklist) Record(key string, r CheckResult, at time.Time) error {
	if err := c.writable(); err != nil {
		return err
	}
	it, err := c.Item(key)
	if err != nil {
		return err
	}
	if it.Kind != ItemKindVerified || (it.State == ItemNA && it.When != "") {
		return nil
	}
	was := it.Effective(at)
	it.State, it.Detail, it.URL, it.At = r.State, r.Detail, r.URL, at
	if now := it.Effective(at); now != was {
		c.note("", "checklist.verify", key, at, StateEmoji(now)+" "+it.Title, "")
		c.events[len(c.events)-1].Detail = r.Detail
	}
	return nil
}

// StateEmoji pairs a state with its emoji.
func StateEmoji(s ItemState) string {
	switch s {
	case ItemVerified, ItemAttested:
		return "✅"
	case ItemFailing:
		return "❌"
	case ItemNA:
		return "➖"
	case ItemWaived:
		return "⚠️"
	}
	return "⏳"
}
