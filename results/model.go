package results

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

// The report is built in two steps: buildReport derives a reportView (plain strings and
// coordinates) from the stored run, and report.html.tmpl renders it with html/template, which
// escapes every string taken from the run.

// Limits that keep the report of a long run small and quick to draw.
const (
	maxPoints        = 8000 // latency points drawn in all
	maxNonOKPoints   = 4000 // of which fail and info
	sampleBuckets    = 500  // time slices the sample is spread over
	maxEntriesShown  = 100  // anomaly entries listed per type
	maxOpChips       = 12   // ops listed per anomaly entry
	maxOpsTable      = 2000 // rows of the table of ops named by anomalies
	maxErrorRows     = 40
	maxMarksPerChart = 300
	valueTextLimit   = 240
)

// reportView is everything report.html.tmpl shows.
type reportView struct {
	Title    string
	Verdict  string // valid, invalid, unknown
	Name     string
	RunID    string
	Started  string
	Duration string
	Headline string
	Chips    []chip
	Stats    []stat
	Warnings []string

	Spec        []specRow
	SpecSummary string
	Rerun       string
	Kafka       string
	HasRun      bool // false: no test.json

	Latency, Quantiles, Throughput *chart
	SampleNote                     string
	FaultKinds                     []faultKind

	Faults     []faultRow
	Controller *laneChart
	Partitions []*laneChart
	// Exact sums up the metadata log the timelines were drawn from; nil when there was none.
	Exact *exactView
	ISR   isrView

	Anomalies []*anomalyGroup
	Txn       *txnView // nil: the transactional checker did not run
	Ops       []opRow
	OpsNote   string
	Checkers  []checkerRow
	Errors    []errorRow
	ErrorNote string
	Final     []finalReadRow
	Viz       []vizLink
	Logs      []logNode
}

type chip struct {
	Type  string
	Count int
	Href  string
}

type stat struct {
	Label, Value, Class string
}

type specRow struct{ Name, Value string }

// chart is a time chart: fault bands, series (paths), points and anomaly marks.
type chart struct {
	ID                  string
	H                   string
	PlotTop, PlotBottom string
	PlotH               string
	XTicks, YTicks      []tick
	YLabel              string
	Bands               []band
	Events              []eventMark
	Series              []series
	Groups              []pointGroup
	Marks               []mark
	MarkY               string
	YMid                string // where the y axis title goes (rotated)
}

type band struct {
	X, W, LabelW, Class, Title, Label string
	LabelY                            string
}

type eventMark struct{ X, Title string }

type series struct{ Class, D, Label string }

type pointGroup struct {
	Class  string
	Points []point
}

type point struct {
	X, Y, Title string
	Square      bool
	SX, SY      string // the square's corner
}

// mark is an anomaly's moment on a chart, linking back to its entry.
type mark struct {
	ID, X, Title, Href string
}

type faultKind struct{ Kind, Class string }

type faultRow struct {
	ID, Kind, Class, Start, Stop, Duration, Value, Error, X string
	StartIndex, StopIndex                                   string
	// Achieved is what the fault did to the cluster, from its stop line; Covered what the
	// clients did while it was in place (checkers' coverage). NotExercised flags a fault that
	// changed nothing or saw no operation.
	Achieved, Covered string
	NotExercised      bool
}

// laneChart is a partition's leader and ISR timeline, or the controller's, one lane per broker.
type laneChart struct {
	ID, Key, H     string
	Summary        string
	Lanes          []lane
	StripY, StripH string
	BandH          string
	LanesBottom    string
	AxisY          string
	XTicks         []tick
	Bands          []band
	Elections      []electionMark
	Offline        []segment
	Gaps           []eventMark
	Marks          []mark
	Viz            string
	Unclean, Clean int
	Undecided      int
	// ByRule counts the elections by the rule the election checker found (isr, elr, ...), when
	// the chart is drawn from the system's log.
	ByRule map[string]int
}

