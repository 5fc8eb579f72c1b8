package results

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/checkers/dynamics"
)

// maxISRRows is how many failovers, and how many ISR departures, the report lists.
const maxISRRows = 200

// meterW is the width of the small bar that sets a failover against the session timeout.
const meterW = 120.0

// isrView is the "ISR dynamics" section: how long failovers took after a fault hit a leader,
// against the session timeout, and which followers left an ISR and how they came back.
type isrView struct {
	// Present is false when results.json has no ISR dynamics (one written by an older kchaos);
	// Note then says so.
	Present bool
	Note    string
	// Answer is the summary's one sentence: does a follower that left the ISR come back by
	// itself? AnswerClass colours it (ok, info, or none when nothing left).
	Answer, AnswerClass string
	// Failover sets the median failover against the session timeout, in one sentence.
	Failover string
	Stats    []stat
	// SessionSetting names the session timeout: zookeeper.session.timeout.ms, or
	// broker.session.timeout.ms in KRaft mode; "the session timeout" when the mode is unknown.
	SessionSetting string

	Failovers       []failoverRow
	FailoversHidden int
	Leaves          []isrLeaveRow
	LeavesHidden    int
}

// failoverRow is one fault that hit a partition's leader, and the leader that followed.
type failoverRow struct {
	Key                                      string
	Fault, FaultTitle, FaultClass, FaultHref string
	FaultX                                   string
	At, AtHref, AtX                          string
	Old, New                                 string
	// Ms is the failover time ("none" when no other broker led), linked to the moment the new
	// leader was seen (ElectedHref, ElectedX).
	Ms, ElectedHref, ElectedX string
	VsSession                 string
	Meter                     *meterView
}

// meterView is a small bar: a failover's length (W) beside the session timeout's (Limit, ""
// when unknown), on one scale for the whole table.
type meterView struct {
	W, Limit, Class, Title string
}

// isrLeaveRow is one broker leaving a key's ISR and how, if at all, it came back.
type isrLeaveRow struct {
	Key, Broker                              string
	Left, LeftHref, LeftX                    string
	Out, OutHref, OutX, OutClass             string
	Fault, FaultTitle, FaultClass, FaultHref string
	FaultX                                   string
	AfterHeal                                string
	How, HowClass                            string
}

