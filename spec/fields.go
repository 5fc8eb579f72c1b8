package spec

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/workloads/txn"
)

// Field is one setting of a run: its flag of kchaos run, its default and its place in the spec.
// Fields is the one table that flags, defaults, validation of explicit values and the re-run
// command are made from, so that none of them can forget a field.
type Field struct {
	// Flag is the flag's name, without dashes (Jepsen's where Jepsen has one).
	Flag string
	// Default is the value taken when the flag is absent, as the flag's text; "" when the zero
	// value is the default.
	Default string
	// Usage is the flag's help text.
	Usage string
	// value binds the field of a spec as a flag value.
	value func(*Spec) fieldValue
	// derive, for a setting whose default follows other settings (--kafka-version 4.1.1 says
	// --metadata kraft, --producer transactional says --workload txn), returns that default for s
	// as the flag's text; Default is then only what the help shows. nil for a fixed default.
	derive func(s Spec) string
}

// fieldValue is a flag.Value bound to one field of a spec that can also tell whether it is unset.
type fieldValue interface {
	flag.Value
	isZero() bool
}

// DefaultNemesis is the fault mix of a run that names none: the faults that force failover.
const DefaultNemesis = "kill,pause,partition"

// Fields is every setting of a run, in the order the re-run command writes them.
var Fields = append(runFields, ClusterFields...)

// runFields are the settings of the workload, the faults and the run itself.
var runFields = []Field{
	{"name", "kchaos", "test name: the run goes to RESULTS_DIR/NAME/TIMESTAMP", func(s *Spec) fieldValue { return (*stringValue)(&s.Name) }, nil},
	{"workload", "queue", "client workload: queue (Jepsen's queue, kafka-go) or txn (transactions of sends and polls, franz-go; implied by --producer idempotent|transactional and --isolation read_committed)", func(s *Spec) fieldValue { return (*stringValue)(&s.Workload) }, derivedWorkload},
	{"producer", "plain", "txn workload's producers: plain, idempotent or transactional", func(s *Spec) fieldValue { return (*stringValue)(&s.Producer) }, nil},
	{"isolation", "", "txn workload's consumers' isolation.level: read_uncommitted or read_committed (default: read_committed with transactional producers, else read_uncommitted)", func(s *Spec) fieldValue { return (*stringValue)(&s.Isolation) }, func(s Spec) string { return string(txn.DefaultIsolation(txn.Producer(s.Producer))) }},
	{"abort-rate", "0.1", "share of transactions transactional producers abort, within 0..1", func(s *Spec) fieldValue { return (*abortRateValue)(&s.AbortRate) }, nil},
	{"keep-producer", "", "transactional producers only: a client retired after an unknown outcome hands its franz-go producer (same producer id and epoch) to its successor instead of closing it, as a client that does not re-initialise its producer on indefinite errors", func(s *Spec) fieldValue { return (*boolValue)(&s.KeepProducer) }, nil},
	{"topic", "kchaos", "topic holding the workload's keys", func(s *Spec) fieldValue { return (*stringValue)(&s.Topic) }, nil},
	{"partitions", "4", "partitions of the topic: the keys", func(s *Spec) fieldValue { return (*intValue)(&s.Partitions) }, nil},
	{"acks", "all", "producer acks: all, 1 or 0", func(s *Spec) fieldValue { return (*stringValue)(&s.Acks) }, nil},
	{"subscribe", "", "consumers subscribe through a consumer group instead of assigning partitions", func(s *Spec) fieldValue { return (*boolValue)(&s.Subscribe) }, nil},
	{"nemesis", DefaultNemesis, "faults: none, all (every fault the cluster can run), or a comma list of kill,pause,partition,zk-isolate (ZooKeeper mode),controller-isolate (KRaft mode),lag,jepsen-2013,crash,power-loss,disk-full,disk-error,slow-disk (these five need --faultfs),isr-drain,isr-drain-clean (KRaft, 4 brokers)", func(s *Spec) fieldValue { return (*listValue)(&s.Nemesis) }, nil},
	{"nemesis-interval", "20s", "time between faults, and how long each lasts: at least what the fault needs to play out (the session timeout + 2s for kill, pause, partition)", func(s *Spec) fieldValue { return (*durationValue)(&s.NemesisInterval) }, nil},
	{"nemesis-targets", "", "comma list of targets faults draw from: one, minority, majority, all, primaries, controller, and in KRaft mode controllers-minority, controllers-majority (default all but the last two)", func(s *Spec) fieldValue { return (*listValue)(&s.NemesisTargets) }, nil},
	{"nemesis-shapes", "", "comma list of partition shapes: isolate, halves, majorities-ring, bridge, one-way (default all of them)", func(s *Spec) fieldValue { return (*listValue)(&s.NemesisShapes) }, nil},
	{"nemesis-traffic", "all", "what partitions cut: all (brokers, ZooKeeper, clients) or brokers", func(s *Spec) fieldValue { return (*stringValue)(&s.NemesisTraffic) }, nil},
	{"time-limit", "60s", "how long the workload and faults run", func(s *Spec) fieldValue { return (*durationValue)(&s.TimeLimit) }, nil},
	{"concurrency", "10", "client workers", func(s *Spec) fieldValue { return (*intValue)(&s.Concurrency) }, nil},
	{"rate", "200", "target operations per second over all workers (unlimited, or 0: as fast as they go)", func(s *Spec) fieldValue { return (*rateValue)(&s.Rate) }, nil},
	{"seed", "", "seed of the workload's and the nemesis' choices (default: drawn from the clock and recorded)", func(s *Spec) fieldValue { return (*int64Value)(&s.Seed) }, nil},
	{"results-dir", "results", "where run directories go", func(s *Spec) fieldValue { return (*stringValue)(&s.ResultsDir) }, nil},
	{"op-timeout", "5s", "time after which an operation's outcome is unknown", func(s *Spec) fieldValue { return (*durationValue)(&s.OpTimeout) }, nil},
	{"recovery-timeout", "2m0s", "wait for brokers and leaders after healing", func(s *Spec) fieldValue { return (*durationValue)(&s.RecoveryTimeout) }, nil},
	{"final-read-timeout", "2m0s", "time limit of the final reads", func(s *Spec) fieldValue { return (*durationValue)(&s.FinalReadTimeout) }, nil},
}

