// Package dynamics measures, from a history's observer and nemesis lines, how the cluster's
// leadership and ISR moved: how long failover took after a fault hit a leader (to set against the
// session timeout: zookeeper.session.timeout.ms, or broker.session.timeout.ms in KRaft mode), and
// when followers left and rejoined the ISR (to set against replica.lag.time.max.ms). It answers,
// with measurements, whether a follower that left the ISR came back by itself. It judges nothing:
// it is a summary for people, not a checker.
package dynamics

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kchaos/kchaos/history"
)

// Settings are the cluster timeouts the measurements are compared with; zero when unknown.
type Settings struct {
	// SessionTimeout bounds failover: how long the cluster waits for a broker that stopped
	// answering before it elects other leaders for its partitions. It is the setting
	// SessionTimeoutSetting names (its JSON name is from before KRaft runs).
	SessionTimeout time.Duration `json:"zookeeper_session_timeout"`
	// SessionTimeoutSetting is the server property SessionTimeout is: zookeeper.session.timeout.ms
	// in ZooKeeper mode, broker.session.timeout.ms (the KRaft controllers') in KRaft mode. Empty
	// when not known, as in results.json written before it was recorded: see SessionSetting.
	SessionTimeoutSetting string        `json:"session_timeout_setting,omitempty"`
	ReplicaLagMax         time.Duration `json:"replica_lag_time_max"`
}

// SessionSetting returns the server property SessionTimeout is: SessionTimeoutSetting, else, for
// a SessionTimeout recorded without it (before KRaft runs named theirs, every one was the
// spec's), zookeeper.session.timeout.ms; "" when neither is known.
func (s Settings) SessionSetting() string {
	switch {
	case s.SessionTimeoutSetting != "":
		return s.SessionTimeoutSetting
	case s.SessionTimeout > 0:
		return "zookeeper.session.timeout.ms"
	}
	return ""
}

// Summary is the ISR dynamics of one run.
type Summary struct {
	Settings  Settings    `json:"settings"`
	Failovers []Failover  `json:"failovers"`
	Leaves    []ISRLeave  `json:"isr_leaves"`
	Verdicts  Conclusions `json:"conclusions"`
}

// Failover is a fault that hit the leader of a partition, and what leadership did after it.
type Failover struct {
	Key string `json:"key"`
	// Fault is the nemesis f that hit the leader (start-kill, start-pause, start-partition, ...).
	Fault     string `json:"fault"`
	FaultTime int64  `json:"fault_time"` // ns since the test started
	OldLeader int    `json:"old_leader"`
	// NewLeader is the first other broker that led the key after the fault, -1 if none did.
	NewLeader int   `json:"new_leader"`
	Elected   int64 `json:"elected_time,omitempty"`
	// FailoverMs is the time from the fault to the new leader, -1 when no other broker led.
	FailoverMs int64 `json:"failover_ms"`
}

// ISRLeave is a broker leaving a key's ISR and, if it did, rejoining it.
type ISRLeave struct {
	Key    string `json:"key"`
	Broker int    `json:"broker"`
	Left   int64  `json:"left_time"`
	// Rejoined is when the broker was seen in the ISR again, 0 if never.
	Rejoined int64 `json:"rejoined_time,omitempty"`
	// OutMs is how long it was out, -1 if it never came back.
	OutMs int64 `json:"out_ms"`
	// Fault is the fault active on the broker when it left ("" when none), and FaultEnd when that
	// fault stopped (0 if it never did).
	Fault    string `json:"fault,omitempty"`
	FaultEnd int64  `json:"fault_end_time,omitempty"`
	// RejoinAfterHealMs is the time from the end of that fault to the rejoin, -1 when it does not
	// apply (no fault, or no rejoin).
	RejoinAfterHealMs int64 `json:"rejoin_after_heal_ms"`
	// Restarted is true when the broker was killed by the fault, so it came back by a restart,
	// not by itself.
	Restarted bool `json:"restarted"`
}

// Conclusions answer the questions the summary is for.
type Conclusions struct {
	// MedianFailoverMs is the median of the failovers that elected a new leader, -1 with none.
	MedianFailoverMs int64 `json:"median_failover_ms"`
	// Leaves counts ISR departures; RejoinedByItself those that rejoined without a restart;
	// NeverRejoined those still out at the end of the history.
	Leaves           int `json:"leaves"`
	RejoinedByItself int `json:"rejoined_by_itself"`
	NeverRejoined    int `json:"never_rejoined"`
	// Answer is one sentence a person can read.
	Answer string `json:"answer"`
}

// fault is one start..stop window of the nemesis and the brokers it hit.
type fault struct {
	f          string // start-kill, ...
	start, end int64  // end 0: never stopped
	brokers    []int
	// stopsLeader is true for faults that take a broker away from ZooKeeper and the other brokers
	// as a whole (kill, pause, ZooKeeper or controller isolation, the isolation step of
	// jepsen-2013): a leader
	// among its brokers must be replaced. A partition may leave a leader on the majority side.
	stopsLeader bool
}

// leaderStoppers are the nemesis fs of faults that stop whole brokers.
var leaderStoppers = []string{"start-kill", "start-pause", "start-zk-isolate", "start-controller-isolate", "isolate-jepsen-2013"}

