package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// ShieldSource judges a client's EC2 instances against Shield
// (a closure over integrations/shield's *Client and the client's account).
type ShieldSource interface {
	Coverage(ctx context.Context, client string, scope integrations.ServerScope, advanced bool) (integrations.ShieldReport, error)
}

// ShieldStore keeps each client's last check (*store.Store).
type ShieldStore interface {
	UpdateShield(ctx context.Context, client string, now time.Time, fn func(prev store.ShieldRecord) (store.ShieldRecord, []store.OutboxItem, error)) (store.ShieldRecord, error)
}

// ShieldClient is one client whose instances are checked.
type ShieldClient struct {
	Key, Name string
	Scope     integrations.ServerScope
	Advanced  bool
	PagerRef  string // names the PagerDuty routing key (the client key); "" pages nobody
}

// ShieldOptions configure the job.
type ShieldOptions struct {
	Channel      string        // the security channel; "" posts nothing
	FetchTimeout time.Duration // one client's check; default 2m
	Now          func() time.Time
	Nudge        func()
	Logger       *slog.Logger
}

// Shield is the daily Shield coverage check. For an advanced client, a
// change in its gaps (the subscription inactive, instances unprotected or
// unprotectable) is posted once to the security channel, naming the
// instances; an instance newly exposed pages PagerDuty (one incident per
// instance, resolved when it is covered again). Nothing changed, nothing
// posted. Standard clients are recorded for /ops shield only.
type Shield struct {
	clients []ShieldClient
	byKey   map[string]ShieldClient
	src     ShieldSource
	st      ShieldStore
	o       ShieldOptions
	log     *slog.Logger
}

// ErrUnknownShieldClient: Refresh of a client without an aws block.
var ErrUnknownShieldClient = errors.New("jobs: client has no AWS account configured for the Shield check")

// NewShield builds the job.
func NewShield(clients []ShieldClient, src ShieldSource, st ShieldStore, o ShieldOptions) *Shield {
	o.FetchTimeout = cmp.Or(o.FetchTimeout, 2*time.Minute)
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	s := &Shield{src: src, st: st, o: o, byKey: map[string]ShieldClient{}, log: o.Logger.With("job", "shield")}
	for _, c := range clients {
		c.Name = cmp.Or(c.Name, c.Key)
		s.clients = append(s.clients, c)
		s.byKey[c.Key] = c
	}
	return s
}

// Name implements Job.
func (s *Shield) Name() string { return "shield" }

// CatchUpWindow implements CatchUp: a check missed today still runs.
func (s *Shield) CatchUpWindow() time.Duration { return 23 * time.Hour }

// Run checks every client; one client's failure does not stop the others.
func (s *Shield) Run(ctx context.Context) error {
	var first error
	for _, c := range s.clients {
		if _, err := s.check(ctx, c); err != nil {
			s.log.Warn("shield check failed", "client", c.Key, "err", err)
			first = cmp.Or(first, err)
		}
	}
	return first
}

// Refresh checks one client now, through the same path as the daily run
// (a change found is announced as it would be then).
func (s *Shield) Refresh(ctx context.Context, client string) (store.ShieldRecord, error) {
	c, ok := s.byKey[client]
	if !ok {
		return store.ShieldRecord{}, fmt.Errorf("shield refresh %q: %w", client, ErrUnknownShieldClient)
	}
	return s.check(ctx, c)
}

func (s *Shield) check(ctx context.Context, c ShieldClient) (store.ShieldRecord, error) {
	fctx, cancel := context.WithTimeout(ctx, s.o.FetchTimeout)
	rep, err := s.src.Coverage(fctx, c.Key, c.Scope, c.Advanced)
	cancel()
	now := s.o.Now()
	if err != nil {
		rec, uerr := s.st.UpdateShield(ctx, c.Key, now, func(prev store.ShieldRecord) (store.ShieldRecord, []store.OutboxItem, error) {
			prev.FetchError, prev.FetchErrorAt = err.Error(), now
			return prev, nil, nil
		})
		if uerr != nil {
			s.log.Warn("shield: could not record the failure", "client", c.Key, "err", uerr)
		}
		return rec, fmt.Errorf("shield %s: %w", c.Key, err)
	}
	next := shieldRecord(rep)
	rec, err := s.st.UpdateShield(ctx, c.Key, now, func(prev store.ShieldRecord) (store.ShieldRecord, []store.OutboxItem, error) {
		items, err := s.announce(c, prev, next, now)
		return next, items, err
	})
	if err == nil && s.o.Nudge != nil {
		s.o.Nudge()
	}
	return rec, err
}