// isrDynamics builds the ISR-dynamics section from results.json. It runs after the timelines
// and fault windows, whose moments and rows its links point at.
func (b *builder) isrDynamics() {
	v := &b.view.ISR
	var d *dynamics.Summary
	if st := b.run.results.Stats; st != nil {
		d = st.ISRDynamics
	}
	if d == nil {
		v.Note = "This results.json has no ISR dynamics (checkers.stats.isr_dynamics): an older kchaos wrote it. " +
			"kchaos check RUN_DIR, then kchaos report RUN_DIR, adds them."
		return
	}
	v.Present = true
	setting, sessionMs := b.sessionTimeout(d.Settings)
	v.SessionSetting = cmp.Or(setting, "the session timeout")
	lagMs := d.Settings.ReplicaLagMax.Milliseconds()
	c := &d.Verdicts
	median := c.MedianFailoverMs
	failovers := d.Failovers
	leaves := d.Leaves
	nLeaves := int64(c.Leaves)
	byItself := int64(c.RejoinedByItself)
	never := int64(c.NeverRejoined)

	v.Answer = cutUTF8(c.Answer, 400)
	switch {
	case nLeaves == 0:
	case never > 0:
		v.AnswerClass = "info"
	default:
		v.AnswerClass = "ok"
	}

	elected := 0
	longest := int64(0)
	for _, f := range failovers {
		if ms := f.FailoverMs; ms >= 0 {
			elected++
			longest = max(longest, ms)
		}
	}
	switch {
	case median >= 0 && sessionMs > 0:
		v.Failover = fmt.Sprintf("Median failover %s after a fault hit a leader: %s of %s (%s).",
			msText(median), percent(median, sessionMs), v.SessionSetting, msText(sessionMs))
	case median >= 0:
		v.Failover = fmt.Sprintf("Median failover %s after a fault hit a leader; %s is unknown.", msText(median), v.SessionSetting)
	case len(failovers) > 0:
		v.Failover = fmt.Sprintf("No other broker led after any of the %d %s that hit a leader.", len(failovers), plural(len(failovers), "fault", "faults"))
	default:
		v.Failover = "No fault that stops a broker (kill, pause, ZooKeeper isolation) hit a leader: there was no failover to time."
	}
	if elected > 0 && elected < len(failovers) {
		v.Failover += fmt.Sprintf(" %d of the %d faults that hit a leader were followed by another leader.", elected, len(failovers))
	}

	medianText, sessionText, lagText := "none", "unknown", "unknown"
	if median >= 0 {
		medianText = msText(median)
	}
	if sessionMs > 0 {
		sessionText = msText(sessionMs)
	}
	if lagMs > 0 {
		lagText = msText(lagMs)
	}
	neverStat := stat{Label: "never rejoined", Value: strconv.FormatInt(never, 10)}
	if never > 0 {
		neverStat.Class = "info"
	}
	v.Stats = []stat{
		{Label: "median failover", Value: medianText},
		{Label: cmp.Or(setting, "session timeout"), Value: sessionText},
		{Label: "ISR departures", Value: strconv.FormatInt(nLeaves, 10)},
		{Label: "rejoined by itself", Value: strconv.FormatInt(byItself, 10), Class: "ok"},
		{Label: "came back by a restart", Value: strconv.FormatInt(max(nLeaves-byItself-never, 0), 10)},
		neverStat,
		{Label: "replica.lag.time.max.ms", Value: lagText},
	}

	scale := float64(max(longest, sessionMs))
	for i, f := range failovers {
		if i == maxISRRows {
			v.FailoversHidden = len(failovers) - i
			break
		}
		v.Failovers = append(v.Failovers, b.failoverRow(&f, v.SessionSetting, sessionMs, scale))
	}
	for i, l := range leaves {
		if i == maxISRRows {
			v.LeavesHidden = len(leaves) - i
			break
		}
		v.Leaves = append(v.Leaves, b.isrLeaveRow(&l))
	}
}

// sessionTimeout returns the setting the failovers are set against and its value in ms (0 when
// unknown): the one results.json names. A results.json written before it named one holds the
// spec's zookeeper.session.timeout.ms, which a KRaft cluster has not: for a KRaft run, the
// spec's own session timeout then.
func (b *builder) sessionTimeout(s dynamics.Settings) (setting string, ms int64) {
	if s.SessionTimeoutSetting == "" && b.run.spec != nil && b.run.spec.Cluster.WithDefaults().KRaft() {
		setting, specMs := b.run.spec.Cluster.SessionTimeout()
		return setting, int64(specMs)
	}
	return s.SessionSetting(), s.SessionTimeout.Milliseconds()
}

func (b *builder) failoverRow(f *dynamics.Failover, setting string, sessionMs int64, scale float64) failoverRow {
	key := f.Key
	at := f.FaultTime
	row := failoverRow{Key: key, Old: leaderText(f.OldLeader), New: leaderText(f.NewLeader)}
	row.AtHref, row.AtX, row.At = b.momentLink(key), num(b.ts.x(at)), seconds(at)
	row.Fault, row.FaultTitle, row.FaultClass, row.FaultHref, row.FaultX = b.faultCell(f.Fault, at)
	ms := f.FailoverMs
	if ms < 0 {
		row.Ms, row.VsSession = "none", "no other broker led"
		return row
	}
	row.Ms = msText(ms)
	if f.Elected != 0 {
		row.ElectedHref, row.ElectedX = b.momentLink(key), num(b.ts.x(f.Elected))
	}
	m := &meterView{Class: "under", Title: fmt.Sprintf("failover %s", msText(ms))}
	if sessionMs > 0 {
		row.VsSession = percent(ms, sessionMs)
		m.Limit = num(meterW * float64(sessionMs) / scale)
		m.Title += fmt.Sprintf(" = %s of %s (%s)", row.VsSession, setting, msText(sessionMs))
		if ms > sessionMs {
			m.Class = "over"
		}
	} else {
		row.VsSession = "session timeout unknown"
	}
	if scale > 0 {
		m.W = num(max(meterW*float64(ms)/scale, 1))
	} else {
		m.W = "1.0"
	}
	row.Meter = m
	return row
}