// Summarize measures the ISR dynamics of a history.
func Summarize(ops []history.Op, settings Settings) Summary {
	faults := nemesisFaults(ops)
	s := Summary{Settings: settings, Failovers: []Failover{}, Leaves: []ISRLeave{}}
	type keyState struct {
		last  history.PartitionState
		seen  bool
		leave map[int]int // broker → position in s.Leaves of its open departure
	}
	states := map[string]*keyState{}
	type pending struct {
		idx    int
		leader int
	}
	var open []pending // failovers waiting for a new leader
	startsAt := 0
	for i := range ops {
		op := &ops[i]
		// Faults that start now: open a failover for each key whose leader they hit.
		for startsAt < len(faults) && faults[startsAt].start <= op.Time {
			fl := faults[startsAt]
			startsAt++
			// Keys in order, so the same history gives the same failovers in the same order.
			for _, key := range slices.Sorted(maps.Keys(states)) {
				st := states[key]
				if fl.stopsLeader && st.seen && st.last.Leader >= 0 && slices.Contains(fl.brokers, st.last.Leader) {
					s.Failovers = append(s.Failovers, Failover{Key: key, Fault: fl.f, FaultTime: fl.start,
						OldLeader: st.last.Leader, NewLeader: -1, FailoverMs: -1})
					open = append(open, pending{idx: len(s.Failovers) - 1, leader: st.last.Leader})
				}
			}
		}
		if op.Process != history.ObserverProcess || op.F != history.FPartitionState {
			continue
		}
		ps, err := op.PartitionState()
		if err != nil {
			continue
		}
		st := states[ps.Key]
		if st == nil {
			st = &keyState{leave: map[int]int{}}
			states[ps.Key] = st
		}
		if st.seen {
			for _, b := range st.last.ISR {
				if !ps.InISR(b) {
					l := ISRLeave{Key: ps.Key, Broker: b, Left: op.Time, OutMs: -1, RejoinAfterHealMs: -1}
					if fl := faultOn(faults, b, op.Time); fl != nil {
						l.Fault, l.FaultEnd, l.Restarted = fl.f, fl.end, fl.f == "start-kill"
					}
					s.Leaves = append(s.Leaves, l)
					st.leave[b] = len(s.Leaves) - 1
				}
			}
			for _, b := range ps.ISR {
				if at, ok := st.leave[b]; ok && !st.last.InISR(b) {
					l := &s.Leaves[at]
					l.Rejoined, l.OutMs = op.Time, (op.Time-l.Left)/int64(time.Millisecond)
					if l.FaultEnd > 0 && op.Time >= l.FaultEnd {
						l.RejoinAfterHealMs = (op.Time - l.FaultEnd) / int64(time.Millisecond)
					}
					delete(st.leave, b)
				}
			}
		}
		// A new leader closes the failovers of its key.
		kept := open[:0]
		for _, p := range open {
			fo := &s.Failovers[p.idx]
			if fo.Key == ps.Key && ps.Leader >= 0 && ps.Leader != p.leader {
				fo.NewLeader, fo.Elected = ps.Leader, op.Time
				fo.FailoverMs = (op.Time - fo.FaultTime) / int64(time.Millisecond)
				continue
			}
			kept = append(kept, p)
		}
		open = kept
		st.last, st.seen = ps, true
	}
	s.Verdicts = conclude(s)
	return s
}

func conclude(s Summary) Conclusions {
	c := Conclusions{MedianFailoverMs: -1, Leaves: len(s.Leaves)}
	var times []int64
	for _, f := range s.Failovers {
		if f.FailoverMs >= 0 {
			times = append(times, f.FailoverMs)
		}
	}
	if len(times) > 0 {
		slices.Sort(times)
		c.MedianFailoverMs = times[len(times)/2]
	}
	for _, l := range s.Leaves {
		switch {
		case l.OutMs < 0:
			c.NeverRejoined++
		case !l.Restarted:
			c.RejoinedByItself++
		}
	}
	var b strings.Builder
	switch {
	case c.Leaves == 0:
		b.WriteString("No follower left an ISR.")
	case c.NeverRejoined == 0:
		b.WriteString("Every follower that left an ISR came back")
		if c.RejoinedByItself == c.Leaves {
			b.WriteString(" by itself, without a restart.")
		} else {
			b.WriteString("; those whose broker was killed came back through its restart.")
		}
	default:
		b.WriteString("Some followers that left an ISR never came back before the history ended.")
	}
	c.Answer = b.String()
	return c
}

// nemesisFaults reads the fault windows of the history (history.FaultWindows) that happened,
// in start order, with the brokers each hit. A step of a fault, such as the leader's isolation
// in jepsen-2013, is a fault of its own here: it may stop a leader its parent left in place.
func nemesisFaults(ops []history.Op) []fault {
	var out []fault
	for _, w := range history.FaultWindows(ops) {
		if w.Error != "" {
			continue // it did not happen
		}
		fl := fault{f: w.F, start: w.StartTime, brokers: brokersIn(w.Value), stopsLeader: slices.Contains(leaderStoppers, w.F)}
		if w.Stopped {
			fl.end = w.StopTime
		}
		out = append(out, fl)
	}
	return out
}

// brokersIn returns the ids of the brokers a nemesis value hits (history.NemesisValue.Hit), sorted.
func brokersIn(raw json.RawMessage) []int {
	var ids []int
	for _, n := range history.DecodeNemesisValue(raw).Hit() {
		if id, ok := history.BrokerID(n); ok && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// faultOn returns the fault active on broker at time t, or nil.
func faultOn(faults []fault, broker int, t int64) *fault {
	for i := len(faults) - 1; i >= 0; i-- {
		f := &faults[i]
		if f.start <= t && (f.end == 0 || t <= f.end) && slices.Contains(f.brokers, broker) {
			return f
		}
	}
	return nil
}
