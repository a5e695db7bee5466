package integrations

import "time"

// CostScope selects one client's costs in the agency's AWS billing data:
// a linked account (Cost Explorer dimension LINKED_ACCOUNT), a cost
// allocation tag, or both (then both must match).
type CostScope struct {
	LinkedAccount string // 12-digit account ID; "" for none
	TagKey        string // cost allocation tag key; "" for none
	TagValue      string
}

// DailyCost is one day's cost (UTC day; Day is its midnight).
type DailyCost struct {
	Day    time.Time
	Amount float64
}

// ServiceCost is one AWS service's share of a period's cost.
type ServiceCost struct {
	Service string // "Amazon Elastic Compute Cloud - Compute"
	Amount  float64
}

// CostReport is one client's costs as Cost Explorer saw them at FetchedAt:
// this month day by day (up to and including the partial current day),
// last month day by day (for the chart, the month-on-month change and the
// trailing baseline of anomaly detection), this month's top services and the
// forecast to month end. Amounts are unblended cost in Currency.
type CostReport struct {
	Currency  string    // "USD"
	FetchedAt time.Time // when Cost Explorer answered
	Month     time.Time // first day of this month (UTC midnight)
	Days      []DailyCost
	PrevDays  []DailyCost
	Services  []ServiceCost // this month to date, largest first
	// MonthToDate is the sum of Days; LastMonth the sum of PrevDays.
	MonthToDate float64
	LastMonth   float64
	// Forecast is the expected total of this whole month (month to date plus
	// Cost Explorer's forecast of the rest); HasForecast is false when Cost
	// Explorer had too little history to forecast (then Forecast is 0).
	Forecast    float64
	HasForecast bool
}

// HasData reports whether Cost Explorer returned any cost at all for the
// scope (a scope with no matching resources returns only empty days).
func (r CostReport) HasData() bool {
	for _, d := range r.Days {
		if d.Amount != 0 {
			return true
		}
	}
	for _, d := range r.PrevDays {
		if d.Amount != 0 {
			return true
		}
	}
	return false
}
