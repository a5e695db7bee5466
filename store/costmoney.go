package store

import (
	"math"
	"strconv"
	"strings"
)

// costSymbols are the currencies written with a sign before the amount.
var costSymbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$"}

// FormatCost shows an amount of Cost Explorer money with its currency and
// two decimals: "$1,234.56", "-€40.00", "1,234.56 CHF" (codes without a
// sign follow the number). An empty currency is USD.
func FormatCost(amount float64, currency string) string {
	if currency == "" {
		currency = "USD"
	}
	sign, m := "", Money(math.Round(amount*100))
	if m < 0 {
		sign, m = "-", -m
	}
	num := strings.TrimPrefix(m.String(), "$") // Money.String groups thousands
	if s, ok := costSymbols[currency]; ok {
		return sign + s + num
	}
	return sign + num + " " + currency
}

// FormatCostDelta shows the change from before to now in money and percent
// (UX.md): "+$120.00 (+18 %)", "−$40.00 (−10 %)", "+$50.00 (from $0.00)",
// "$0.00 (no change)".
func FormatCostDelta(before, now float64, currency string) string {
	d := math.Round((now-before)*100) / 100
	if d == 0 {
		return FormatCost(0, currency) + " (no change)"
	}
	sign := "+"
	if d < 0 {
		sign = "−"
	}
	amount := sign + FormatCost(math.Abs(d), currency)
	if before <= 0 {
		return amount + " (from " + FormatCost(before, currency) + ")"
	}
	pct := math.Round(math.Abs(d) * 100 / before)
	if pct == 0 {
		return amount + " (" + sign + "<1 %)"
	}
	return amount + " (" + sign + strconv.FormatFloat(pct, 'f', 0, 64) + " %)"
}
