package chart

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// MonthCost is a month's cost against its quote: the cost so far summed day
// by day, last month's beside it, the forecast to month end and the quote.
type MonthCost struct {
	// This holds this month's daily amounts, day 1 first, through the last
	// day billed: days Cost Explorer has not billed yet are left out (see
	// Billed), so the line stops where the data stops instead of falling.
	This []float64
	// Last holds last month's daily amounts (the whole month).
	Last        []float64
	DaysInMonth int     // of this month, 28-31
	Quote       float64 // the monthly quote; 0: none
	Forecast    float64 // the month-end forecast, when HasForecast
	HasForecast bool

	Title     string // e.g. "Acme Ltd — AWS cost, November 2026"; default "Cost this month"
	Currency  string // ISO code: "USD" (default), "EUR", "GBP" ...
	ThisLabel string // default "This month"
	LastLabel string // default "Last month"
	Width     int    // pixels; default 800
	Height    int    // pixels; default 400
}

// Billed trims the days not billed yet from the end of daily (trailing
// zeros: Cost Explorer reports today and often yesterday as 0 until it has
// processed them).
func Billed(daily []float64) []float64 {
	n := len(daily)
	for n > 0 && daily[n-1] == 0 {
		n--
	}
	return daily[:n]
}

// line is one series of the chart in data coordinates.
type line struct {
	label string
	xys   plotter.XYs
}

// monthLines are the chart's series: this month and last month summed day
// by day, the forecast from the last billed day to month end, the quote
// across the month. Empty series are left out.
func monthLines(m MonthCost) (this, last, forecast, quote line) {
	sum := func(daily []float64) plotter.XYs {
		xys := make(plotter.XYs, len(daily))
		total := 0.0
		for i, v := range daily {
			total += v
			xys[i] = plotter.XY{X: float64(i + 1), Y: total}
		}
		return xys
	}
	this = line{m.ThisLabel, sum(m.This)}
	last = line{m.LastLabel, sum(m.Last)}
	end := float64(m.DaysInMonth)
	if m.HasForecast {
		from := plotter.XY{X: 1, Y: 0}
		if n := len(this.xys); n > 0 {
			from = this.xys[n-1]
		}
		if from.X < end {
			forecast = line{"Forecast " + Money(m.Forecast, m.Currency), plotter.XYs{from, {X: end, Y: m.Forecast}}}
		}
	}
	if m.Quote > 0 {
		quote = line{"Quote " + Money(m.Quote, m.Currency), plotter.XYs{{X: 1, Y: m.Quote}, {X: end, Y: m.Quote}}}
	}
	return this, last, forecast, quote
}

var (
	thisColor  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue, solid, with markers
	lastColor  = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff} // grey, solid, thin
	quoteColor = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // red, solid
)

// markedDays: up to this many days of this month, each is marked, so the
// first days of a month (one point is no line) still show.
const markedDays = 7

