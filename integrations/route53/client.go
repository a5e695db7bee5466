package route53

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// DefaultPoll is WaitInSync's interval when poll <= 0.
const DefaultPoll = 5 * time.Second

// listPageSize is ListResourceRecordSets' maxitems; 0 leaves Route 53's
// default (300). Tests shrink it to exercise paging.
var listPageSize int32

// Records returns exactly the record sets named name (compared normalised:
// case-insensitive, trailing dot optional) of type typ ("" = every type at
// that name), in Route 53's order. No match is an empty result, not an error.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html
func (c *Client) Records(ctx context.Context, zoneID, name, typ string) ([]Record, error) {
	op := fmt.Sprintf("route53: list %s in %s", strings.TrimSpace(name+" "+typ), zoneID)
	want := NormalizeName(name)
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), StartRecordName: aws.String(want)}
	if listPageSize > 0 {
		in.MaxItems = aws.Int32(listPageSize)
	}
	if typ != "" {
		in.StartRecordType = types.RRType(typ)
	}
	var out []Record
	for {
		page, err := c.api.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, classify(op, "route53:ListResourceRecordSets", err)
		}
		for _, s := range page.ResourceRecordSets {
			if NormalizeName(aws.ToString(s.Name)) != want || typ != "" && !strings.EqualFold(string(s.Type), typ) {
				return out, nil // sets are sorted by name then type: past the wanted ones
			}
			r, err := fromSDK(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			out = append(out, r)
		}
		if !page.IsTruncated || page.NextRecordName == nil {
			return out, nil
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = page.NextRecordName, page.NextRecordType, page.NextRecordIdentifier
	}
}

// ZoneName returns the domain name of hosted zone zoneID ("acme.example.",
// with the trailing dot), to check that a record lies in it.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
func (c *Client) ZoneName(ctx context.Context, zoneID string) (string, error) {
	op := "route53: get hosted zone " + zoneID
	out, err := c.api.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(zoneID)})
	if err != nil {
		return "", classify(op, "route53:GetHostedZone", err)
	}
	if out.HostedZone == nil || aws.ToString(out.HostedZone.Name) == "" {
		return "", fmt.Errorf("%s: response has no zone name", op)
	}
	return NormalizeName(aws.ToString(out.HostedZone.Name)), nil
}

// Upsert creates or replaces recs in one atomic change batch and returns the
// change ID to pass to WaitInSync.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
func (c *Client) Upsert(ctx context.Context, zoneID string, recs []Record, comment string) (string, error) {
	op := fmt.Sprintf("route53: upsert %v in %s", names(recs), zoneID)
	if len(recs) == 0 {
		return "", fmt.Errorf("%s: no records", op)
	}
	var changes []types.Change
	for _, r := range recs {
		s, err := toSDK(r)
		if err != nil {
			return "", fmt.Errorf("%s: %w", op, err)
		}
		changes = append(changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: s})
	}
	return c.change(ctx, op, zoneID, changes, comment)
}

// Restore puts back exactly kept (as read by Records before a cut-over) in
// ONE atomic change batch: every set in current (as read by Records just now)
// whose name+type is not in kept is DELETEd, and every kept set is UPSERTed.
// current must hold the sets' present values: Route 53 rejects a DELETE
// that does not match them (InvalidChangeBatch) and then changes nothing.
// With nothing to do it returns "" and no error (WaitInSync("") is a no-op).
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
func (c *Client) Restore(ctx context.Context, zoneID string, kept, current []Record, comment string) (string, error) {
	op := fmt.Sprintf("route53: restore %v in %s", names(slices.Concat(kept, current)), zoneID)
	changes, err := restoreChanges(kept, current)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	if len(changes) == 0 {
		return "", nil
	}
	return c.change(ctx, op, zoneID, changes, comment)
}

func (c *Client) change(ctx context.Context, op, zoneID string, changes []types.Change, comment string) (string, error) {
	batch := &types.ChangeBatch{Changes: changes}
	if comment != "" {
		batch.Comment = aws.String(comment)
	}
	out, err := c.api.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), ChangeBatch: batch})
	if err != nil {
		return "", classify(op, "route53:ChangeResourceRecordSets", err)
	}
	if out.ChangeInfo == nil || out.ChangeInfo.Id == nil {
		return "", fmt.Errorf("%s: response has no ChangeInfo.Id", op)
	}
	id := aws.ToString(out.ChangeInfo.Id)
	c.log.Info("route53 change submitted", "zone", zoneID, "changes", len(changes), "change_id", id, "status", out.ChangeInfo.Status)
	return id, nil
}

// WaitInSync polls GetChange every poll (DefaultPoll when <= 0) until the
// change is INSYNC (nil) or ctx is done (ctx's error, with the last
// failure). Retryable failures (throttling, 5xx, network) keep it polling;
// final ones (access denied, unknown change) are returned at once.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html
func (c *Client) WaitInSync(ctx context.Context, changeID string, poll time.Duration) error {
	if changeID == "" {
		return nil
	}
	if poll <= 0 {
		poll = DefaultPoll
	}
	op := "route53: wait for change " + changeID
	t := time.NewTicker(poll)
	defer t.Stop()
	var last error
	for {
		out, err := c.api.GetChange(ctx, &r53.GetChangeInput{Id: aws.String(changeID)})
		switch {
		case err == nil && out.ChangeInfo != nil && out.ChangeInfo.Status == types.ChangeStatusInsync:
			return nil
		case err == nil:
			last = nil
		case ctx.Err() != nil:
		default:
			err = classify(op, "route53:GetChange", err)
			if ok, _ := integrations.IsRetryable(err); !ok {
				return err
			}
			last = err
			c.log.Warn("route53 get change failed; polling on", "change_id", changeID, "err", err)
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%s: %w (last failure: %v)", op, ctx.Err(), last)
			}
			return fmt.Errorf("%s: not INSYNC: %w", op, ctx.Err())
		case <-t.C:
		}
	}
}
