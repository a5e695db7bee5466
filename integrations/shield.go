package integrations

import "time"

// ShieldVerdict says whether AWS Shield Advanced covers one EC2 instance.
// Shield Advanced cannot protect an instance itself: only an Elastic IP
// allocation of it, or a load balancer or CloudFront distribution in front.
type ShieldVerdict string

// Verdicts, worst first.
const (
	// ShieldUnprotected: the instance has an Elastic IP that no protection covers.
	ShieldUnprotected ShieldVerdict = "unprotected"
	// ShieldUnprotectable: a public address that is not an Elastic IP, which
	// Shield Advanced cannot protect; give the instance an Elastic IP and
	// protect it, or move it behind a protected load balancer.
	ShieldUnprotectable ShieldVerdict = "unprotectable"
	// ShieldProtected: every Elastic IP of the instance is protected.
	ShieldProtected ShieldVerdict = "protected"
	// ShieldPrivate: no public address.
	ShieldPrivate ShieldVerdict = "private"
)

// Exposed reports whether the verdict is a gap to close.
func (v ShieldVerdict) Exposed() bool { return v == ShieldUnprotected || v == ShieldUnprotectable }

// ShieldInstance is one running EC2 instance and its verdict.
type ShieldInstance struct {
	ID, Name, Region string
	PublicIP         string   // "" when it has none
	Allocations      []string // its Elastic IP allocation IDs (eipalloc-...)
	Verdict          ShieldVerdict
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