// ClusterFields are the settings of the cluster (kchaos cluster up takes these alone); broker
// owns their meaning and derived defaults.
var ClusterFields = []Field{
	{"kafka-version", broker.DefaultKafkaVersion, "Kafka release the image holds (3.x: ZooKeeper or KRaft; 4.x: KRaft only)", func(s *Spec) fieldValue { return (*stringValue)(&s.Cluster.KafkaVersion) }, nil},
	{"image", "", "Kafka image (default " + broker.ImagePrefix + "<kafka-version>; any image laid out like the official one, e.g. apache/kafka:4.1.1)", func(s *Spec) fieldValue { return (*stringValue)(&s.Cluster.Image) }, func(s Spec) string { return s.Cluster.WithDefaults().Image }},
	{"metadata", "", "metadata mode: zookeeper or kraft (default zookeeper for 3.x, kraft for 4.x)", func(s *Spec) fieldValue { return (*stringValue)(&s.Cluster.Metadata) }, func(s Spec) string { return s.Cluster.WithDefaults().Metadata }},
	{"controllers", "", "KRaft controller voters (default 3, or 1 with one broker; implies --metadata kraft)", func(s *Spec) fieldValue { return (*intValue)(&s.Cluster.Controllers) }, func(s Spec) string { return strconv.Itoa(s.Cluster.WithDefaults().Controllers) }},
	{"controller-mode", "", "KRaft controllers: combined (on brokers n1..) or dedicated (nodes c1.. of their own) (default combined; implies --metadata kraft)", func(s *Spec) fieldValue { return (*stringValue)(&s.Cluster.ControllerMode) }, func(s Spec) string { return s.Cluster.WithDefaults().ControllerMode }},
	{"brokers", strconv.Itoa(broker.DefaultBrokers), "number of Kafka brokers", func(s *Spec) fieldValue { return (*intValue)(&s.Cluster.Brokers) }, nil},
	{"zk-nodes", strconv.Itoa(broker.DefaultZooKeeperNodes), "number of ZooKeeper nodes (1 or 3)", func(s *Spec) fieldValue { return (*intValue)(&s.Cluster.ZooKeeperNodes) }, nil},
	{"replication-factor", strconv.Itoa(broker.DefaultReplicationFactor), "default.replication.factor", func(s *Spec) fieldValue { return (*intValue)(&s.Cluster.ReplicationFactor) }, nil},
	{"min-insync-replicas", strconv.Itoa(broker.DefaultMinInsyncReplicas), "min.insync.replicas", func(s *Spec) fieldValue { return (*intValue)(&s.Cluster.MinInsyncReplicas) }, nil},
	{"unclean-leader-election", "", "unclean.leader.election.enable", func(s *Spec) fieldValue { return (*boolValue)(&s.Cluster.UncleanLeaderElection) }, nil},
	{"replica-lag-time-max-ms", strconv.Itoa(broker.DefaultReplicaLagTimeMaxMs), "replica.lag.time.max.ms", func(s *Spec) fieldValue { return (*intValue)(&s.Cluster.ReplicaLagTimeMaxMs) }, nil},
	{"zookeeper-session-timeout-ms", strconv.Itoa(broker.DefaultZooKeeperSessionTimeoutMs), "zookeeper.session.timeout.ms", func(s *Spec) fieldValue { return (*intValue)(&s.Cluster.ZooKeeperSessionTimeoutMs) }, nil},
	{"broker-heap-mb", strconv.Itoa(broker.DefaultBrokerHeapMB), "JVM heap of each broker, in MB", func(s *Spec) fieldValue { return (*intValue)(&s.Cluster.BrokerHeapMB) }, nil},
	{"zk-heap-mb", strconv.Itoa(broker.DefaultZooKeeperHeapMB), "JVM heap of each ZooKeeper node, in MB", func(s *Spec) fieldValue { return (*intValue)(&s.Cluster.ZooKeeperHeapMB) }, nil},
	{"server-property", "", "any other server.properties `key=value` (repeatable)", func(s *Spec) fieldValue { return (*propertiesValue)(&s.Cluster.ServerProperties) }, nil},
	{"feature", "", "KRaft feature `name=level` set when the storage is formatted (repeatable), e.g. " + broker.FeatureELR + "=0 for Kafka 4.1 without eligible leader replicas (default: the release's levels)", func(s *Spec) fieldValue { return (*featuresValue)(&s.Cluster.Features) }, nil},
	{"faultfs", "", "serve each broker's log dir from a faultfs FUSE mount that loses what was never fsynced (needed by crash, power-loss, disk-full, disk-error, slow-disk)", func(s *Spec) fieldValue { return (*boolValue)(&s.Cluster.FaultFS) }, nil},
}

