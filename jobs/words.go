package jobs

// words are how an alert's state reads, by monitor: sites go down, servers
// breach a threshold, a resource can stop sending data.
type words struct {
	bad, since, during string // "DOWN", "*Down since*\n", "*Down for*\n"
	still              string // "down": "still down after 2h"
	again              string // what a Resolve by hand leads to
}

func wordsOf(monitor string) words {
	switch monitor {
	case "", "uptime":
		return words{"DOWN", "*Down since*\n", "*Down for*\n", "down",
			"If the site is still down, it alerts again once its failure is confirmed."}
	case "nodata":
		return words{"WITHOUT DATA", "*No data since*\n", "*No data for*\n", "without data",
			"If there is still no data, it alerts again at the next round."}
	case "sla":
		return words{"SLA BREACHED", "*Breached*\n", "*Open for*\n", "SLA breached", "It is not raised again this month."}
	}
	return words{"IN BREACH", "*In breach since*\n", "*In breach for*\n", "in breach",
		"If it is still in breach, it alerts again once the breach is confirmed."}
}
