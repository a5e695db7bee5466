package route53_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/route53"
	"github.com/383project/opsbot/integrations/route53/route53test"
)

const zoneID = "Z0123456789ABCDEFGHIJ"

func setup(t *testing.T) (*route53test.Server, *route53.Client) {
	t.Helper()
	srv := route53test.New(t)
	srv.AddZone(zoneID, "acme.example.")
	srv.SetRecords(zoneID,
		route53test.Record{Name: "acme.example.", Type: "A", Alias: &route53test.Alias{HostedZoneID: "Z32O12XQLNTSW2", DNSName: "old-lb-123.eu-west-1.elb.amazonaws.com.", EvaluateTargetHealth: true}},
		route53test.Record{Name: "app.acme.example.", Type: "A", TTL: 300, Values: []string{"203.0.113.25", "203.0.113.26"}},
		route53test.Record{Name: "app.acme.example.", Type: "TXT", TTL: 60, Values: []string{`"v=owner acme"`}},
		route53test.Record{Name: "api.app.acme.example.", Type: "A", TTL: 60, Values: []string{"203.0.113.9"}},
		route53test.Record{Name: "b.acme.example.", Type: "A", TTL: 60, Values: []string{"203.0.113.10"}},
		route53test.Record{Name: "*.acme.example.", Type: "CNAME", TTL: 60, Values: []string{"acme.example."}},
	)
	c := route53.New(route53.Config{EndpointURL: srv.URL, AccessKeyID: "AKID", SecretAccessKey: "SECRET", RetryMaxAttempts: 1},
		&http.Client{Timeout: 10 * time.Second}, nil)
	return srv, c
}

