package results

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Every chart of the report shares one horizontal layout (a viewBox chartW wide, the plot area
// from plotLeft to chartW-plotRight), so that a time has the same x in all of them: the fault
// windows line up, and one cursor line can be drawn across every chart.
const (
	chartW    = 1000.0
	plotLeft  = 74.0
	plotRight = 14.0
	plotW     = chartW - plotLeft - plotRight
)

// timeScale maps nanoseconds since the start of the test to x.
type timeScale struct{ end int64 }

func (s timeScale) x(t int64) float64 {
	if s.end <= 0 {
		return plotLeft
	}
	t = min(max(t, 0), s.end)
	return plotLeft + float64(t)/float64(s.end)*plotW
}

// ticks returns the x ticks of the time axis, labelled in seconds (or minutes).
func (s timeScale) ticks() []tick {
	sec := float64(s.end) / 1e9
	step := niceStep(sec / 8)
	var out []tick
	for v := 0.0; v <= sec+step/1e6; v += step {
		out = append(out, tick{Pos: num(s.x(int64(v * 1e9))), Label: secondsLabel(v, step)})
	}
	return out
}

// secondsLabel writes a tick's time: "90 s", or "1.5 s" when the step needs it.
func secondsLabel(v, step float64) string {
	if step < 1 {
		return strconv.FormatFloat(v, 'f', decimals(step), 64) + " s"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " s"
}

func decimals(step float64) int {
	d := 0
	for step < 1 && d < 6 {
		step *= 10
		d++
	}
	return d
}

// niceStep returns 1, 2 or 5 times a power of ten, at least x.
func niceStep(x float64) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// logScale maps a positive value to y, decades evenly spaced, lo at bottom and hi at top.
type logScale struct {
	lo, hi      float64 // powers of ten
	top, bottom float64
}

func newLogScale(minV, maxV, top, bottom float64) logScale {
	if minV <= 0 {
		minV = 1e-3
	}
	if maxV < minV {
		maxV = minV
	}
	lo := math.Pow(10, math.Floor(math.Log10(minV)))
	hi := math.Pow(10, math.Ceil(math.Log10(maxV)))
	if hi <= lo {
		hi = lo * 10
	}
	return logScale{lo: lo, hi: hi, top: top, bottom: bottom}
}

func (s logScale) y(v float64) float64 {
	if v < s.lo {
		v = s.lo
	}
	f := (math.Log10(v) - math.Log10(s.lo)) / (math.Log10(s.hi) - math.Log10(s.lo))
	return s.bottom - f*(s.bottom-s.top)
}

// ticks returns a labelled tick per decade and unlabelled ones at 2 and 5 times it.
func (s logScale) ticks(label func(float64) string) []tick {
	var out []tick
	for d := s.lo; d <= s.hi*1.0001; d *= 10 {
		out = append(out, tick{Pos: num(s.y(d)), Label: label(d)})
		for _, m := range []float64{2, 5} {
			if d*m < s.hi*0.9999 {
				out = append(out, tick{Pos: num(s.y(d * m)), Minor: true})
			}
		}
	}
	return out
}

// linScale maps [0, max] to [bottom, top].
type linScale struct {
	max         float64
	top, bottom float64
}

func newLinScale(maxV, top, bottom float64) linScale {
	if maxV <= 0 {
		maxV = 1
	}
	step := niceStep(maxV / 4)
	return linScale{max: math.Ceil(maxV/step) * step, top: top, bottom: bottom}
}

func (s linScale) y(v float64) float64 { return s.bottom - v/s.max*(s.bottom-s.top) }

func (s linScale) ticks() []tick {
	step := niceStep(s.max / 4)
	var out []tick
	for v := 0.0; v <= s.max+step/1e6; v += step {
		out = append(out, tick{Pos: num(s.y(v)), Label: strconv.FormatFloat(v, 'f', decimals(step), 64)})
	}
	return out
}

// msLabel writes a latency given in milliseconds: "10 µs", "1 ms", "10 s".
func msLabel(ms float64) string {
	switch {
	case ms < 1e-3:
		return trimFloat(ms*1e6) + " ns"
	case ms < 1:
		return trimFloat(ms*1e3) + " µs"
	case ms < 1000:
		return trimFloat(ms) + " ms"
	}
	return trimFloat(ms/1000) + " s"
}

func trimFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// tick is an axis tick at position Pos (x or y, per axis).
type tick struct {
	Pos   string
	Label string
	Minor bool
}

// num writes a coordinate with one decimal, the precision a 1000-unit viewBox needs.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// seconds writes nanoseconds as seconds with millisecond precision: "12.345 s".
func seconds(ns int64) string { return fmt.Sprintf("%.3f s", float64(ns)/1e9) }

// durationText writes nanoseconds for a person: "850 ms", "12.3 s", "4 min 05 s".
func durationText(ns int64) string {
	switch {
	case ns < 1e9:
		return fmt.Sprintf("%d ms", ns/1e6)
	case ns < 60e9:
		return fmt.Sprintf("%.1f s", float64(ns)/1e9)
	case ns < 3600e9:
		return fmt.Sprintf("%d min %02d s", ns/60e9, (ns%60e9)/1e9)
	}
	return fmt.Sprintf("%d h %02d min", ns/3600e9, (ns%3600e9)/60e9)
}

// laneAssign gives each interval [start, end) the lowest lane free at its start, at most
// maxLanes lanes (the last one is shared beyond that).
func laneAssign(starts, ends []float64, maxLanes int) []int {
	var laneEnd []float64
	out := make([]int, len(starts))
	for i := range starts {
		lane := -1
		for l, e := range laneEnd {
			if e <= starts[i] {
				lane = l
				break
			}
		}
		if lane < 0 {
			if len(laneEnd) < maxLanes {
				laneEnd = append(laneEnd, 0)
				lane = len(laneEnd) - 1
			} else {
				lane = maxLanes - 1
			}
		}
		laneEnd[lane] = ends[i]
		out[i] = lane
	}
	return out
}