func (b *builder) isrLeaveRow(l *dynamics.ISRLeave) isrLeaveRow {
	key := l.Key
	left := l.Left
	row := isrLeaveRow{Key: key, Broker: strconv.Itoa(l.Broker)}
	row.LeftHref, row.LeftX, row.Left = b.momentLink(key), num(b.ts.x(left)), seconds(left)
	fault := l.Fault
	row.Fault, row.FaultTitle, row.FaultClass, row.FaultHref, row.FaultX = b.faultCell(fault, left)
	out := l.OutMs
	rejoined := l.Rejoined
	switch {
	case out < 0:
		row.Out, row.OutClass = "never", "fail"
		row.How, row.HowClass = "never", "fail"
	default:
		row.Out = msText(out)
		if rejoined > 0 {
			row.OutHref, row.OutX = b.momentLink(key), num(b.ts.x(rejoined))
		}
		row.How, row.HowClass = "by itself", "ok"
		if l.Restarted {
			row.How, row.HowClass = "restarted", "info"
		}
	}
	faultEnd := l.FaultEnd
	afterHeal := l.RejoinAfterHealMs
	switch {
	case afterHeal >= 0:
		row.AfterHeal = msText(afterHeal)
	case fault == "", out < 0:
		row.AfterHeal = "—"
	case faultEnd == 0 || rejoined < faultEnd:
		row.AfterHeal = "during the fault"
	default:
		row.AfterHeal = "—"
	}
	return row
}

// momentLink returns the link to key's leader/ISR timeline (the timeline section when the key has
// none); the data-x beside it puts the time cursor on the moment, as an anomaly's moment does.
func (b *builder) momentLink(key string) string {
	if c := b.parts[key]; c != nil {
		return "#part-" + c.ID
	}
	return "#timeline"
}

// faultCell names the nemesis fault f ("start-kill", "isolate-jepsen-2013", ...) active at t, by
// its fault window when one matches: its label, title, colour class, row link and x. A fault with
// no window is named by its kind alone; no fault at all is "none".
func (b *builder) faultCell(f string, t int64) (label, title, class, href, x string) {
	if f == "" {
		return "none", "", "", "", ""
	}
	kind, ok := strings.CutPrefix(f, "start-")
	if !ok {
		kind = strings.TrimPrefix(f, "isolate-") // the isolation step of jepsen-2013
	}
	for i := len(b.faults) - 1; i >= 0; i-- {
		w := &b.faults[i]
		if w.kind == kind && w.start <= t && (t <= w.stop || w.stopPos < 0) {
			label, title = w.label, w.title
			if f != "start-"+kind {
				label += " (" + f + ")"
			}
			return label, title, w.class, "#" + b.view.Faults[i].ID, num(b.ts.x(w.start))
		}
	}
	return cutUTF8(kind, 60), f, faultClass(kind), "", ""
}

// msText writes milliseconds with thousands separators: "18,000 ms".
func msText(ms int64) string { return group(int(ms)) + " ms" }

// percent writes part as a percentage of whole: "36 %", "1.7 %" below ten.
func percent(part, whole int64) string {
	p := float64(part) * 100 / float64(whole)
	if p < 9.95 {
		return strconv.FormatFloat(p, 'f', 1, 64) + " %"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + " %"
}
