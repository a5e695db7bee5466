package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Repo is a repository the fake serves: GET /repos/{o}/{r}, and the
// combined status and check runs of its default branch's head
// (GET /repos/{o}/{r}/commits/{ref}/status and .../check-runs, where ref
// is the branch name or the head SHA).
type Repo struct {
	Owner, Name   string
	DefaultBranch string // default "main"
	SHA           string // the branch head; default a fixed 40-hex SHA
	Statuses      []Status
	CheckRuns     []CheckRun
}

// Status is one commit status (the legacy Statuses API: CI that posts a
// state per context).
type Status struct {
	Context, State string // state: error, failure, pending, success
	TargetURL      string
}

// CheckRun is one check run (GitHub Actions and apps).
type CheckRun struct {
	Name       string
	Status     string // queued, in_progress, completed
	Conclusion string // when completed: success, failure, neutral, cancelled, skipped, timed_out, action_required
}

// SetRepo adds or replaces a repository (a fix between runs is a SetRepo).
func (s *Server) SetRepo(r Repo) {
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	if r.SHA == "" {
		r.SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repos == nil {
		s.repos = map[string]Repo{}
	}
	s.repos[strings.ToLower(r.Owner+"/"+r.Name)] = r
}

// routeRepo serves the repository paths; ok is false for other paths.
func (s *Server) routeRepo(w http.ResponseWriter, r *http.Request, seg []string) (ok bool) {
	// repos/{o}/{r} · repos/{o}/{r}/commits/{ref}/status · repos/{o}/{r}/commits/{ref}/check-runs
	if len(seg) < 3 || seg[0] != "repos" || (len(seg) > 3 && seg[3] != "commits") {
		return false
	}
	if r.Method != http.MethodGet {
		notFound(w, "repos")
		return true
	}
	s.mu.Lock()
	repo, found := s.repos[strings.ToLower(seg[1]+"/"+seg[2])]
	s.mu.Unlock()
	if !found {
		// GitHub answers 404 for a repository the token cannot see as for
		// one that does not exist.
		writeJSON(w, http.StatusNotFound, errorBody("Not Found", "https://docs.github.com/rest/repos/repos#get-a-repository", "404"))
		return true
	}
	full := repo.Owner + "/" + repo.Name
	switch {
	case len(seg) == 3:
		b, _ := json.Marshal(map[string]any{"id": 1296269, "name": repo.Name, "full_name": full, "private": true,
			"owner":          map[string]any{"login": repo.Owner, "type": "Organization"},
			"default_branch": repo.DefaultBranch, "html_url": "https://github.com/" + full})
		writeJSON(w, http.StatusOK, string(b))
	case len(seg) == 6 && (seg[4] == repo.DefaultBranch || seg[4] == repo.SHA) && seg[5] == "status":
		writeJSON(w, http.StatusOK, combinedJSON(repo))
	case len(seg) == 6 && (seg[4] == repo.DefaultBranch || seg[4] == repo.SHA) && seg[5] == "check-runs":
		writeJSON(w, http.StatusOK, checkRunsJSON(repo))
	case len(seg) == 6 && (seg[5] == "status" || seg[5] == "check-runs"):
		writeJSON(w, http.StatusUnprocessableEntity, errorBody("No commit found for SHA: "+seg[4], "https://docs.github.com/rest/commits/statuses", "422"))
	default:
		notFound(w, "repos")
	}
	return true
}

// combinedJSON is GitHub's combined status: failure if any status is error
// or failure, pending if any is pending — and pending too when there is no
// status at all (total_count 0), as GitHub answers for a repository whose
// CI reports only check runs.
func combinedJSON(repo Repo) string {
	state := "success"
	if len(repo.Statuses) == 0 {
		state = "pending"
	}
	statuses := make([]map[string]any, 0, len(repo.Statuses))
	for i, st := range repo.Statuses {
		switch st.State {
		case "error", "failure":
			state = "failure"
		case "pending":
			if state != "failure" {
				state = "pending"
			}
		}
		statuses = append(statuses, map[string]any{"id": i + 1, "state": st.State, "context": st.Context,
			"target_url": st.TargetURL, "description": "", "created_at": "2026-11-20T10:00:00Z"})
	}
	b, _ := json.Marshal(map[string]any{"state": state, "statuses": statuses, "sha": repo.SHA, "total_count": len(repo.Statuses),
		"repository": map[string]any{"full_name": repo.Owner + "/" + repo.Name},
		"commit_url": fmt.Sprintf("https://api.github.com/repos/%s/%s/commits/%s", repo.Owner, repo.Name, repo.SHA)})
	return string(b)
}

func checkRunsJSON(repo Repo) string {
	runs := make([]map[string]any, 0, len(repo.CheckRuns))
	for i, cr := range repo.CheckRuns {
		run := map[string]any{"id": 4 + i, "name": cr.Name, "status": cr.Status, "conclusion": nil, "head_sha": repo.SHA,
			"html_url": fmt.Sprintf("https://github.com/%s/%s/runs/%d", repo.Owner, repo.Name, 4+i)}
		if cr.Status == "completed" {
			run["conclusion"] = cr.Conclusion
		}
		runs = append(runs, run)
	}
	b, _ := json.Marshal(map[string]any{"total_count": len(runs), "check_runs": runs})
	return string(b)
}