func xmlOf(recs []route53test.Record) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.XML() + "\n")
	}
	return b.String()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestCutOverAndRestoreByteForByte(t *testing.T) {
	defer route53.SetListPageSize(1)() // every set on its own page: paging is exercised
	srv, c := setup(t)
	before := xmlOf(srv.Records(zoneID))

	kept, err := c.Records(ctx(t), zoneID, "APP.acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []route53.Record{
		{Name: "app.acme.example.", Type: "A", TTL: 300, Values: []string{"203.0.113.25", "203.0.113.26"}},
		{Name: "app.acme.example.", Type: "TXT", TTL: 60, Values: []string{`"v=owner acme"`}},
	}
	if !reflect.DeepEqual(kept, want) {
		t.Fatalf("kept = %+v, want %+v", kept, want)
	}

	srv.PendingPolls(2)
	id, err := c.Upsert(ctx(t), zoneID, []route53.Record{
		{Name: "app.acme.example.", Type: "A", TTL: 60, Values: []string{"198.51.100.7"}},
		{Name: "app.acme.example", Type: "AAAA", TTL: 60, Values: []string{"2001:db8::7"}},
	}, "CR-7 cut-over")
	if err != nil || !strings.HasPrefix(id, "/change/") {
		t.Fatalf("Upsert = %q, %v", id, err)
	}
	n := len(srv.Requests())
	if err := c.WaitInSync(ctx(t), id, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if polls := len(srv.Requests()) - n; polls != 3 {
		t.Errorf("WaitInSync made %d GetChange calls, want 3 (2 PENDING + INSYNC)", polls)
	}
	if got := xmlOf(srv.Records(zoneID)); got == before || !strings.Contains(got, "198.51.100.7") || !strings.Contains(got, "2001:db8::7") {
		t.Fatalf("cut-over did not change the zone:\n%s", got)
	}

	current, err := c.Records(ctx(t), zoneID, "app.acme.example.", "")
	if err != nil || len(current) != 3 {
		t.Fatalf("current = %+v, %v", current, err)
	}
	id, err = c.Restore(ctx(t), zoneID, kept, current, "CR-7 rollback")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitInSync(ctx(t), id, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if after := xmlOf(srv.Records(zoneID)); after != before {
		t.Fatalf("restore did not put the records back:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	var last route53test.Request // the restore POST
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			last = r
		}
	}
	if last.Method != http.MethodPost || !strings.Contains(last.Body, "<Action>DELETE</Action>") ||
		strings.Index(last.Body, "DELETE") > strings.Index(last.Body, "UPSERT") {
		t.Errorf("restore batch should DELETE the new AAAA first, then UPSERT: %s", last.Body)
	}
}

func TestAliasRoundTrip(t *testing.T) {
	srv, c := setup(t)
	before := xmlOf(srv.Records(zoneID))
	kept, err := c.Records(ctx(t), zoneID, "acme.example.", "A")
	if err != nil || len(kept) != 1 || kept[0].AliasTarget == nil || kept[0].AliasTarget.DNSName != "old-lb-123.eu-west-1.elb.amazonaws.com." || !kept[0].AliasTarget.EvaluateTargetHealth {
		t.Fatalf("kept = %+v, %v", kept, err)
	}
	alias := route53.Record{Name: "acme.example.", Type: "A", AliasTarget: &route53.Alias{HostedZoneID: "Z1H1FL5HABSF5", DNSName: "new-lb-456.eu-west-1.elb.amazonaws.com."}}
	if _, err := c.Upsert(ctx(t), zoneID, []route53.Record{alias}, ""); err != nil {
		t.Fatal(err)
	}
	current, err := c.Records(ctx(t), zoneID, "acme.example.", "A")
	if err != nil || len(current) != 1 || !reflect.DeepEqual(current[0], alias) {
		t.Fatalf("current = %+v, %v; want %+v", current, err, alias)
	}
	if _, err := c.Restore(ctx(t), zoneID, kept, current, ""); err != nil {
		t.Fatal(err)
	}
	if after := xmlOf(srv.Records(zoneID)); after != before {
		t.Fatalf("alias not restored:\n%s\nwant\n%s", after, before)
	}
}

func TestFailureMidCutOverKeepsRecordsAndRollbackWorks(t *testing.T) {
	srv, c := setup(t)
	before := xmlOf(srv.Records(zoneID))
	kept, err := c.Records(ctx(t), zoneID, "app.acme.example.", "")
	if err != nil {
		t.Fatal(err)
	}
	newRecs := []route53.Record{{Name: "app.acme.example.", Type: "A", TTL: 60, Values: []string{"198.51.100.7"}}}

	srv.FailNext(500, "InternalFailure", "We encountered an internal error. Please try again.")
	_, err = c.Upsert(ctx(t), zoneID, newRecs, "cut-over")
	if ok, _ := integrations.IsRetryable(err); !ok {
		t.Fatalf("500: want RetryableError, got %v", err)
	}
	if got := xmlOf(srv.Records(zoneID)); got != before {
		t.Fatalf("failed change touched the zone:\n%s", got)
	}

	// A batch Route 53 rejects part-way is not applied at all.
	_, err = c.Restore(ctx(t), zoneID, newRecs, []route53.Record{{Name: "gone.acme.example.", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}}, "")
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) || !strings.Contains(err.Error(), "Tried to delete resource record set [name='gone.acme.example.', type='A'] but it was not found") {
		t.Fatalf("want InvalidChangeBatch with AWS's message, got %v", err)
	}
	if ok, _ := integrations.IsRetryable(err); ok {
		t.Errorf("InvalidChangeBatch must be final: %v", err)
	}
	if got := xmlOf(srv.Records(zoneID)); got != before {
		t.Fatalf("rejected batch touched the zone:\n%s", got)
	}

	// The cut-over succeeds on retry; rollback then restores the kept records.
	if _, err := c.Upsert(ctx(t), zoneID, newRecs, "cut-over"); err != nil {
		t.Fatal(err)
	}
	current, err := c.Records(ctx(t), zoneID, "app.acme.example.", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Restore(ctx(t), zoneID, kept, current, "rollback"); err != nil {
		t.Fatal(err)
	}
	if got := xmlOf(srv.Records(zoneID)); got != before {
		t.Fatalf("rollback after failure:\n%s\nwant\n%s", got, before)
	}
}

func TestRestoreDeletesRecordsCreatedByCutOver(t *testing.T) {
	srv, c := setup(t)
	before := xmlOf(srv.Records(zoneID))
	kept, err := c.Records(ctx(t), zoneID, "new.acme.example.", "CNAME")
	if err != nil || len(kept) != 0 {
		t.Fatalf("kept = %+v, %v", kept, err)
	}
	if _, err := c.Upsert(ctx(t), zoneID, []route53.Record{{Name: "new.acme.example.", Type: "CNAME", TTL: 60, Values: []string{"lb.example.net."}}}, ""); err != nil {
		t.Fatal(err)
	}
	current, _ := c.Records(ctx(t), zoneID, "new.acme.example.", "CNAME")
	if _, err := c.Restore(ctx(t), zoneID, kept, current, ""); err != nil {
		t.Fatal(err)
	}
	if got := xmlOf(srv.Records(zoneID)); got != before {
		t.Fatalf("got\n%s\nwant\n%s", got, before)
	}
	if id, err := c.Restore(ctx(t), zoneID, nil, nil, ""); id != "" || err != nil {
		t.Errorf("empty restore = %q, %v", id, err)
	}
}

func TestZoneName(t *testing.T) {
	srv, c := setup(t)
	name, err := c.ZoneName(ctx(t), zoneID)
	if err != nil || name != "acme.example." {
		t.Fatalf("ZoneName = %q, %v", name, err)
	}
	if last := srv.Requests()[len(srv.Requests())-1]; last.Method != http.MethodGet || last.Path != "/2013-04-01/hostedzone/"+zoneID {
		t.Fatalf("request = %+v", last)
	}
	_, err = c.ZoneName(ctx(t), "Z9NOSUCHZONE")
	var nsz *types.NoSuchHostedZone
	if !errors.As(err, &nsz) || !strings.Contains(err.Error(), "NoSuchHostedZone") {
		t.Fatalf("unknown zone: %v", err)
	}
	srv.FailNext(403, "AccessDenied", "User: arn:aws:iam::123456789012:user/opsbot is not authorized to perform: route53:GetHostedZone")
	_, err = c.ZoneName(ctx(t), zoneID)
	if action, ok := integrations.MissingPermission(err); !ok || action != "route53:GetHostedZone" {
		t.Fatalf("access denied: %v (%q)", err, action)
	}
}
