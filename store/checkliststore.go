package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"time"

	"github.com/redis/go-redis/v9"
)

// ErrChecklistConflict: the checklist kept changing under the update.
var ErrChecklistConflict = errors.New("checklist changed concurrently; try again")

func (s *Store) checklistKey(id string) string { return s.key("checklist", id) }
func (s *Store) checklistsOpen() string        { return s.key("checklists", "open") }
func (s *Store) checklistSeq() string          { return s.key("checklists", "seq") }
func (s *Store) checklistsOf(client string) string {
	return s.key("checklists", "client", client)
}

// NextChecklistID allocates the next launch ID: "L-1", "L-2"...
func (s *Store) NextChecklistID(ctx context.Context) (string, error) {
	n, err := s.rdb.Incr(ctx, s.checklistSeq()).Result()
	if err != nil {
		return "", wrap("next checklist id", err)
	}
	return "L-" + strconv.FormatInt(n, 10), nil
}

// CreateChecklist saves a new checklist with its audit entries and the
// deliveries (its message, thread lines) in one transaction.
func (s *Store) CreateChecklist(ctx context.Context, c *Checklist, items ...OutboxItem) error {
	if c == nil || c.ID == "" {
		return refuse("a checklist needs an ID")
	}
	k := s.checklistKey(c.ID)
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Exists(ctx, k).Result()
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("checklist %s already exists", c.ID)
		}
		return s.saveChecklist(ctx, tx, c, c.Created, items)
	}, k)
	if err != nil {
		return wrap("create checklist "+c.ID, err)
	}
	return nil
}

// saveChecklist writes c, audits its new events and enqueues items in one
// MULTI/EXEC (the audit log must be writable first: fail closed).
func (s *Store) saveChecklist(ctx context.Context, tx *redis.Tx, c *Checklist, now time.Time, items []OutboxItem) error {
	if len(c.events) > 0 {
		if err := s.checkAuditWritable(ctx, tx); err != nil {
			return err
		}
	}
	c.Version++
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode checklist %s: %w", c.ID, err)
	}
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range c.events {
			s.addAudit(ctx, p, AuditEntry{At: e.At, Actor: e.Actor, Action: e.Action, Target: c.ID + itemSuffix(e.Item),
				Client: c.Client, Reason: e.Reason, Detail: strings.TrimSuffix(e.Text+": "+e.Detail, ": ")})
		}
		p.Set(ctx, k(s, c.ID), data, 0)
		p.SAdd(ctx, s.checklistsOf(c.Client), c.ID)
		if c.SignedOff() {
			p.SRem(ctx, s.checklistsOpen(), c.ID)
		} else {
			p.SAdd(ctx, s.checklistsOpen(), c.ID)
		}
		return s.enqueue(ctx, p, now, items)
	})
	return err
}

func k(s *Store, id string) string { return s.checklistKey(id) }

func itemSuffix(item string) string {
	if item == "" {
		return ""
	}
	return "/" + item
}

// UpdateChecklist loads checklist id, lets fn change it through its
// methods and name the deliveries, then saves it, audits the events fn
// added and enqueues the items in one transaction (re-run on a concurrent
// update). fn must not do I/O. An error from fn is returned as is and
// nothing is saved — except a SignOffRefused, whose refusal is recorded.
func (s *Store) UpdateChecklist(ctx context.Context, id string, now time.Time, fn func(*Checklist) ([]OutboxItem, error)) (Checklist, error) {
	key := s.checklistKey(id)
	for range 16 {
		var out Checklist
		var fnErr error
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			c, err := readChecklist(ctx, tx, key, id)
			if err != nil {
				return err
			}
			items, err := fn(&c)
			var refused *SignOffRefused
			if err != nil && !errors.As(err, &refused) {
				fnErr = err
				return err
			}
			fnErr = err
			if err := s.saveChecklist(ctx, tx, &c, now, items); err != nil {
				return err
			}
			out = c
			return nil
		}, key)
		switch {
		case errors.Is(err, redis.TxFailedErr):
			continue
		case fnErr != nil && (err == nil || err == fnErr):
			// fn refused (nothing saved), or a refused sign-off was saved.
			return out, fnErr
		case errors.Is(err, ErrChecklistNotFound):
			return Checklist{}, err
		case err != nil:
			return Checklist{}, wrap("update checklist "+id, err)
		}
		return out, nil
	}
	return Checklist{}, fmt.Errorf("store: update checklist %s: %w", id, ErrChecklistConflict)
}

func readChecklist(ctx context.Context, c redis.Cmdable, key, id string) (Checklist, error) {
	var cl Checklist
	found, err := readJSON(ctx, c, key, "checklist "+id, &cl)
	if err == nil && !found {
		err = fmt.Errorf("%w: %s", ErrChecklistNotFound, id)
	}
	return cl, err
}

// GetChecklist returns checklist id, or ErrChecklistNotFound.
func (s *Store) GetChecklist(ctx context.Context, id string) (Checklist, error) {
	c, err := readChecklist(ctx, s.rdb, s.checklistKey(id), id)
	if errors.Is(err, ErrChecklistNotFound) {
		return c, err
	}
	return c, wrap("read checklist "+id, err)
}

// OpenChecklists are the launches not signed off yet.
func (s *Store) OpenChecklists(ctx context.Context) ([]Checklist, error) {
	return s.checklistsIn(ctx, s.checklistsOpen())
}

// ClientChecklists are every launch of client, signed off or not.
func (s *Store) ClientChecklists(ctx context.Context, client string) ([]Checklist, error) {
	return s.checklistsIn(ctx, s.checklistsOf(client))
}

func (s *Store) checklistsIn(ctx context.Context, set string) ([]Checklist, error) {
	ids, err := s.rdb.SMembers(ctx, set).Result()
	if err != nil {
		return nil, wrap("list checklists", err)
	}
	var out []Checklist
	for _, id := range ids {
		c, err := s.GetChecklist(ctx, id)
		if errors.Is(err, ErrChecklistNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Checklist) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// SetChecklistMessage records where the checklist's one message was posted.
func (s *Store) SetChecklistMessage(ctx context.Context, id, channel, ts string, now time.Time) error {
	_, err := s.UpdateChecklist(ctx, id, now, func(c *Checklist) ([]OutboxItem, error) {
		c.Channel, c.MessageTS = channel, ts
		return nil, nil
	})
	return err
}
