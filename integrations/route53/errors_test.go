package route53_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/route53"
	"github.com/383project/opsbot/integrations/route53/route53test"
)

func TestThrottlingAndServerErrorsAreRetryable(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
	}{{400, "Throttling"}, {400, "PriorRequestNotComplete"}, {503, "ServiceUnavailable"}, {500, "InternalFailure"}} {
		srv, c := setup(t)
		srv.FailNext(tc.status, tc.code, "Rate exceeded")
		_, err := c.Records(ctx(t), zoneID, "app.acme.example.", "A")
		var re *integrations.RetryableError
		if !errors.As(err, &re) || re.StatusCode != tc.status || !strings.Contains(err.Error(), tc.code) {
			t.Errorf("%d %s: want RetryableError with the code, got %v", tc.status, tc.code, err)
		}
	}
}

func TestAccessDeniedNamesTheIAMAction(t *testing.T) {
	srv, c := setup(t)
	srv.FailNext(403, "AccessDenied", "User: arn:aws:iam::123456789012:user/opsbot is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/"+zoneID)
	_, err := c.Upsert(ctx(t), zoneID, []route53.Record{{Name: "app.acme.example.", Type: "A", TTL: 60, Values: []string{"198.51.100.7"}}}, "")
	if err == nil || !strings.Contains(err.Error(), "missing IAM permission route53:ChangeResourceRecordSets") || !errors.Is(err, integrations.ErrUnauthorized) {
		t.Fatalf("got %v", err)
	}
	if ok, _ := integrations.IsRetryable(err); ok {
		t.Errorf("AccessDenied must be final")
	}
	srv.FailNext(403, "AccessDenied", "User: x is not authorized")
	if _, err := c.Records(ctx(t), zoneID, "app.acme.example.", ""); err == nil || !strings.Contains(err.Error(), "route53:ListResourceRecordSets") {
		t.Errorf("Records: got %v", err)
	}
	srv.FailNext(403, "AccessDenied", "User: x is not authorized")
	if err := c.WaitInSync(ctx(t), "/change/C1", time.Millisecond); err == nil || !strings.Contains(err.Error(), "route53:GetChange") {
		t.Errorf("WaitInSync: got %v", err)
	}
}

func TestNoSuchHostedZoneIsFinal(t *testing.T) {
	_, c := setup(t)
	_, err := c.Records(ctx(t), "Z9", "app.acme.example.", "")
	var nz *types.NoSuchHostedZone
	if !errors.As(err, &nz) || !strings.Contains(err.Error(), "No hosted zone found with ID: Z9") {
		t.Fatalf("got %v", err)
	}
	if ok, _ := integrations.IsRetryable(err); ok {
		t.Errorf("NoSuchHostedZone must be final")
	}
}

func TestUnsignedRequestsAreRejected(t *testing.T) {
	srv := route53test.New(t)
	srv.AddZone(zoneID, "acme.example.")
	c := route53.New(route53.Config{EndpointURL: srv.URL, RetryMaxAttempts: 1}, nil, nil)
	if _, err := c.Records(ctx(t), zoneID, "acme.example.", ""); !errors.Is(err, integrations.ErrUnauthorized) {
		t.Fatalf("got %v", err)
	}
}

func TestWaitInSyncPollsThroughThrottlingAndStopsAtDeadline(t *testing.T) {
	srv, c := setup(t)
	id, err := c.Upsert(ctx(t), zoneID, []route53.Record{{Name: "app.acme.example.", Type: "A", TTL: 60, Values: []string{"198.51.100.7"}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(400, "Throttling", "Rate exceeded")
	if err := c.WaitInSync(ctx(t), id, time.Millisecond); err != nil {
		t.Fatalf("throttled poll should be retried: %v", err)
	}

	srv.PendingPolls(1 << 30)
	id, err = c.Upsert(ctx(t), zoneID, []route53.Record{{Name: "app.acme.example.", Type: "A", TTL: 60, Values: []string{"198.51.100.8"}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.WaitInSync(short, id, 5*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestNamesAreNormalised(t *testing.T) {
	for in, want := range map[string]string{"WWW.Acme.Example": "www.acme.example.", `\052.acme.example.`: "*.acme.example.", "*.acme.example": "*.acme.example."} {
		if got := route53.NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
	_, c := setup(t)
	recs, err := c.Records(ctx(t), zoneID, "*.ACME.example", "cname")
	if err != nil || len(recs) != 1 || recs[0].Name != `\052.acme.example.` {
		t.Fatalf("wildcard: %+v, %v", recs, err)
	}
}

func TestPlain(t *testing.T) {
	srv, c := setup(t)
	// A record outside the zone: Route 53's InvalidChangeBatch, in words.
	_, err := c.Upsert(ctx(t), zoneID, []route53.Record{{Name: "www.globex.example.", Type: "A", TTL: 60, Values: []string{"203.0.113.1"}}}, "")
	msg, ok := route53.Plain(err)
	if !ok || !strings.HasPrefix(msg, "Route 53 refused the change: ") || !strings.Contains(msg, "not permitted in zone") || strings.Contains(msg, "request") {
		t.Fatalf("Plain(InvalidChangeBatch) = %q, %v (err %v)", msg, ok, err)
	}
	_, err = c.ZoneName(ctx(t), "Z9NOSUCHZONE")
	if msg, ok := route53.Plain(err); !ok || !strings.Contains(msg, "no such hosted zone") {
		t.Fatalf("Plain(NoSuchHostedZone) = %q, %v", msg, ok)
	}
	srv.FailNext(400, "Throttling", "Rate exceeded")
	_, err = c.ZoneName(ctx(t), zoneID)
	if msg, ok := route53.Plain(err); ok {
		t.Fatalf("Plain(throttling) = %q: want it left to the caller", msg)
	}
}
