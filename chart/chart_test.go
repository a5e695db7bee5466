package chart_test

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/383project/opsbot/chart"
)

// month is a plausible series: a base cost with a weekly rhythm.
func month(days int, base float64) []float64 {
	out := make([]float64, days)
	for i := range out {
		out[i] = base + 12*math.Sin(float64(i)/7*2*math.Pi) + float64(i%3)
	}
	return out
}

// render draws m and checks it is a PNG of the asked size within budget;
// CHART_PNG_DIR=/tmp go test ./chart writes it there to look at.
func render(t *testing.T, name string, m chart.MonthCost, w, h int) {
	t.Helper()
	b, err := chart.MonthCostPNG(m)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X != w || got.Y != h {
		t.Fatalf("size = %v, want %dx%d", got, w, h)
	}
	if len(b) > 100<<10 {
		t.Errorf("PNG is %d bytes, over the 100 KB budget", len(b))
	}
	if dir := os.Getenv("CHART_PNG_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
	}
}

func TestMonthCostIsAPNGOfTheAskedSize(t *testing.T) {
	tests := []struct {
		name string
		m    chart.MonthCost
		w, h int
	}{
		{"mid-month", chart.MonthCost{This: month(22, 110), Last: month(31, 95), DaysInMonth: 30, Quote: 3300, Forecast: 3450, HasForecast: true,
			Title: "Acme Ltd — AWS cost, November 2026", ThisLabel: "November so far", LastLabel: "October"}, 800, 400},
		{"1st of the month", chart.MonthCost{Last: month(31, 95), DaysInMonth: 30, Quote: 3300, Currency: "EUR",
			Title: "Acme Ltd — AWS cost, November 2026", ThisLabel: "November so far", LastLabel: "October"}, 800, 400},
		{"2nd of the month", chart.MonthCost{This: []float64{104.2}, Last: month(31, 95), DaysInMonth: 30, Quote: 3300, Forecast: 3100, HasForecast: true,
			Title: "Acme Ltd — AWS cost, November 2026", ThisLabel: "November so far", LastLabel: "October"}, 800, 400},
		{"small, credits below zero", chart.MonthCost{This: []float64{10, -25, 10}, Last: month(28, 9), DaysInMonth: 31, Width: 640, Height: 320}, 640, 320},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { render(t, tt.name, tt.m, tt.w, tt.h) })
	}
}

func TestBilledLeavesOutDaysNotBilledYet(t *testing.T) {
	for _, tt := range []struct{ in, want []float64 }{
		{[]float64{5, 6, 0, 7, 0, 0}, []float64{5, 6, 0, 7}},
		{[]float64{0}, []float64{}},
		{nil, []float64{}},
		{[]float64{3}, []float64{3}},
	} {
		if got := chart.Billed(tt.in); len(got) != len(tt.want) || (len(got) > 0 && got[len(got)-1] != tt.want[len(tt.want)-1]) {
			t.Errorf("Billed(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMonthCostRefusesNoData(t *testing.T) {
	for _, tt := range []struct {
		name       string
		this, last []float64
	}{{"nothing", nil, nil}, {"empty", []float64{}, []float64{}}, {"only zeros", make([]float64, 20), make([]float64, 31)}} {
		if b, err := chart.MonthCostPNG(chart.MonthCost{This: tt.this, Last: tt.last}); !errors.Is(err, chart.ErrNoData) || b != nil {
			t.Errorf("%s: got %d bytes, err %v; want ErrNoData", tt.name, len(b), err)
		}
	}
	// A quote alone still says something (the 1st of a client's first month).
	if _, err := chart.MonthCostPNG(chart.MonthCost{Quote: 100, DaysInMonth: 30}); err != nil {
		t.Errorf("quote only: %v", err)
	}
}

func TestMonthCostRefusesBadInput(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    chart.MonthCost
	}{
		{"32 days", chart.MonthCost{This: make([]float64, 32), Last: []float64{1}}},
		{"NaN", chart.MonthCost{This: []float64{1, math.NaN()}}},
		{"infinite forecast", chart.MonthCost{This: []float64{1}, Forecast: math.Inf(1), HasForecast: true}},
		{"too small", chart.MonthCost{This: []float64{1}, Width: 20, Height: 10}},
	} {
		if _, err := chart.MonthCostPNG(tt.m); err == nil || errors.Is(err, chart.ErrNoData) {
			t.Errorf("%s: err = %v, want a bad-input error", tt.name, err)
		}
	}
}

func TestMoney(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		cur  string
		want string
	}{
		{120, "USD", "$120"}, {1500, "USD", "$1.5k"}, {-40, "GBP", "-£40"}, {2.5, "EUR", "€2.50"},
		{120, "CHF", "120 CHF"}, {2_000_000, "USD", "$2M"}, {0, "USD", "$0"},
	} {
		if got := chart.Money(tt.v, tt.cur); got != tt.want {
			t.Errorf("Money(%v, %s) = %q, want %q", tt.v, tt.cur, got, tt.want)
		}
	}
}

// BenchmarkMonthCost renders a full month with every line (goal: ≤ 30 ms
// and ≤ 100 KB).
func BenchmarkMonthCost(b *testing.B) {
	m := chart.MonthCost{This: month(31, 110), Last: month(31, 95), DaysInMonth: 31, Quote: 3300, Forecast: 3450, HasForecast: true,
		Title: "Acme Ltd — AWS cost", Currency: "USD"}
	var size int
	for b.Loop() {
		png, err := chart.MonthCostPNG(m)
		if err != nil {
			b.Fatal(err)
		}
		size = len(png)
	}
	b.ReportMetric(float64(size), "png-bytes")
}
