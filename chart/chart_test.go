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

// month is a plausible 31-day series: a base cost with a weekly rhythm.
func month(days int, base float64) []float64 {
	out := make([]float64, days)
	for i := range out {
		out[i] = base + 12*math.Sin(float64(i)/7*2*math.Pi) + float64(i%3)
	}
	return out
}

func TestDailyCostIsAPNGOfTheAskedSize(t *testing.T) {
	tests := []struct {
		name       string
		this, last []float64
		o          chart.DailyCostOptions
		w, h       int
	}{
		{"defaults, both months", month(22, 110), month(31, 95), chart.DailyCostOptions{Title: "Acme Ltd — daily AWS cost"}, 800, 400},
		{"only last month", nil, month(30, 80), chart.DailyCostOptions{Currency: "EUR", Width: 640, Height: 320}, 640, 320},
		{"first day of the month", []float64{3.5}, nil, chart.DailyCostOptions{Currency: "CHF"}, 800, 400},
		{"credits below zero", []float64{10, -25, 10}, month(28, 9), chart.DailyCostOptions{}, 800, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := chart.DailyCost(tt.this, tt.last, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if got := img.Bounds().Size(); got.X != tt.w || got.Y != tt.h {
				t.Fatalf("size = %v, want %dx%d", got, tt.w, tt.h)
			}
			if len(b) > 100<<10 {
				t.Errorf("PNG is %d bytes, over the 100 KB budget", len(b))
			}
			if dir := os.Getenv("CHART_PNG_DIR"); dir != "" { // to look at it: CHART_PNG_DIR=/tmp go test ./chart
				_ = os.WriteFile(filepath.Join(dir, tt.name+".png"), b, 0o644)
			}
		})
	}
}

func TestDailyCostRefusesNoData(t *testing.T) {
	for _, tt := range []struct {
		name       string
		this, last []float64
	}{{"nothing", nil, nil}, {"empty", []float64{}, []float64{}}, {"only zeros", make([]float64, 20), make([]float64, 31)}} {
		if b, err := chart.DailyCost(tt.this, tt.last, chart.DailyCostOptions{}); !errors.Is(err, chart.ErrNoData) || b != nil {
			t.Errorf("%s: got %d bytes, err %v; want ErrNoData", tt.name, len(b), err)
		}
	}
}

func TestDailyCostRefusesBadInput(t *testing.T) {
	for _, tt := range []struct {
		name       string
		this, last []float64
		o          chart.DailyCostOptions
	}{
		{"32 days", make([]float64, 32), []float64{1}, chart.DailyCostOptions{}},
		{"NaN", []float64{1, math.NaN()}, nil, chart.DailyCostOptions{}},
		{"infinite", []float64{math.Inf(1)}, nil, chart.DailyCostOptions{}},
		{"too small", []float64{1}, nil, chart.DailyCostOptions{Width: 20, Height: 10}},
	} {
		if _, err := chart.DailyCost(tt.this, tt.last, tt.o); err == nil || errors.Is(err, chart.ErrNoData) {
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

// BenchmarkDailyCost renders the full 31-day two-series chart (goal:
// ≤ 30 ms and ≤ 100 KB).
func BenchmarkDailyCost(b *testing.B) {
	this, last := month(31, 110), month(31, 95)
	o := chart.DailyCostOptions{Title: "Acme Ltd — daily AWS cost", Currency: "USD"}
	var size int
	for b.Loop() {
		png, err := chart.DailyCost(this, last, o)
		if err != nil {
			b.Fatal(err)
		}
		size = len(png)
	}
	b.ReportMetric(float64(size), "png-bytes")
}