type lane struct {
	Label, Y, H string
	Segs        []segment
	// Fenced are the stretches the metadata log shows the broker fenced or unregistered, drawn
	// as a bar under the lane at FY.
	Fenced []segment
	FY     string
}

type segment struct{ X, W, Class, Title string }

type electionMark struct {
	ID, X, Class, Title, Label string
}

type anomalyGroup struct {
	ID, Type string
	Count    int
	Entries  []anomalyEntry
	Hidden   int
}

type anomalyEntry struct {
	ID          string
	Explanation string
	Key         string
	Moment      string
	MarkHref    string
	MarkX       string
	Ops         []opChip
	MoreOps     int
	Fields      []specRow
	Detail      string
	Viz         string
	Chain       string // link to a cycle's chain in the Transactions section
}

type opChip struct {
	Label, Href, Class string
}

type opRow struct {
	ID, Index, Time, Process, Type, F, Value, Error, Partner, PartnerHref, Latency, Class string
}

type checkerRow struct {
	Name, Verdict, Note string
	Reasons             []string
	Summary             []specRow
	Detail              string
}

type errorRow struct {
	F, Type, Error, Count, First, FirstHref, Span string
}

type finalReadRow struct {
	Key, Complete, Position, HighWatermark, Target, Class string
}

type vizLink struct{ Key, Href, Note string }

type logNode struct {
	Name  string
	Files []logFile
}

type logFile struct{ Name, Href, Size string }

// opInfo is what the report keeps of a completed client operation.
type opInfo struct {
	pos  int   // position of the completion
	t    int64 // invocation time
	lat  int64 // latency, ns
	typ  history.Type
	send bool
}

// builder derives the view from a stored run.
type builder struct {
	run    *storedRun
	ops    []history.Op
	end    int64
	ts     timeScale
	view   *reportView
	faults []faultWindow
	parts  map[string]*laneChart
	// refs are the ops named by anomalies, shown in the ops table.
	refs map[int]bool
	// latMarks are anomaly marks on the latency chart.
	latMarks []mark
}

func buildReport(r *storedRun) *reportView {
	b := &builder{run: r, ops: r.ops, view: &reportView{}, parts: map[string]*laneChart{}, refs: map[int]bool{}}
	for i := range r.ops {
		b.end = max(b.end, r.ops[i].Time)
	}
	if b.end <= 0 {
		b.end = 1
	}
	b.ts = timeScale{end: b.end}
	b.header()
	b.spec()
	b.buildFaults()
	infos := b.clientOps()
	b.plots(infos)
	b.timelines()
	b.isrDynamics()
	b.anomalies()
	inTable := b.opsTable()
	b.transactions(inTable)
	b.checkers()
	b.errors()
	b.finalReads()
	b.viz()
	b.view.Logs = nodeLogs(r.dir)
	b.view.Latency.Marks = capMarks(b.latMarks)
	printableStrings(reflect.ValueOf(b.view))
	return b.view
}

func capMarks(m []mark) []mark {
	if len(m) > maxMarksPerChart {
		return m[:maxMarksPerChart]
	}
	return m
}