// Defaults returns the spec of a run given no flags, but for its seed (zero: drawn at the start).
func Defaults() Spec {
	var s Spec
	for _, f := range Fields {
		if f.Default != "" {
			if err := f.value(&s).Set(f.Default); err != nil {
				panic(fmt.Sprintf("spec: default %q of --%s: %v", f.Default, f.Flag, err)) // a bug in the table
			}
		}
	}
	return s
}

// RegisterFlags registers each of fields (Fields, or ClusterFields) on fs, bound to s; s should
// hold Defaults.
func RegisterFlags(fs *flag.FlagSet, s *Spec, fields []Field) {
	for _, f := range fields {
		fs.Var(f.value(s), f.Flag, f.Usage)
	}
}

// FromFlags returns the spec that flags registered by RegisterFlags on s describe, once fs is
// parsed: a seed drawn from the clock when --seed was absent, the derived defaults (the workload
// and isolation of the producer; the image, metadata mode and controllers of the version) of the
// flags absent, and every value as given, so that an explicit zero or empty value reaches Validate
// instead of turning into a default.
func FromFlags(fs *flag.FlagSet, s Spec) Spec {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["seed"] {
		s.Seed = ClockSeed()
	}
	return withDerived(s, func(f Field) bool { return !given[f.Flag] })
}

