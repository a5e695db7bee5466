package commands

// The lines of `/ops status`: one per site, one per client, sources, and
// the small renderers they share.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
)

// siteSummary is "5 sites: 4 up, 1 down" (plus unknown, acknowledged, silenced).
func siteSummary(sites []siteView) string {
	var up, down, unknown, acked, silenced int
	for _, s := range sites {
		switch s.st.State {
		case "up":
			up++
		case "down":
			down++
		default:
			unknown++
		}
		if s.silenced {
			silenced++
		} else if s.alert != nil && s.alert.Status == store.AlertAcknowledged {
			acked++
		}
	}
	noun := "sites"
	if len(sites) == 1 {
		noun = "site"
	}
	out := fmt.Sprintf("%d %s: %d up, %d down", len(sites), noun, up, down)
	if unknown > 0 {
		out += fmt.Sprintf(", %d unknown", unknown)
	}
	if acked > 0 {
		out += fmt.Sprintf(" (%d acknowledged)", acked)
	}
	if silenced > 0 {
		out += fmt.Sprintf(" · %d silenced", silenced)
	}
	return out
}

// clientLine is the compact line of one client in the overall view.
func (c *Call) clientLine(client string, sites []siteView) string {
	emoji := "🟢"
	if len(sites) == 0 {
		emoji = "⚪"
	} else {
		switch sites[0].class() { // sites are sorted most urgent first
		case 0:
			emoji = "🔴"
		case 1:
			emoji = "🟠"
		case 2:
			emoji = "⏸️"
		case 3:
			emoji = "⚪"
		}
	}
	parts := []string{emoji + " " + c.clientName(client)}
	if len(sites) == 0 {
		parts = append(parts, "no sites monitored")
	} else {
		parts = append(parts, siteSummary(sites))
	}
	if target, ok := c.r.deps.SLATargets[client]; ok {
		low := -1.0
		for _, s := range sites {
			if u := s.st.MonthUptime; u >= 0 && (low < 0 || u < low) {
				low = u
			}
		}
		sla := "SLA target " + pct(target)
		if low >= 0 {
			sla += ", lowest this month " + uptimePct(low)
			if low < target {
				sla += " ⚠️"
			}
		}
		parts = append(parts, sla)
	}
	return strings.Join(parts, " · ")
}

// siteLine is one site: status word, linked name, since, response time,
// month uptime against the target, open incident and the error.
func (c *Call) siteLine(s siteView, clientPrefix string, target float64, hasTarget bool) string {
	st := s.st
	name := Escape(st.Site)
	if clientPrefix != "" {
		name = Escape(clientPrefix + "/" + st.Site)
	}
	if link := siteURL(st.URL); link != "" {
		name = "<" + link + "|" + name + ">"
	}
	parts := []string{s.word() + " " + name}
	if !st.Since.IsZero() {
		parts = append(parts, "since "+slackDate(st.Since))
	}
	if st.ResponseTime > 0 && st.State == "up" {
		parts = append(parts, strconv.FormatInt(st.ResponseTime.Milliseconds(), 10)+" ms")
	}
	if cert := certNote(st.CertExpiry, c.Now); cert != "" {
		parts = append(parts, cert)
	}
	if clientPrefix == "" {
		month := "month uptime —"
		if st.MonthUptime >= 0 {
			month = "month uptime " + uptimePct(st.MonthUptime)
			if hasTarget {
				month += " (target " + pct(target) + ")"
				if st.MonthUptime < target {
					month += " ⚠️ below target"
				}
			}
		}
		parts = append(parts, month)
	}
	if a := s.alert; a != nil {
		switch a.Status {
		case store.AlertAcknowledged:
			inc := "incident acknowledged by " + who(a.AckedBy)
			if !a.AckedAt.IsZero() {
				inc += " " + slackDate(a.AckedAt)
			}
			parts = append(parts, inc)
		case store.AlertFiring:
			inc := "incident open, not acknowledged"
			if !a.FiredAt.IsZero() {
				inc = "incident open since " + slackDate(a.FiredAt) + ", not acknowledged"
			}
			parts = append(parts, inc)
		}
	}
	if st.State == "down" && st.Error != "" {
		parts = append(parts, "_"+Escape(truncate(oneLine(st.Error), maxSiteError))+"_")
	}
	return strings.Join(parts, " · ")
}

// sourceLine warns about monitoring sources that failed their last poll.
func (c *Call) sourceLine(sources []store.SourceStatus) string {
	var lines []string
	for _, s := range sources {
		if s.OK {
			continue
		}
		line := "⚠️ " + sourceName(s.Source) + " unavailable"
		if !s.At.IsZero() {
			line += " since " + slackDate(s.At)
		}
		if s.Reason != "" {
			line += ": " + Escape(truncate(oneLine(s.Reason), maxSourceWhy))
		}
		if s.Source != "probe" {
			line += " — own probes keep running"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func sourceName(s string) string {
	switch s {
	case "statuscake":
		return "StatusCake"
	case "probe":
		return "opsbot's own probes"
	}
	return Escape(s)
}

// plainClientName is the display name for plain-text places (headers).
func (c *Call) plainClientName(key string) string {
	if name := c.r.deps.Clients[key]; name != "" {
		return name
	}
	return key
}

// who renders the person who acknowledged an alert.
func who(by string) string {
	if slackUserID.MatchString(by) {
		return mention(by)
	}
	if by == "" {
		return "someone"
	}
	return Escape(truncate(by, 60))
}

// siteURL builds the link target from a stored URL: http(s) only, and
// re-encoded so it cannot break out of Slack's <url|label> syntax.
func siteURL(raw string) string { return chat.SafeURL(raw) }

// pct renders a target percentage: "99.9 %".
func pct(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) + " %" }

// uptimePct renders a measured uptime: "99.95 %".
func uptimePct(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) + " %" }

// oneLine folds whitespace runs (newlines included) to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// certWarnWithin is how close to expiry a TLS certificate is flagged.
const certWarnWithin = 14 * 24 * time.Hour

// certNote flags a certificate that has expired or expires within 14 days.
func certNote(notAfter, now time.Time) string {
	switch left := notAfter.Sub(now); {
	case notAfter.IsZero() || left > certWarnWithin:
		return ""
	case left <= 0:
		return ":lock: ⚠️ TLS certificate expired " + slackDate(notAfter)
	default:
		return fmt.Sprintf(":lock: ⚠️ TLS certificate expires in %d days (%s)", int(left.Hours()/24), slackDate(notAfter))
	}
}
