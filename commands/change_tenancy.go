package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// Tenancy of change requests: an action touches only what belongs to the
// client it names (PRODUCT.md). A GitHub link must be one of the client's
// repositories (or of an allowed organisation), and a DNS plan must name
// one of the client's hosted zones and a record inside it. Both are checked
// without I/O first, so a refused request causes no call to GitHub or
// Route 53. Messages are plain text: callers escape them for mrkdwn.

// ErrNotClientsRepo refuses a GitHub link outside the client's repositories.
var ErrNotClientsRepo = errors.New("not a repository of this client")

// linkAllowed checks that link's repository may be used for client: one of
// the client's repos or in an allowed organisation. With client "" (the
// form is not filled yet) any client's repository will do.
func (c *Call) linkAllowed(link IssueLink, client string) error {
	s := c.r.deps.ChangeSettings
	owner, _, _ := strings.Cut(link.Repo, "/")
	if slices.Contains(s.AllowedOrgs, strings.ToLower(owner)) {
		return nil
	}
	if client == "" {
		for _, repos := range s.ClientRepos {
			if slices.Contains(repos, link.Repo) {
				return nil
			}
		}
		return fmt.Errorf("%w: %s is not a repository of any client, nor in an organisation opsbot may read", ErrNotClientsRepo, link.Repo)
	}
	if slices.Contains(s.ClientRepos[client], link.Repo) {
		return nil
	}
	if other := c.clientOfRepo(link.Repo); other != "" {
		return fmt.Errorf("%w: %s belongs to %s, not %s", ErrNotClientsRepo, link.Repo, c.plainClientName(other), c.plainClientName(client))
	}
	return fmt.Errorf("%w: %s is not one of %s's repositories", ErrNotClientsRepo, link.Repo, c.plainClientName(client))
}

// zoneBudget keeps the hosted zone lookup inside a form submission's 3 s.
const zoneBudget = 1500 * time.Millisecond

// checkDNSPlan refuses a plan whose hosted zone is not the client's (no
// call is made then) or whose record lies outside that zone (the zone's
// name is read from Route 53). The message is for the form.
func (c *Call) checkDNSPlan(ctx context.Context, client string, plan store.DNSPlan) error {
	zones := c.r.deps.ChangeSettings.ClientZones[client]
	if !slices.Contains(zones, plan.ZoneID) {
		if len(zones) == 0 {
			return fmt.Errorf("%s has no Route 53 hosted zones configured (clients.%s.dns_zones), so its DNS can't be changed here; ask an admin to add them", c.plainClientName(client), client)
		}
		return fmt.Errorf("hosted zone %s is not one of %s's (%s)", plan.ZoneID, c.plainClientName(client), strings.Join(zones, ", "))
	}
	if c.r.deps.DNS == nil {
		return errors.New("Route 53 is not set up on this opsbot, so I can't check the zone; leave the DNS fields empty and switch DNS by hand")
	}
	zctx, cancel := context.WithTimeout(ctx, zoneBudget)
	defer cancel()
	name, err := c.r.deps.DNS.ZoneName(zctx, plan.ZoneID)
	if err != nil {
		c.r.log.Warn("hosted zone not read", "zone", plan.ZoneID, "client", client, "err", err)
		return fmt.Errorf("couldn't read hosted zone %s from Route 53 just now (%s); try again", plan.ZoneID, dnsProblem(err))
	}
	if !plan.InZone(name) {
		return fmt.Errorf("the record %s is not inside hosted zone %s (%s): name a record in that zone, e.g. www.%s",
			plan.Name, plan.ZoneID, strings.TrimSuffix(name, "."), strings.TrimSuffix(name, "."))
	}
	return nil
}

// dnsProblem words a Route 53 failure for people: what went wrong and what
// to do, never the SDK's error with its endpoints and resolver addresses
// (those go to the log).
func dnsProblem(err error) string {
	var pe PlainError
	switch {
	case errors.As(err, &pe):
		return pe.Plain()
	case errors.Is(err, context.DeadlineExceeded):
		return "Route 53 did not confirm in time; the change may still be applying, so check the record before retrying"
	}
	if action, ok := integrations.MissingPermission(err); ok {
		return "opsbot's AWS role is not allowed to do this (" + action + " on the client's zone); an admin must grant it"
	}
	if ok, _ := integrations.IsRetryable(err); ok {
		return "Route 53 did not answer (throttled or unreachable); try again in a minute"
	}
	return "Route 53 refused the change"
}
