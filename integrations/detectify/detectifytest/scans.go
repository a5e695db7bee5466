package detectifytest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// AddProfile stores a scan profile and returns its token.
func (s *Server) AddProfile(p Profile) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Token == "" {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", p.Endpoint, len(s.profiles))))
		p.Token = hex.EncodeToString(sum[:16])
	}
	s.profiles = append(s.profiles, &profile{Profile: p, created: s.now()})
	return p.Token
}

// SetVerified changes whether the profile's domain is verified.
func (s *Server) SetVerified(token string, v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.find(token); p != nil {
		p.Verified = v
	}
}

// ScriptScan queues the script of the profile's next scan (scans take
// scripts in order; unscripted scans use the defaults of Scan).
func (s *Server) ScriptScan(token string, sc Scan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.find(token); p != nil {
		p.script = append(p.script, sc)
	}
}

// StartElsewhere starts a scan on the profile as the dashboard would, so a
// start through the API meets 409.
func (s *Server) StartElsewhere(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.find(token); p != nil && p.running == nil {
		p.running = s.begin(p)
	}
}

// SetFindings replaces the profile's findings now, without a scan.
func (s *Server) SetFindings(token string, fs []Finding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.find(token); p != nil {
		p.findings = s.materialise(fs, s.now())
	}
}

// SetStatus sets a finding's status ("patched", "accepted_risk" ...).
func (s *Server) SetStatus(uuid, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.profiles {
		for _, f := range p.findings {
			if f.UUID == uuid {
				f.Status = status
			}
		}
	}
}

func (s *Server) find(token string) *profile {
	for _, p := range s.profiles {
		if p.Token == token {
			return p
		}
	}
	return nil
}

func (s *Server) begin(p *profile) *running {
	sc := Scan{}
	if len(p.script) > 0 {
		sc, p.script = p.script[0], p.script[1:]
	}
	if len(sc.Steps) == 0 {
		sc.Steps = []Step{{Phase: "scanning", State: "running"}}
	}
	if sc.Outcome == "" {
		sc.Outcome = "completed"
	}
	return &running{scan: sc, started: s.now()}
}

// end finishes the running scan of p with its scripted outcome.
func (s *Server) end(p *profile) {
	r := p.running
	now := s.now()
	p.latest = &latestScan{Started: r.started, Ended: now, Status: r.scan.Outcome}
	if r.scan.Outcome == "completed" && r.scan.Findings != nil {
		p.findings = s.materialise(r.scan.Findings, now)
	}
	p.running = nil
}

// materialise stores copies of fs, keeping the creation time of findings
// already known by UUID.
func (s *Server) materialise(fs []Finding, now time.Time) []*Finding {
	known := map[string]time.Time{}
	for _, p := range s.profiles {
		for _, f := range p.findings {
			if f.UUID != "" {
				known[f.UUID] = f.Created
			}
		}
	}
	out := make([]*Finding, 0, len(fs))
	for _, f := range fs {
		if f.Status == "" {
			f.Status = "active"
		}
		if t, ok := known[f.UUID]; ok && f.Created.IsZero() {
			f.Created = t
		}
		if f.Created.IsZero() {
			f.Created = now
		}
		f.Tags = slices.Clone(f.Tags)
		out = append(out, &f)
	}
	return out
}
