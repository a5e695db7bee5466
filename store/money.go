package store

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money is an amount in US cents.
type Money int64

// String formats m as "$1,234.50" ("-$40.00" when negative).
func (m Money) String() string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign, u = "-", uint64(-m) // -MinInt64 wraps to itself, which is right as uint64
	}
	whole := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	b.WriteString(sign + "$")
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	fmt.Fprintf(&b, ".%02d", u%100)
	return b.String()
}

// FormatDelta shows the change of a monthly cost in money and percent:
// "+$120.00/month (+18 %)", "−$40.00/month (−10 %)", "+$50.00/month (from
// $0)", "$0.00/month (no change)". The percentage is rounded to a whole
// number; a change under half a percent shows as "<1 %".
func FormatDelta(cur, proposed Money) string {
	d := proposed - cur
	if d == 0 {
		return "$0.00/month (no change)"
	}
	sign, abs := "+", d
	if d < 0 {
		sign, abs = "−", -d
	}
	amount := sign + abs.String() + "/month"
	switch {
	case cur == 0:
		return amount + " (from $0)"
	case cur < 0:
		return amount
	}
	pct := math.Round(math.Abs(float64(d)) * 100 / float64(cur))
	if pct == 0 {
		return amount + " (" + sign + "<1 %)"
	}
	return amount + " (" + sign + strconv.FormatFloat(pct, 'f', 0, 64) + " %)"
}