func (b *builder) header() {
	v, r := b.view, b.run
	v.Verdict = r.verdict
	v.Name = specName(r.spec)
	if v.Name == "" {
		v.Name = baseName(parentDir(r.dir))
	}
	stamp := baseName(r.dir)
	v.RunID = v.Name + "/" + stamp
	if t, ok := parseStamp(stamp); ok {
		v.Started = t.Format("2006-01-02 15:04:05")
	}
	v.Duration = durationText(b.end)
	v.Title = fmt.Sprintf("%s: %s · kchaos", strings.ToUpper(v.Verdict), v.Name)
	v.HasRun = r.spec != nil
	if r.pairErr != nil {
		v.Warnings = append(v.Warnings, "The history breaks the invoke/complete discipline ("+r.pairErr.Error()+"); operations were paired leniently for the plots.")
	}
	if r.spec == nil {
		v.Warnings = append(v.Warnings, "This run directory has no test.json: the spec and the command to re-run it are unknown.")
	}
	total := 0
	for _, typ := range anomalyTypes(r.results) {
		n := len(r.results.Anomalies[typ])
		total += n
		v.Chips = append(v.Chips, chip{Type: typ, Count: n, Href: "#" + anomalyID(typ)})
	}
	switch v.Verdict {
	case "valid":
		v.Headline = "Every checker passed: no anomaly that breaks Kafka's promises."
		if len(v.Chips) > 0 {
			v.Headline = "Every checker passed; the anomalies listed were found but are allowed (they do not make the run invalid)."
		}
	case "invalid":
		v.Headline = fmt.Sprintf("%d %s of %d %s found: Kafka broke a promise in this run.", total, plural(total, "anomaly", "anomalies"), len(v.Chips), plural(len(v.Chips), "type", "types"))
	default:
		var undecided []string
		for _, name := range slices.Sorted(maps.Keys(r.results.Checkers)) {
			c := r.results.Checkers[name]
			if checkerVerdict(c) != checkers.Unknown {
				continue
			}
			text := name
			if reasons := checkerReasons(c, 1); len(reasons) > 0 {
				text += ": " + reasons[0]
			}
			undecided = append(undecided, text)
		}
		v.Headline = "The checkers could not decide"
		if len(undecided) > 0 {
			v.Headline += ". " + strings.Join(undecided, "; ")
		}
	}
}