// withDerived returns s with every derived field for which unset is true set to what its derive
// gives for s as it was: a derived default follows the fields given, never another derived one.
func withDerived(s Spec, unset func(Field) bool) Spec {
	from := s
	for _, f := range Fields {
		if f.derive != nil && unset(f) {
			mustSet(f, &s, f.derive(from))
		}
	}
	return s
}

// mustSet sets f of s to text, which the table itself produced: an error is a bug in the table.
func mustSet(f Field, s *Spec, text string) {
	if err := f.value(s).Set(text); err != nil {
		panic(fmt.Sprintf("spec: value %q of --%s: %v", text, f.Flag, err))
	}
}

// derivedWorkload is the workload a spec that names none runs: txn when its producer or isolation
// asks for what only the txn workload's franz-go clients do (idempotent or transactional
// producers, read_committed fetches), as --controllers implies --metadata kraft; else the queue.
func derivedWorkload(s Spec) string {
	if p := txn.Producer(s.Producer); (p != "" && p != txn.Plain) || txn.Isolation(s.Isolation) == txn.ReadCommitted {
		return "txn"
	}
	return "queue"
}

// ParseArgs parses the flags of kchaos run into a validated spec. It is what the CLI does and
// what the re-run command is parsed back with.
func ParseArgs(args []string) (Spec, error) {
	fs := flag.NewFlagSet("kchaos run", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	s := Defaults()
	RegisterFlags(fs, &s, Fields)
	if err := fs.Parse(args); err != nil {
		return Spec{}, err
	}
	if fs.NArg() > 0 {
		return Spec{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	s = FromFlags(fs, s)
	return s, s.Validate()
}

// RerunArgs returns the flags of kchaos run that run s again: every field that differs from its
// default (for a derived one, from what the fields it follows derive), and always the seed.
// ParseArgs(RerunArgs(s)) gives s back.
func RerunArgs(s Spec) []string {
	// A derived default follows the other fields: --kafka-version 4.1.1 alone says --metadata
	// kraft. Derived fields are derived from s without them, as FromFlags derives them from s
	// without the flags absent: --controllers 3 and --metadata kraft imply each other, and naming
	// neither would lose both.
	def, without := Defaults(), s
	for _, f := range Fields {
		if f.derive != nil {
			mustSet(f, &without, f.value(&Spec{}).String())
		}
	}
	for _, f := range Fields {
		if f.derive != nil {
			mustSet(f, &def, f.derive(without))
		}
	}
	var args []string
	for _, f := range Fields {
		v, d := f.value(&s), f.value(&def)
		if f.Flag != "seed" && v.String() == d.String() {
			continue
		}
		switch v := v.(type) {
		case *boolValue:
			args = append(args, fmt.Sprintf("--%s=%t", f.Flag, bool(*v)))
		case *propertiesValue:
			for _, k := range slices.Sorted(maps.Keys(*v)) {
				args = append(args, "--"+f.Flag, k+"="+(*v)[k])
			}
		case *featuresValue:
			for _, k := range slices.Sorted(maps.Keys(*v)) {
				args = append(args, "--"+f.Flag, fmt.Sprintf("%s=%d", k, (*v)[k]))
			}
		default:
			args = append(args, "--"+f.Flag, v.String())
		}
	}
	return args
}

// RerunCommand is RerunArgs as one shell command line, each argument quoted where the shell
// needs it.
func RerunCommand(s Spec) string {
	parts := []string{"kchaos", "run"}
	for _, a := range RerunArgs(s) {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes a for a POSIX shell unless it is made only of safe characters.
func shellQuote(a string) string {
	if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=@%+") == "" {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// The flag values, each bound to one field.
type (
	stringValue     string
	intValue        int
	int64Value      int64
	rateValue       float64
	boolValue       bool
	abortRateValue  float64
	durationValue   Duration
	listValue       []string
	propertiesValue map[string]string
	featuresValue   map[string]int
)

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) isZero() bool       { return *v == "" }

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = intValue(n)
	return nil
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) isZero() bool   { return *v == 0 }

func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = int64Value(n)
	return nil
}
func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *int64Value) isZero() bool   { return *v == 0 }

// Set reads a rate: a positive number, or "unlimited" (also "0", as kchaos has always read it).
func (v *rateValue) Set(s string) error {
	if s == "unlimited" {
		*v = Unlimited
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number or \"unlimited\"", s)
	}
	switch {
	case f < 0:
		return fmt.Errorf("%q is negative", s)
	case f == 0:
		f = Unlimited
	}
	*v = rateValue(f)
	return nil
}
func (v *rateValue) String() string {
	if *v == Unlimited {
		return "unlimited"
	}
	return strconv.FormatFloat(float64(*v), 'g', -1, 64)
}
func (v *rateValue) isZero() bool { return *v == 0 }

// Set reads a share within [0, 1]; an explicit 0 is kept as NoAborts, so that no default
// replaces it.
func (v *abortRateValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	if f == 0 {
		f = NoAborts
	}
	*v = abortRateValue(f)
	return nil
}
func (v *abortRateValue) String() string {
	return strconv.FormatFloat(max(0, float64(*v)), 'g', -1, 64)
}
func (v *abortRateValue) isZero() bool { return *v == 0 }

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) isZero() bool     { return !bool(*v) }
func (v *boolValue) IsBoolFlag() bool { return true }

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 90s or 2m", s)
	}
	*v = durationValue(d)
	return nil
}
func (v *durationValue) String() string { return time.Duration(*v).String() }
func (v *durationValue) isZero() bool   { return *v == 0 }

