// Package chart renders the PNG charts opsbot uploads to Slack. It takes
// plain numbers, so it depends on nothing else in this module (a leaf).
package chart

import (
	"errors"
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// dpi fixes how points map to pixels so Width and Height are exact.
const dpi = 96

// ErrNoData is returned when neither series has a non-zero amount: an
// all-zero chart would say "it cost nothing", which nobody measured.
var ErrNoData = errors.New("chart: no cost data to draw")

// bounds are the lowest and highest of values.
func bounds(values []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range values {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}

// dayTicks labels days 1, 5, 10, ... 30 with a minor tick on every day.
type dayTicks struct{}

func (dayTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for d := math.Ceil(lo); d <= hi; d++ {
		t := plot.Tick{Value: d}
		if d == 1 || int(d)%5 == 0 {
			t.Label = strconv.Itoa(int(d))
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// moneyTicks labels the y axis with the currency: "$120", "€1.5k".
type moneyTicks struct{ currency string }

func (m moneyTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = Money(ticks[i].Value, m.currency)
		}
	}
	return ticks
}

// symbols are the currencies written with a sign before the amount.
var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$"}

// Money is a short axis label: "$120", "$1.5k", "-$40", "120 CHF".
func Money(v float64, currency string) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	num := strconv.FormatFloat(v, 'f', -1, 64)
	switch {
	case v >= 1e6:
		num = strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case v >= 1e3:
		num = strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	case v != math.Trunc(v):
		num = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if s, ok := symbols[currency]; ok {
		return sign + s + num
	}
	return sign + num + " " + currency
}