// MonthCostPNG renders m as a PNG line chart (x: day of month, y: money).
// The first days of this month are marked, so a single day (the 2nd of a
// month) still shows; last month's line is beside it from the first day. It
// returns ErrNoData when neither month has a non-zero amount and no quote
// or forecast is given, and an error for NaN or infinite amounts or more
// than 31 days.
func MonthCostPNG(m MonthCost) ([]byte, error) {
	if len(m.This) > 31 || len(m.Last) > 31 {
		return nil, fmt.Errorf("chart: %d and %d days given; a month has at most 31", len(m.This), len(m.Last))
	}
	hasData := m.Quote > 0 || m.HasForecast
	for _, v := range append(append([]float64{m.Quote, m.Forecast}, m.This...), m.Last...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("chart: amount %v is not a number", v)
		}
		hasData = hasData || v != 0
	}
	if !hasData {
		return nil, ErrNoData
	}
	m.Title = cmp.Or(m.Title, "Cost this month")
	m.Currency = cmp.Or(m.Currency, "USD")
	m.ThisLabel, m.LastLabel = cmp.Or(m.ThisLabel, "This month"), cmp.Or(m.LastLabel, "Last month")
	m.Width, m.Height = cmp.Or(m.Width, 800), cmp.Or(m.Height, 400)
	m.DaysInMonth = min(max(m.DaysInMonth, len(m.This), 28), 31)
	if m.Width < 200 || m.Height < 150 || m.Width > 4000 || m.Height > 4000 {
		return nil, fmt.Errorf("chart: size %dx%d outside 200x150 to 4000x4000 pixels", m.Width, m.Height)
	}
	this, last, forecast, quote := monthLines(m)

	p := plot.New()
	p.Title.Text = m.Title
	p.X.Label.Text = "Day of month"
	p.Y.Label.Text = "Cost so far (" + m.Currency + ")"
	p.X.Min, p.X.Max = 1, float64(max(m.DaysInMonth, len(m.Last)))
	var ys []float64
	for _, l := range []line{this, last, forecast, quote} {
		for _, xy := range l.xys {
			ys = append(ys, xy.Y)
		}
	}
	lo, hi := bounds(ys)
	// Headroom above the highest value keeps the legend clear of the lines.
	p.Y.Min, p.Y.Max = math.Min(0, lo), math.Max(hi, 0)*1.3+1e-9
	p.X.Tick.Marker = dayTicks{}
	p.Y.Tick.Marker = moneyTicks{currency: m.Currency}
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(4)

	add := func(l line, c color.Color, width float64, dashes []vg.Length) error {
		if len(l.xys) == 0 {
			return nil
		}
		pl, err := plotter.NewLine(l.xys)
		if err != nil {
			return fmt.Errorf("chart: %s: %w", l.label, err)
		}
		pl.Color, pl.Width, pl.Dashes = c, vg.Points(width), dashes
		p.Add(pl)
		p.Legend.Add(l.label, pl)
		return nil
	}
	dashed := []vg.Length{vg.Points(6), vg.Points(4)}
	// Drawn bottom up: last month, quote, forecast, then this month on top.
	for _, s := range []struct {
		l      line
		c      color.Color
		w      float64
		dashes []vg.Length
	}{{last, lastColor, 1.5, nil}, {quote, quoteColor, 1.5, nil}, {forecast, thisColor, 2, dashed}} {
		if err := add(s.l, s.c, s.w, s.dashes); err != nil {
			return nil, err
		}
	}
	if len(this.xys) > 0 {
		if err := add(this, thisColor, 2.5, nil); err != nil {
			return nil, err
		}
		if len(this.xys) <= markedDays {
			marks, err := plotter.NewScatter(this.xys)
			if err != nil {
				return nil, fmt.Errorf("chart: markers: %w", err)
			}
			marks.GlyphStyle = draw.GlyphStyle{Color: thisColor, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
			p.Add(marks)
		}
		// The month to date, written at its last point.
		end := this.xys[len(this.xys)-1]
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{end}, Labels: []string{"  " + Money(end.Y, m.Currency) + " so far"}})
		if err != nil {
			return nil, fmt.Errorf("chart: label: %w", err)
		}
		labels.Offset = vg.Point{X: vg.Points(2), Y: vg.Points(10)}
		p.Add(labels)
	}

	if len(this.xys) == 0 {
		// The 1st of a month: nothing billed yet, which the chart says.
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: 1, Y: 0}}, Labels: []string{"  nothing billed yet this month"}})
		if err != nil {
			return nil, fmt.Errorf("chart: label: %w", err)
		}
		labels.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(6)}
		p.Add(labels)
	}

	w := vg.Length(m.Width) * vg.Inch / dpi
	h := vg.Length(m.Height) * vg.Inch / dpi
	canvas := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: encode png: %w", err)
	}
	return buf.Bytes(), nil
}
