package integrations

import "time"

// ShieldVerdict says whether AWS Shield Advanced covers one EC2 instance.
// Shield Advanced cannot protect an instance itself: only an Elastic IP
// allocation of it, or a load balancer or CloudFront distribution in front.
type ShieldVerdict string

// Verdicts, worst first.
const (
	// ShieldUnprotected: an Elastic IP of the instance, or an internet-facing
	// load balancer in front of it, that no protection covers.
	ShieldUnprotected ShieldVerdict = "unprotected"
	// ShieldUnprotectable: a public address that is not an Elastic IP, which
	// Shield Advanced cannot protect; give the instance an Elastic IP and
	// protect it, or move it behind a protected load balancer.
	ShieldUnprotectable ShieldVerdict = "unprotectable"
	// ShieldProtected: every public path to the instance is protected: its
	// Elastic IPs and the internet-facing load balancers in front of it.
	ShieldProtected ShieldVerdict = "protected"
	// ShieldPrivate: no public address and no internet-facing load balancer
	// in front.
	ShieldPrivate ShieldVerdict = "private"
)

// Exposed reports whether the verdict is a gap to close.
func (v ShieldVerdict) Exposed() bool { return v == ShieldUnprotected || v == ShieldUnprotectable }

// ShieldInstance is one running EC2 instance and its verdict.
type ShieldInstance struct {
	ID, Name, Region string
	PublicIP         string   // "" when it has none
	Allocations      []string // its Elastic IP allocation IDs (eipalloc-...)
	// LoadBalancers are the internet-facing load balancers in front of it
	// (a target of one of their target groups): public paths to it too.
	LoadBalancers []ShieldLB
	Verdict       ShieldVerdict
}

// ShieldLB is an internet-facing load balancer in front of an instance.
// Its Verdict is protected (its ARN, or for a network load balancer every
// Elastic IP of it, has a protection), unprotected, or unprotectable (a
// network load balancer without Elastic IPs: Shield Advanced protects one
// only through them).
type ShieldLB struct {
	Name, ARN string
	Verdict   ShieldVerdict
}

// ShieldReport is the Shield coverage of one client's account at one moment.
type ShieldReport struct {
	TakenAt time.Time
	// Advanced: the client pays for Shield Advanced; otherwise only
	// Shield Standard applies, which is automatic and invisible to the API,
	// so Subscription is empty and every public instance is just listed.
	Advanced bool
	// Subscription is Shield's GetSubscriptionState: ACTIVE or INACTIVE.
	Subscription string
	// Protections is how many protections the account has.
	Protections int
	Instances   []ShieldInstance // sorted by region, then ID
}

// SubscriptionActive reports whether the Shield Advanced subscription is active.
func (r ShieldReport) SubscriptionActive() bool { return r.Subscription == "ACTIVE" }
