package chart

import (
	"testing"

	"gonum.org/v1/plot/plotter"
)

// The lines: this month summed through its last billed day (it never falls
// back), the forecast dashed from there to month end, the quote flat
// across the month.
func TestMonthLines(t *testing.T) {
	m := MonthCost{This: Billed([]float64{10, 20, 0, 5, 0, 0}), Last: []float64{7, 7, 7}, DaysInMonth: 30,
		Quote: 600, Forecast: 450, HasForecast: true, Currency: "USD"}
	this, last, forecast, quote := monthLines(m)
	wantThis := plotter.XYs{{X: 1, Y: 10}, {X: 2, Y: 30}, {X: 3, Y: 30}, {X: 4, Y: 35}}
	if len(this.xys) != len(wantThis) {
		t.Fatalf("this month = %v, want %v", this.xys, wantThis)
	}
	for i := range wantThis {
		if this.xys[i] != wantThis[i] {
			t.Fatalf("this month = %v, want %v", this.xys, wantThis)
		}
	}
	if got := last.xys[len(last.xys)-1]; got != (plotter.XY{X: 3, Y: 21}) {
		t.Errorf("last month ends at %v", got)
	}
	if len(forecast.xys) != 2 || forecast.xys[0] != (plotter.XY{X: 4, Y: 35}) || forecast.xys[1] != (plotter.XY{X: 30, Y: 450}) {
		t.Errorf("forecast = %v", forecast.xys)
	}
	if len(quote.xys) != 2 || quote.xys[0] != (plotter.XY{X: 1, Y: 600}) || quote.xys[1] != (plotter.XY{X: 30, Y: 600}) || quote.label != "Quote $600" {
		t.Errorf("quote = %+v", quote)
	}
	// The 1st: nothing billed; the forecast starts from zero on day 1.
	m.This = Billed([]float64{0})
	this, _, forecast, _ = monthLines(m)
	if len(this.xys) != 0 || forecast.xys[0] != (plotter.XY{X: 1, Y: 0}) {
		t.Errorf("1st of the month: this %v, forecast %v", this.xys, forecast.xys)
	}
}
