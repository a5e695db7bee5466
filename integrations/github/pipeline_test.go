package github

import (
	"context"
	"strings"
	"testing"

	"github.com/383project/opsbot/integrations/github/githubtest"
)

func TestPipeline(t *testing.T) {
	srv := githubtest.New(t)
	c, _ := newClient(t, Config{APIURL: srv.APIURL(), Token: githubtest.Token})
	ctx := context.Background()
	tests := []struct {
		name  string
		repo  githubtest.Repo
		green bool
		want  string
	}{
		{"check runs only: GitHub's pending combined state with no statuses is not a failure",
			githubtest.Repo{CheckRuns: []githubtest.CheckRun{{Name: "build", Status: "completed", Conclusion: "success"}}}, true, "check build"},
		{"a failed check run", githubtest.Repo{DefaultBranch: "trunk", CheckRuns: []githubtest.CheckRun{
			{Name: "build", Status: "completed", Conclusion: "success"}, {Name: "deploy-staging", Status: "completed", Conclusion: "failure"}}},
			false, "check deploy-staging (failure)"},
		{"a failed status", githubtest.Repo{Statuses: []githubtest.Status{{Context: "ci/jenkins", State: "error"}}}, false, "status ci/jenkins (error)"},
		{"still running", githubtest.Repo{CheckRuns: []githubtest.CheckRun{{Name: "build", Status: "in_progress"}}}, false, "check build"},
		{"no CI at all", githubtest.Repo{}, false, ""},
	}
	for _, tt := range tests {
		tt.repo.Owner, tt.repo.Name = "acme", "web"
		srv.SetRepo(tt.repo)
		p, err := c.Pipeline(ctx, "acme", "web")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		all := strings.Join(append(append(p.Passed, p.Failed...), p.Pending...), ",")
		if p.Green() != tt.green || !strings.Contains(all, tt.want) || p.SHA == "" {
			t.Errorf("%s: %+v green %v", tt.name, p, p.Green())
		}
	}
	if _, err := c.Pipeline(ctx, "acme", "gone"); err == nil || !strings.Contains(err.Error(), "404") && !strings.Contains(err.Error(), "Not Found") {
		t.Errorf("unknown repository: %v", err)
	}
	if _, err := c.Pipeline(ctx, "acme", ".."); err == nil {
		t.Error("a path-traversing repository name was sent")
	}
	n := 0
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/acme/web") {
			n++
		}
	}
	if n != 3*len(tests) {
		t.Errorf("%d calls for %d pipelines, want 3 each", n, len(tests))
	}
}
