package checkers

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/history"
)

// The checker names, keys of results.json's "checkers".
const (
	CheckerQueue          = "queue"
	CheckerLinearizable   = "linearizable"
	CheckerLeaderElection = "leader-election"
	CheckerStats          = "stats"
)

// Options tune Check. The zero Options are the defaults.
type Options struct {
	// LinearizabilityTimeout bounds the linearizability check of each key; a key that takes
	// longer is unknown. Zero means DefaultLinearizabilityTimeout.
	LinearizabilityTimeout time.Duration
	// Workers is how many keys are checked for linearizability at once; zero means GOMAXPROCS.
	Workers int
	// Cluster holds the timeouts the ISR dynamics are set against; zero when unknown.
	Cluster dynamics.Settings
	// ExpectFinalReads says the history comes from a kchaos run, which ends with final reads and
	// a final-read line per key: a key without one had none (the run was killed), and what was
	// never read there cannot be judged.
	ExpectFinalReads bool
	// ObservedFromCreation says the observer watched ZooKeeper from before the topics were
	// created, as in a kchaos run: a partition the clients used must have its states from the
	// znode's first version on, or the leader-election checker cannot decide.
	ObservedFromCreation bool
	// UncleanLeaderElectionAllowed says the cluster ran with unclean.leader.election.enable:
	// unclean elections are listed but do not make the verdict invalid.
	UncleanLeaderElectionAllowed bool
	// Producer and Isolation are the run's producers ("plain", "idempotent", "transactional") and
	// consumers' isolation level ("read_uncommitted", "read_committed"); "" is transactional and
	// read_committed, what Kafka promises most. They set what the txn checker allows, and whether
	// the queue checker's G1a is allowed (read_uncommitted consumers of transactional producers
	// read aborted records by design). The txn checker runs on histories with txn operations and
	// on runs whose producers are not plain.
	Producer  string
	Isolation string
}

// Check runs every checker on a history and combines their verdicts: invalid when an anomaly is
// found outside the allowed ones, else unknown when a checker could not decide, else valid. It
// fails only on a history it cannot make sense of (see Analyze) and on unknown producer or
// isolation names.
func Check(ops []history.Op, opts Options) (*Result, error) {
	if _, err := txnOptionsOf(opts); err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	a, err := Analyze(ops)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	return CheckAnalysis(a, opts), nil
}

// CheckAnalysis is Check on an analyzed history.
func CheckAnalysis(a *Analysis, opts Options) *Result {
	r := &Result{}
	// An aborted transaction's records are in the log, and read_uncommitted consumers read
	// them: there, a failed send is one the linearizable checker may see.
	a.AbortedVisible = abortedReadsAllowed(opts)
	// Without transactions the sends of one txn operation are independent records.
	a.NonAtomic = !transactional(opts)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.Linearizable = CheckLinearizable(a, opts.LinearizabilityTimeout, opts.Workers)
	}()
	var txnErr error
	wg.Go(func() { r.Txn, txnErr = checkTxn(a, opts) })
	r.Queue = checkQueue(a, opts.ExpectFinalReads, abortedReadsAllowed(opts))
	r.LeaderElection = CheckLeaderElection(a, opts.ObservedFromCreation, opts.UncleanLeaderElectionAllowed)
	r.Stats = ComputeStats(a)
	r.Coverage = checkCoverage(a, a.electionTimes())
	dyn := dynamics.Summarize(a.Ops, opts.Cluster)
	r.Stats.ISRDynamics = &dyn
	wg.Wait()

	r.Anomalies = r.Queue.anomalies()
	for i := range r.Linearizable.Cases {
		r.Anomalies[NotLinearizable] = append(r.Anomalies[NotLinearizable], &r.Linearizable.Cases[i])
	}
	for i := range r.LeaderElection.Cases {
		r.Anomalies[UncleanLeaderElection] = append(r.Anomalies[UncleanLeaderElection], &r.LeaderElection.Cases[i])
	}
	if r.Txn != nil {
		mergeTxnAnomalies(r.Anomalies, r.Txn)
	}
	r.AnomalyTypes = make([]string, 0, len(r.Anomalies))
	for name := range r.Anomalies {
		r.AnomalyTypes = append(r.AnomalyTypes, name)
	}
	sort.Strings(r.AnomalyTypes)
	r.Checkers = map[string]any{
		CheckerQueue:          r.Queue,
		CheckerLinearizable:   r.Linearizable,
		CheckerLeaderElection: r.LeaderElection,
		CheckerStats:          r.Stats,
		CheckerCoverage:       r.Coverage,
	}
	verdicts := []Validity{r.Queue.Valid, r.Linearizable.Valid, r.Coverage.Valid}
	if r.LeaderElection.Checked {
		verdicts = append(verdicts, r.LeaderElection.Valid)
	}
	switch {
	case r.Txn != nil:
		r.Checkers[CheckerTxn] = r.Txn
		verdicts = append(verdicts, r.Txn.Valid)
	case txnErr != nil:
		r.Checkers[CheckerTxn] = map[string]any{"valid": Unknown, "error": txnErr.Error()}
		verdicts = append(verdicts, Unknown)
	}
	r.Valid = worst(verdicts...)
	return r
}