// anomalyTypes returns results.json's anomaly_types, then any type of "anomalies" they lack, in
// name order.
func anomalyTypes(res *checkers.Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range res.AnomalyTypes {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, t := range slices.Sorted(maps.Keys(res.Anomalies)) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func anomalyID(typ string) string { return "anomaly-" + safeID(typ) }

// safeID keeps letters, digits, '-' and '_' of s, for an id attribute.
func safeID(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// clientOps returns every completed client operation, and counts the outcomes.
func (b *builder) clientOps() []opInfo {
	var infos []opInfo
	var ok, fail, info, open, faults int
	for i := range b.ops {
		op := &b.ops[i]
		if !op.Process.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			if b.run.partner[i] < 0 {
				open++
			}
			continue
		}
		switch op.Type {
		case history.OK:
			ok++
		case history.Fail:
			fail++
		default:
			info++
		}
		j := b.run.partner[i]
		if j < 0 {
			continue
		}
		inv := &b.ops[j]
		infos = append(infos, opInfo{pos: i, t: inv.Time, lat: op.Time - inv.Time, typ: op.Type, send: op.F == history.FSend})
	}
	faults = len(b.faults)
	total := ok + fail + info
	v := b.view
	v.Stats = append(v.Stats,
		stat{Label: "operations", Value: group(total)},
		stat{Label: "ok", Value: group(ok), Class: "ok"},
		stat{Label: "fail", Value: group(fail), Class: "fail"},
		stat{Label: "info (unknown)", Value: group(info), Class: "info"},
	)
	if open > 0 {
		v.Stats = append(v.Stats, stat{Label: "never completed", Value: group(open), Class: "info"})
	}
	v.Stats = append(v.Stats, stat{Label: "faults", Value: group(faults)}, stat{Label: "duration", Value: durationText(b.end)})
	return infos
}

// group writes n with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}

// plots builds the latency scatter, the latency quantiles and the throughput.
func (b *builder) plots(infos []opInfo) {
	v := b.view
	minLat, maxLat := math.Inf(1), 0.0
	for _, o := range infos {
		ms := float64(max(o.lat, 1000)) / 1e6 // below 1 µs is drawn at 1 µs
		minLat, maxLat = min(minLat, ms), max(maxLat, ms)
	}
	if len(infos) == 0 {
		minLat, maxLat = 1, 1000
	}

	// Latency scatter.
	lat := b.newChart("latency", 330)
	ls := newLogScale(minLat, maxLat, parseNum(lat.PlotTop), parseNum(lat.PlotBottom))
	lat.YTicks = ls.ticks(msLabel)
	lat.YLabel = "latency"
	var okOps, otherOps []opInfo
	for _, o := range infos {
		if o.typ == history.OK {
			okOps = append(okOps, o)
		} else {
			otherOps = append(otherOps, o)
		}
	}
	keptOther := samplePoints(otherOps, maxNonOKPoints, b.end)
	keptOK := samplePoints(okOps, maxPoints-len(keptOther), b.end)
	groups := map[history.Type]*pointGroup{
		history.OK:   {Class: "ok"},
		history.Fail: {Class: "fail"},
		history.Info: {Class: "info"},
	}
	for _, o := range append(keptOK, keptOther...) {
		op := &b.ops[o.pos]
		x, y := b.ts.x(o.t), ls.y(float64(max(o.lat, 1000))/1e6)
		p := point{X: num(x), Y: num(y), Square: !o.send}
		if p.Square {
			p.SX, p.SY = num(x-2), num(y-2)
		}
		title := fmt.Sprintf("op %d · %s %s · process %s · %s at %s", op.Index, op.F, op.Type, op.Process, msLabel(float64(o.lat)/1e6), seconds(o.t))
		if op.Error != "" {
			title += " · " + cutUTF8(op.Error, 200)
		}
		p.Title = title
		g := groups[o.typ]
		g.Points = append(g.Points, p)
	}
	lat.Groups = []pointGroup{*groups[history.OK], *groups[history.Info], *groups[history.Fail]}
	lat.MarkY = num(parseNum(lat.PlotTop) + 1)
	v.Latency = lat
	switch {
	case len(keptOK) < len(okOps) && len(keptOther) < len(otherOps):
		v.SampleNote = fmt.Sprintf("Showing %s of %s ok and %s of %s fail/info operations: in each of %d time slices, the fastest, the slowest and evenly spaced ranks between. The quantiles and throughput below count every operation.",
			group(len(keptOK)), group(len(okOps)), group(len(keptOther)), group(len(otherOps)), sampleBuckets)
	case len(keptOK) < len(okOps):
		v.SampleNote = fmt.Sprintf("Showing every fail and info operation and %s of %s ok ones: in each of %d time slices, the fastest, the slowest and evenly spaced ranks between. The quantiles and throughput below count every operation.",
			group(len(keptOK)), group(len(okOps)), sampleBuckets)
	}

	// Buckets for throughput and quantiles.
	sec := float64(b.end) / 1e9
	width := niceStep(sec / 200)
	if width < 1 && sec >= 20 {
		width = 1
	}
	// A bucket is a whole number of nanoseconds, at least one: a history shorter than 200 ns
	// (one written by hand, or with no time at all) would otherwise get buckets of none.
	widthNS := max(int64(math.Round(width*1e9)), 1)
	width = float64(widthNS) / 1e9
	nb := int(b.end/widthNS) + 1
	bucket := func(t int64) int { return min(max(int(t/widthNS), 0), nb-1) }
	counts := map[history.Type][]int{history.OK: make([]int, nb), history.Fail: make([]int, nb), history.Info: make([]int, nb)}
	lats := make([][]int64, nb)
	for _, o := range infos {
		counts[o.typ][bucket(o.t+o.lat)]++ // completions per second
		lats[bucket(o.t)] = append(lats[bucket(o.t)], o.lat)
	}

	// Throughput.
	tp := b.newChart("throughput", 230)
	maxRate := 0.0
	for _, c := range counts {
		for _, n := range c {
			maxRate = max(maxRate, float64(n)/width)
		}
	}
	lin := newLinScale(maxRate, parseNum(tp.PlotTop), parseNum(tp.PlotBottom))
	tp.YTicks = lin.ticks()
	tp.YLabel = "ops/s"
	for _, typ := range []history.Type{history.OK, history.Info, history.Fail} {
		var d strings.Builder
		for i, n := range counts[typ] {
			x := b.ts.x(int64((float64(i) + 0.5) * float64(widthNS)))
			if i == 0 {
				d.WriteString("M" + num(x) + " " + num(lin.y(float64(n)/width)))
			} else {
				d.WriteString("L" + num(x) + " " + num(lin.y(float64(n)/width)))
			}
		}
		tp.Series = append(tp.Series, series{Class: "s-" + typ.String(), D: d.String(), Label: typ.String()})
	}
	v.Throughput = tp

	// Latency quantiles.
	q := b.newChart("quantiles", 230)
	qs := newLogScale(minLat, maxLat, parseNum(q.PlotTop), parseNum(q.PlotBottom))
	q.YTicks = qs.ticks(msLabel)
	q.YLabel = "latency"
	quants := []struct {
		q     float64
		class string
		label string
	}{{0.5, "q50", "median"}, {0.95, "q95", "95th"}, {0.99, "q99", "99th"}, {1, "qmax", "max"}}
	paths := make([]strings.Builder, len(quants))
	for i, l := range lats {
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		x := b.ts.x(int64((float64(i) + 0.5) * float64(widthNS)))
		for k, qq := range quants {
			idx := int(math.Ceil(qq.q*float64(len(l)))) - 1
			idx = min(max(idx, 0), len(l)-1)
			cmd := "L"
			if paths[k].Len() == 0 || len(lats[i-min(i, 1)]) == 0 {
				cmd = "M"
			}
			paths[k].WriteString(cmd + num(x) + " " + num(qs.y(float64(max(l[idx], 1000))/1e6)))
		}
	}
	for k, qq := range quants {
		q.Series = append(q.Series, series{Class: qq.class, D: paths[k].String(), Label: qq.label})
	}
	v.Quantiles = q
}

func parseNum(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// newChart returns a time chart of the given height with the fault windows drawn in.
func (b *builder) newChart(id string, h float64) *chart {
	lanes := b.bandLanes()
	labelH := 13.0
	top := 6 + float64(lanes)*labelH
	bottom := h - 22
	c := &chart{ID: id, H: num(h), PlotTop: num(top), PlotBottom: num(bottom), PlotH: num(bottom - top), XTicks: b.ts.ticks(),
		YMid: num(-(top + bottom) / 2)}
	for _, f := range b.faults {
		x1, x2 := b.ts.x(f.start), b.ts.x(f.stop)
		c.Bands = append(c.Bands, band{
			X: num(x1), W: num(max(x2-x1, 1)), LabelW: num(max(x2-x1, labelWidth(f.label))), Class: f.class, Title: f.title, Label: f.label,
			LabelY: num(6 + float64(f.lane)*labelH),
		})
	}
	for _, e := range b.nemesisEvents() {
		c.Events = append(c.Events, e)
	}
	return c
}

// samplePoints keeps at most budget of pts, spread over time: it cuts the run into
// sampleBuckets slices and keeps up to the same number q of points in each, the largest q that
// fits the budget; a slice with more than q keeps its fastest, its slowest and evenly spaced
// ranks between, so the envelope and the spread of latencies survive.
func samplePoints(pts []opInfo, budget int, end int64) []opInfo {
	if len(pts) <= budget {
		return pts
	}
	if budget <= 0 {
		return nil
	}
	nb := min(sampleBuckets, budget) // so that one point per slice fits
	buckets := make([][]opInfo, nb)
	for _, p := range pts {
		k := int(float64(p.t) / float64(end+1) * float64(nb))
		k = min(max(k, 0), nb-1)
		buckets[k] = append(buckets[k], p)
	}
	fits := func(q int) bool {
		n := 0
		for _, bk := range buckets {
			n += min(len(bk), q)
		}
		return n <= budget
	}
	lo, hi := 1, len(pts) // fits(1): there are at most budget slices
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	q := lo
	var out []opInfo
	for _, bk := range buckets {
		if len(bk) <= q {
			out = append(out, bk...)
			continue
		}
		slices.SortFunc(bk, func(a, c opInfo) int { return cmp.Compare(a.lat, c.lat) })
		if q == 1 {
			out = append(out, bk[len(bk)-1])
			continue
		}
		for k := 0; k < q; k++ {
			out = append(out, bk[int(math.Round(float64(k)*float64(len(bk)-1)/float64(q-1)))])
		}
	}
	return out
}
