package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
)

// CostView reads the cost cache the cost job fills: `/ops cost` never calls
// Cost Explorer (it charges per request) unless asked to refresh.
// *store.Store satisfies it.
type CostView interface {
	CostRecords(ctx context.Context, clients ...string) (map[string]store.CostRecord, error)
}

// CostRefresher fetches one client's costs from AWS now and caches them
// ((*jobs.Cost).Refresh). On a failed fetch it returns an error and the
// record as cached, whose Failure says why (store.CostThrottled,
// CostAccessDenied with the IAM action, CostFailed).
type CostRefresher interface {
	Refresh(ctx context.Context, client string) (store.CostRecord, error)
}

const costExample = "/ops cost acme"

var (
	errNoCost = Reply{Text: ":warning: Cost monitoring is not configured on this opsbot, so there are no costs to show yet. " +
		"Ask an admin to set `integrations.aws` and each client's `aws.account_id` or `aws.cost_tag` in opsbot.yaml."}
	errNoCostRefresh = Reply{Text: ":warning: Fetching costs on demand is not configured on this opsbot; `/ops cost <client>` shows the data the daily job fetched."}
)

// costArgs are the words of `/ops cost`: at most one client, --refresh
// and --here (share the chart in this channel).
type costArgs struct {
	client  string
	refresh bool
	here    bool
}

func parseCostArgs(args []string) (costArgs, error) {
	var a costArgs
	args, a.here = takeHere(args)
	for _, w := range args {
		switch lw := strings.ToLower(w); {
		case lw == "--refresh" || lw == "-r" || lw == "refresh":
			a.refresh = true
		case strings.HasPrefix(lw, "-"):
			return a, userErrorf(costExample+" --refresh", "`/ops cost` knows the options `--refresh` and `--here` (share the chart in this channel); %q is not one.", Escape(truncate(w, 30)))
		case a.client != "":
			return a, userErrorf(costExample, "`/ops cost` takes at most one client (and `--refresh`).")
		default:
			a.client = w
		}
	}
	return a, nil
}

// runCost is `cost [client] [--refresh]`.
func runCost(ctx context.Context, c *Call) (Reply, error) {
	if c.r.deps.Costs == nil {
		return errNoCost, nil
	}
	a, err := parseCostArgs(c.Args)
	if err != nil {
		return Reply{}, err
	}
	if a.refresh {
		if err := c.Require(store.PermCostRefresh, "fetch costs from AWS now (`--refresh`)"); err != nil {
			return Reply{}, err
		}
		if c.r.deps.CostRefresh == nil {
			return errNoCostRefresh, nil
		}
		if a.client == "" {
			return Reply{}, userErrorf(costExample+" --refresh", "Name the client to refresh: each fetch is a paid Cost Explorer request.")
		}
	}
	visible := clientsFor(c, store.PermCostView, c.r.deps.CostQuotes)
	if a.client == "" {
		return c.costAll(ctx, visible)
	}
	client, err := c.pickClient(store.PermCostView, a.client, visible, "/ops cost")
	if err != nil {
		return Reply{}, err
	}
	if _, watched := c.r.deps.CostQuotes[client]; !watched {
		return Reply{Text: fmt.Sprintf("Costs are not watched for %s: it has no `aws.account_id` or `aws.cost_tag` in opsbot.yaml. Ask an admin to add one.", c.clientName(client))}, nil
	}
	var rec store.CostRecord
	var fetchErr error
	if a.refresh {
		rec, fetchErr = c.r.deps.CostRefresh.Refresh(ctx, client)
		if fetchErr != nil && rec.Failure == nil {
			return Reply{}, fetchErr // not an AWS answer (Redis, a bug): logged with a ref
		}
		if fetchErr != nil {
			c.r.log.Warn("cost refresh failed", "client", client, "user_id", c.User.ID, "err", fetchErr)
		}
	} else {
		recs, err := c.r.deps.Costs.CostRecords(ctx, client)
		if err != nil {
			return Reply{}, err
		}
		rec = recs[client]
	}
	return c.costOne(ctx, client, rec, a.here), nil
}

// costAge is "data from 3h 5m ago" (or "just now").
func costAge(fetched, now time.Time) string {
	if d := now.Sub(fetched); d >= time.Minute {
		return "data from " + formatDuration(d) + " ago"
	}
	return "data from just now"
}

// failureNote explains a failed fetch shown beside cached data; "" for none.
func failureNote(f *store.CostFailure, rec store.CostRecord, now time.Time) string {
	if f == nil {
		return ""
	}
	shown := "no cached data to show"
	if rec.HasSnapshot {
		shown = costAge(rec.Snapshot.FetchedAt, now) + " shown"
	}
	switch f.Kind {
	case store.CostThrottled:
		return ":hourglass_flowing_sand: AWS is throttling, " + shown + ". Try `--refresh` again in a few minutes."
	case store.CostAccessDenied:
		return fmt.Sprintf(":lock: AWS refused: opsbot's IAM policy lacks `%s` (see deploy/iam-policy.json); %s. Ask an admin to add the permission.", Escape(f.Action), shown)
	}
	return ":warning: Cost Explorer could not be read (" + formatDuration(now.Sub(f.At)) + " ago); " + shown + "."
}
