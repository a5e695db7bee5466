package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ShieldInstance is one running EC2 instance as the Shield check judged it.
type ShieldInstance struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Region      string   `json:"region"`
	PublicIP    string   `json:"public_ip,omitempty"`
	Allocations []string `json:"allocations,omitempty"`
	// LoadBalancers are the internet-facing load balancers in front of it.
	LoadBalancers []ShieldLB `json:"load_balancers,omitempty"`
	Verdict       string     `json:"verdict"` // protected, unprotected, unprotectable, private
}

// ShieldLB is an internet-facing load balancer in front of an instance and
// its own verdict (protected, unprotected, unprotectable).
type ShieldLB struct {
	Name    string `json:"name"`
	ARN     string `json:"arn"`
	Verdict string `json:"verdict"`
}

// Exposed reports whether the instance is a gap in Shield Advanced's
// coverage: an unprotected Elastic IP or load balancer in front, or a
// public address Shield cannot protect.
func (i ShieldInstance) Exposed() bool {
	return i.Verdict == "unprotected" || i.Verdict == "unprotectable"
}

// Label is the instance's name and ID, "web-1 (i-0abc, eu-west-1)".
func (i ShieldInstance) Label() string {
	if i.Name == "" {
		return i.ID + " (" + i.Region + ")"
	}
	return i.Name + " (" + i.ID + ", " + i.Region + ")"
}

// ShieldRecord is one client's last Shield check.
type ShieldRecord struct {
	TakenAt      time.Time        `json:"taken_at"`
	Advanced     bool             `json:"advanced"`
	Subscription string           `json:"subscription,omitempty"` // ACTIVE, INACTIVE; "" for standard
	Protections  int              `json:"protections"`
	Instances    []ShieldInstance `json:"instances"`
	// FetchError is why the latest check failed (the data above is older).
	FetchError   string    `json:"fetch_error,omitempty"`
	FetchErrorAt time.Time `json:"fetch_error_at,omitzero"`
}

// Gaps are what an advanced client must fix: the subscription inactive,
// the exposed instances. Empty for a standard client.
func (r ShieldRecord) Gaps() (inactive bool, exposed []ShieldInstance) {
	if !r.Advanced || r.TakenAt.IsZero() {
		return false, nil
	}
	for _, i := range r.Instances {
		if i.Exposed() {
			exposed = append(exposed, i)
		}
	}
	return r.Subscription != "ACTIVE", exposed
}

// GapSignature names the gaps of r in one string, equal for two checks
// that found the same gaps: what the daily check compares to post only
// on a change.
func (r ShieldRecord) GapSignature() string {
	inactive, exposed := r.Gaps()
	parts := make([]string, 0, len(exposed)+1)
	if inactive {
		parts = append(parts, "subscription:"+r.Subscription)
	}
	for _, i := range exposed {
		parts = append(parts, i.Region+"/"+i.ID+":"+i.Verdict)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// ShieldAdvice says in words what an instance's verdict means and what to
// do, naming the Elastic IPs and load balancers it is about.
func ShieldAdvice(i ShieldInstance) string {
	lbs := func(verdict string) []string {
		var names []string
		for _, lb := range i.LoadBalancers {
			if lb.Verdict == verdict {
				names = append(names, lb.Name)
			}
		}
		return names
	}
	eips := strings.Join(i.Allocations, ", ")
	var parts []string
	switch i.Verdict {
	case "protected":
		if len(i.Allocations) > 0 {
			parts = append(parts, "its Elastic IP "+eips+" has a Shield Advanced protection")
		}
		if names := lbs("protected"); len(names) > 0 {
			parts = append(parts, "the load balancer "+strings.Join(names, ", ")+" in front of it has a Shield Advanced protection")
		}
		return "protected: " + strings.Join(parts, "; ")
	case "unprotected":
		names := lbs("unprotected")
		if len(names) == 0 {
			return "unprotected: its Elastic IP " + eips + " has no Shield protection. " +
				"Add one (Shield console → Protected resources → Add resources, or `aws shield create-protection` with the Elastic IP's allocation ARN)"
		}
		path := "the internet-facing load balancer " + strings.Join(names, ", ") + " in front of it has no Shield protection"
		if i.PublicIP == "" {
			path = "it has no public address of its own, but its public path is the internet-facing load balancer " +
				strings.Join(names, ", ") + ", which has no Shield protection"
		}
		return "unprotected: " + path + ". Add one (Shield console → Protected resources → Add resources, or `aws shield create-protection` with the load balancer's ARN)"
	case "unprotectable":
		if len(i.Allocations) == 0 && i.PublicIP != "" {
			parts = append(parts, "its public address "+i.PublicIP+" is not an Elastic IP, and Shield Advanced protects only "+
				"Elastic IPs. Allocate an Elastic IP, associate it with the instance and protect it, or put the instance behind a protected load balancer "+
				"and remove its public address")
		}
		if names := lbs("unprotectable"); len(names) > 0 {
			parts = append(parts, "the internet-facing network load balancer "+strings.Join(names, ", ")+" in front of it has no Elastic IPs, "+
				"and Shield Advanced protects a network load balancer only through its Elastic IPs. Give it Elastic IPs and protect them, "+
				"or put the instance behind a protected Application Load Balancer")
		}
		return "unprotectable: " + strings.Join(parts, "; ")
	case "private":
		return "private: no public address"
	}
	return i.Verdict
}

func (s *Store) shieldKey() string { return s.key("shield") }

// ShieldRecords returns every client's last Shield check.
func (s *Store) ShieldRecords(ctx context.Context) (map[string]ShieldRecord, error) {
	all, err := s.rdb.HGetAll(ctx, s.shieldKey()).Result()
	if err != nil {
		return nil, wrap("read shield records", err)
	}
	out := make(map[string]ShieldRecord, len(all))
	for client, raw := range all {
		var r ShieldRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("store: shield record %s: %w", client, err)
		}
		out[client] = r
	}
	return out, nil
}

// UpdateShield replaces client's record with what fn makes of the
// previous one (the zero record when there is none) and queues the items
// fn returns, in one transaction: two replicas checking at the same moment
// cannot both announce the same change.
func (s *Store) UpdateShield(ctx context.Context, client string, now time.Time, fn func(prev ShieldRecord) (ShieldRecord, []OutboxItem, error)) (ShieldRecord, error) {
	k := s.shieldKey()
	for range 16 {
		var out ShieldRecord
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var prev ShieldRecord
			raw, err := tx.HGet(ctx, k, client).Result()
			switch {
			case errors.Is(err, redis.Nil):
			case err != nil:
				return err
			default:
				if err := json.Unmarshal([]byte(raw), &prev); err != nil {
					return fmt.Errorf("shield record %s: %w", client, err)
				}
			}
			next, items, err := fn(prev)
			if err != nil {
				return err
			}
			data, err := json.Marshal(next)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, k, client, data)
				return s.enqueue(ctx, p, now, items)
			})
			out = next
			return err
		}, k)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return ShieldRecord{}, wrap("update shield record "+client, err)
		}
		return out, nil
	}
	return ShieldRecord{}, fmt.Errorf("store: update shield record %s: %w", client, ErrConflict)
}
