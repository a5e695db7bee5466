package jobs

// alertWords are how a monitor's alert speaks of its subject: sites go
// down, findings are open until fixed, servers breach a threshold, a
// resource can stop sending data, a month breaches its SLA.
type alertWords struct {
	down, since, during     string // "DOWN", "Down since", "Down for"
	recovered               string // "RECOVERED"
	recoveredAfter, downFor string // "Recovered" (after 2h) "down"
	hint                    string // a context line under the buttons, %s the subject's ID ("" for none)
	still                   string // "down": "still down after 2h", "ACME Ltd — api down: HTTP 503"
	again                   string // what a Resolve by hand leads to
}

func wordsFor(monitor string) alertWords {
	switch monitor {
	case "", "uptime":
		return alertWords{"DOWN", "Down since", "Down for", "RECOVERED", "Recovered", "down", "", "down",
			"If the site is still down, it alerts again once its failure is confirmed."}
	case FindingMonitor:
		return alertWords{"OPEN", "Open since", "Open for", "FIXED", "Fixed", "open",
			"ID `%s`. To quieten it until a date: `/ops findings accept <ID> <duration> <reason>` (security, admin).", "open", ""}
	case "nodata":
		return alertWords{"WITHOUT DATA", "No data since", "No data for", "DATA BACK", "Data back", "without data", "", "without data",
			"If there is still no data, it alerts again at the next round."}
	case "sla":
		return alertWords{"SLA BREACHED", "Breached", "Open for", "RESOLVED", "Resolved", "breached", "", "SLA breached",
			"It is not raised again this month."}
	}
	return alertWords{"IN BREACH", "In breach since", "In breach for", "RECOVERED", "Recovered", "down", "", "in breach",
		"If it is still in breach, it alerts again once the breach is confirmed."}
}
