package detectify_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/383project/opsbot/integrations/detectify"
	"github.com/383project/opsbot/integrations/detectify/detectifytest"
)

// BenchmarkFindings5000 reads 5,000 findings (50 pages of 100, with their
// requests and responses) from the fake over HTTP: the read a scan's end
// costs before opsbot processes them.
func BenchmarkFindings5000(b *testing.B) {
	fake := detectifytest.New(b)
	tok := fake.AddProfile(detectifytest.Profile{Endpoint: "acme.example", Verified: true})
	fs := make([]detectifytest.Finding, 5000)
	for i := range fs {
		fs[i] = detectifytest.Finding{UUID: fmt.Sprintf("e26b149d-a124-44a6-a6c0-%012d", i), Title: "Reflected XSS", Severity: "high",
			Host: "app.acme.example", Location: fmt.Sprintf("https://app.acme.example/p/%d?q=", i), CWE: 79}
	}
	fake.SetFindings(tok, fs)
	c := detectify.New(detectify.Config{APIURL: fake.APIURL(), Key: detectifytest.Key}, fake.Client(), nil)
	b.ResetTimer()
	for range b.N {
		got, err := c.Findings(context.Background())
		if err != nil || len(got) != 5000 {
			b.Fatalf("%d findings, %v", len(got), err)
		}
	}
	b.ReportMetric(float64(5000*b.N)/b.Elapsed().Seconds(), "findings/s")
}