// Set reads a comma list; each flag given replaces the list. An empty text is an empty list.
func (v *listValue) Set(s string) error {
	*v = nil
	if s == "" {
		*v = listValue{}
		return nil
	}
	for _, item := range strings.Split(s, ",") {
		*v = append(*v, strings.TrimSpace(item))
	}
	return nil
}
func (v *listValue) String() string { return strings.Join(*v, ",") }
func (v *listValue) isZero() bool   { return *v == nil }

// Set adds one key=value; the flag repeats.
func (v *propertiesValue) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	if *v == nil {
		*v = propertiesValue{}
	}
	(*v)[k] = val
	return nil
}
func (v *propertiesValue) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(*v)) {
		parts = append(parts, k+"="+(*v)[k])
	}
	return strings.Join(parts, ",")
}
func (v *propertiesValue) isZero() bool { return len(*v) == 0 }

// Set reads a KRaft feature as StorageTool takes it: name=level.
func (v *featuresValue) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=level, got %q", s)
	}
	level, err := strconv.Atoi(val)
	if err != nil {
		return fmt.Errorf("%s: level %q is not an integer", k, val)
	}
	if *v == nil {
		*v = featuresValue{}
	}
	(*v)[k] = level
	return nil
}
func (v *featuresValue) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(*v)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, (*v)[k]))
	}
	return strings.Join(parts, ",")
}
func (v *featuresValue) isZero() bool { return len(*v) == 0 }
