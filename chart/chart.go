// Package chart renders the PNG charts opsbot uploads to Slack. It takes
// plain numbers, so it depends on nothing else in this module (a leaf).
package chart

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ErrNoData is returned when neither series has a non-zero amount: an
// all-zero chart would say "it cost nothing", which nobody measured.
var ErrNoData = errors.New("chart: no cost data to draw")

// DailyCostOptions describe the chart's text and size; zero values take the
// defaults.
type DailyCostOptions struct {
	Title     string // e.g. "Acme Ltd — daily AWS cost"; default "Daily cost"
	Currency  string // ISO code of the amounts: "USD" (default), "EUR", "GBP" ...
	ThisLabel string // legend of this month; default "This month"
	LastLabel string // legend of last month; default "Last month"
	Width     int    // pixels; default 800
	Height    int    // pixels; default 400
}

// dpi fixes how points map to pixels so Width and Height are exact.
const dpi = 96

var (
	thisColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue, solid
	lastColor = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff} // grey, dashed
)

// DailyCost renders a PNG line chart of daily cost: this[i] and last[i] are
// the amounts of day i+1 of this and last month (x: day of month 1..31,
// y: money in o.Currency), with a legend and a title. A series may be
// shorter than the month (this month so far) or empty. It returns ErrNoData
// when no amount in either series is non-zero, and an error for a NaN or
// infinite amount or more than 31 days.
func DailyCost(this, last []float64, o DailyCostOptions) ([]byte, error) {
	if len(this) > 31 || len(last) > 31 {
		return nil, fmt.Errorf("chart: %d and %d days given; a month has at most 31", len(this), len(last))
	}
	hasData := false
	for _, v := range append(append([]float64{}, this...), last...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("chart: amount %v is not a number", v)
		}
		hasData = hasData || v != 0
	}
	if !hasData {
		return nil, ErrNoData
	}
	o.Title = cmp.Or(o.Title, "Daily cost")
	o.Currency = cmp.Or(o.Currency, "USD")
	o.ThisLabel, o.LastLabel = cmp.Or(o.ThisLabel, "This month"), cmp.Or(o.LastLabel, "Last month")
	o.Width, o.Height = cmp.Or(o.Width, 800), cmp.Or(o.Height, 400)
	if o.Width < 200 || o.Height < 150 || o.Width > 4000 || o.Height > 4000 {
		return nil, fmt.Errorf("chart: size %dx%d outside 200x150 to 4000x4000 pixels", o.Width, o.Height)
	}

	p := plot.New()
	p.Title.Text = o.Title
	p.X.Label.Text = "Day of month"
	p.Y.Label.Text = "Cost (" + o.Currency + ")"
	p.X.Min, p.X.Max = 1, 31
	lo, hi := bounds(this, last)
	// Headroom above the highest day keeps the legend clear of the lines.
	p.Y.Min, p.Y.Max = math.Min(0, lo), math.Max(hi, 0)*1.3+1e-9
	p.X.Tick.Marker = dayTicks{}
	p.Y.Tick.Marker = moneyTicks{currency: o.Currency}
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(4)
	var legend [2]*plotter.Line // this month, last month

	// Last month first, so this month is drawn on top.
	for _, s := range []struct {
		values []float64
		label  string
		color  color.Color
		dashed bool
		slot   int
	}{{last, o.LastLabel, lastColor, true, 1}, {this, o.ThisLabel, thisColor, false, 0}} {
		if len(s.values) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.values))
		for i, v := range s.values {
			xys[i] = plotter.XY{X: float64(i + 1), Y: v}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("chart: %s: %w", s.label, err)
		}
		line.Color, line.Width = s.color, vg.Points(2)
		if s.dashed {
			line.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		}
		p.Add(line)
		legend[s.slot] = line
	}
	for i, label := range []string{o.ThisLabel, o.LastLabel} {
		if legend[i] != nil {
			p.Legend.Add(label, legend[i])
		}
	}

	w := vg.Length(o.Width) * vg.Inch / dpi
	h := vg.Length(o.Height) * vg.Inch / dpi
	canvas := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// bounds are the lowest and highest amounts of all series.
func bounds(series ...[]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, v := range s {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
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
