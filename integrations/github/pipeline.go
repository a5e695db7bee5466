package github

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	gh "github.com/google/go-github/v62/github"
)

// Pipeline is where a repository's default branch head stands with CI:
// its combined commit status and its check runs.
type Pipeline struct {
	Repo    string   // owner/name
	Branch  string   // the default branch
	SHA     string   // its head
	Passed  []string // statuses and check runs that succeeded
	Failed  []string // ... that failed (error, failure, cancelled, timed out, action required)
	Pending []string // ... not finished
}

// Green reports whether CI ran on the head and nothing failed or is
// still running.
func (p Pipeline) Green() bool {
	return len(p.Passed) > 0 && len(p.Failed) == 0 && len(p.Pending) == 0
}

var (
	reOwner = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	reRepo  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// Pipeline reads the default branch of owner/repo (GET /repos/{o}/{r},
// https://docs.github.com/rest/repos/repos#get-a-repository), then the
// combined status of its head (GET /repos/{o}/{r}/commits/{ref}/status,
// https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference)
// and its check runs (GET .../commits/{ref}/check-runs, first 100,
// https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference):
// three calls. GitHub answers a combined state of "pending" with no
// statuses at all when CI reports only check runs, so the statuses are
// judged one by one, not by that state.
func (c *Client) Pipeline(ctx context.Context, owner, repo string) (Pipeline, error) {
	full := owner + "/" + repo
	op := "github: pipeline of " + full
	if !reOwner.MatchString(owner) || !reRepo.MatchString(repo) || repo == "." || repo == ".." {
		return Pipeline{}, fmt.Errorf("%s: not a repository name", op)
	}
	r, resp, err := c.gh.Repositories.Get(ctx, owner, repo)
	if err != nil {
		return Pipeline{}, c.fail(ctx, op, resp, err)
	}
	p := Pipeline{Repo: full, Branch: r.GetDefaultBranch()}
	if p.Branch == "" {
		return p, fmt.Errorf("%s: the repository has no default branch (empty?)", op)
	}
	st, resp, err := c.gh.Repositories.GetCombinedStatus(ctx, owner, repo, p.Branch, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return p, c.fail(ctx, op, resp, err)
	}
	p.SHA = st.GetSHA()
	for _, s := range st.Statuses {
		name := "status " + s.GetContext()
		switch s.GetState() {
		case "success":
			p.Passed = append(p.Passed, name)
		case "pending":
			p.Pending = append(p.Pending, name)
		default:
			p.Failed = append(p.Failed, name+" ("+s.GetState()+")")
		}
	}
	ref := cmpOr(p.SHA, p.Branch)
	runs, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, ref, &gh.ListCheckRunsOptions{ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		return p, c.fail(ctx, op, resp, err)
	}
	for _, cr := range runs.CheckRuns {
		name := "check " + cr.GetName()
		switch {
		case cr.GetStatus() != "completed":
			p.Pending = append(p.Pending, name)
		case slices.Contains([]string{"success", "neutral", "skipped"}, cr.GetConclusion()):
			p.Passed = append(p.Passed, name)
		default:
			p.Failed = append(p.Failed, name+" ("+cr.GetConclusion()+")")
		}
	}
	return p, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