func shieldRecord(r integrations.ShieldReport) store.ShieldRecord {
	rec := store.ShieldRecord{TakenAt: r.TakenAt, Advanced: r.Advanced, Subscription: r.Subscription, Protections: r.Protections,
		Instances: make([]store.ShieldInstance, 0, len(r.Instances))}
	for _, i := range r.Instances {
		in := store.ShieldInstance{ID: i.ID, Name: i.Name, Region: i.Region, PublicIP: i.PublicIP,
			Allocations: i.Allocations, Verdict: string(i.Verdict)}
		for _, lb := range i.LoadBalancers {
			in.LoadBalancers = append(in.LoadBalancers, store.ShieldLB{Name: lb.Name, ARN: lb.ARN, Verdict: string(lb.Verdict)})
		}
		rec.Instances = append(rec.Instances, in)
	}
	return rec
}

// announce lists the deliveries a check's result needs against the
// previous one: a message when the gaps changed, a page for each newly
// exposed instance and a resolve for each covered again.
func (s *Shield) announce(c ShieldClient, prev, next store.ShieldRecord, now time.Time) ([]store.OutboxItem, error) {
	if !c.Advanced || next.GapSignature() == prev.GapSignature() && !prev.TakenAt.IsZero() && prev.Advanced {
		return nil, nil
	}
	var items []store.OutboxItem
	subject := "shield/" + c.Key
	if s.o.Channel != "" && (next.GapSignature() != "" || prev.GapSignature() != "") {
		it, err := store.NewOutboxItem(kindSlackPost, subject, postPayload{Channel: s.o.Channel, Text: shieldText(c, next)}, now)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if c.PagerRef == "" {
		return items, nil
	}
	_, was := prev.Gaps()
	_, is := next.Gaps()
	wasExposed, isExposed := map[string]bool{}, map[string]store.ShieldInstance{}
	for _, i := range was {
		wasExposed[i.Region+"/"+i.ID] = true
	}
	for _, i := range is {
		isExposed[i.Region+"/"+i.ID] = i
	}
	page := func(key, action string, i store.ShieldInstance) error {
		ev := integrations.Alert{DedupKey: "opsbot/shield/" + c.Key + "/" + key, Action: action, At: now,
			Summary: fmt.Sprintf("Shield: %s of %s is %s", i.Label(), c.Name, i.Verdict),
			Source:  i.ID, Severity: integrations.SeverityError, Group: c.Key, Class: "shield", Component: i.ID,
			Details: map[string]any{"verdict": i.Verdict, "region": i.Region, "public_ip": i.PublicIP}}
		it, err := store.NewOutboxItem(kindPager, subject, pagerPayload{Ref: c.PagerRef, Event: ev}, now)
		items = append(items, it)
		return err
	}
	for _, i := range is {
		if key := i.Region + "/" + i.ID; !wasExposed[key] {
			if err := page(key, "trigger", i); err != nil {
				return nil, err
			}
		}
	}
	for _, i := range was {
		if key := i.Region + "/" + i.ID; isExposed[key].ID == "" {
			i.Verdict = "covered or gone"
			if err := page(key, "resolve", i); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// shieldText is the security channel's message for an advanced client's gaps.
func shieldText(c ShieldClient, r store.ShieldRecord) string {
	inactive, exposed := r.Gaps()
	name := chat.Escape(c.Name)
	if !inactive && len(exposed) == 0 {
		return fmt.Sprintf(":large_green_circle: *Shield — %s*: every running EC2 instance is covered again (%d checked).", name, len(r.Instances))
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":red_circle: *Shield — %s* (Shield Advanced):", name)
	if inactive {
		fmt.Fprintf(&b, " the Shield Advanced subscription is *%s*: nothing in this account is protected. Renew it in the Shield console.", chat.Escape(cmp.Or(r.Subscription, "unknown")))
	}
	if len(exposed) > 0 {
		fmt.Fprintf(&b, " %d of %d running instances not covered:", len(exposed), len(r.Instances))
		for _, i := range exposed {
			b.WriteString("\n• " + chat.Escape(i.Label()) + " — " + chat.Escape(store.ShieldAdvice(i)))
		}
	}
	return b.String()
}
