package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/campaign"
	"github.com/kchaos/kchaos/harness"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/suites"
)

func init() {
	commands["bench"] = command{summary: "measure kchaos itself: detect (how often a scenario finds what it must), throughput", run: runBench}
}

const benchUsage = `usage:
  kchaos bench detect --scenario NAME [--runs 10] [--results-dir results] [--time-limit D] [--seed N] [--kafka-timeouts]
               [--kafka-version V] [--metadata zookeeper|kraft]
  kchaos bench detect --list
  kchaos bench matrix --versions 3.9.1/zookeeper,3.9.1/kraft,4.1.1 --scenarios safe-kill,acks1-kill,...
               [--runs 10] [--seed N] [--results-dir results/matrix] [--time-limit D] [--kafka-timeouts] [--out FILE]
  kchaos bench matrix --from DIR [DIR...] [--out FILE]
  kchaos bench throughput [--levels 1,4,16,64] [--phase 10s] [--rounds 2] [--partitions 8] [--out FILE]

detect runs a scenario N times and prints how many runs found the expected anomalies (unsafe
scenarios) or how many were not valid (safe scenarios: false positives), and the median time to
the first fault that exposed the anomaly. It exits 0 when the scenario meets its bar (detected in at
least 90 % of runs; for a safe scenario, at least 90 % valid and none invalid), 1 when not, 3 when
no run could be done. Valid, unknown and invalid runs are always counted apart, and a run that could
not be done (a cluster that never became ready, a fault Docker refused) is counted apart from them
and against the bar.

matrix runs each scenario on each version as detect does (a version V alone takes its default
metadata mode: ZooKeeper for 3.x, KRaft for 4.x), its runs under DIR/<version>/<metadata>/<scenario>/,
then prints a table of version x scenario computed from those run directories: kind (safe, unsafe
with its expected anomalies, explore), runs, valid, unknown, invalid, not finished, detected, the
median time to the exposing fault, the seeds, and whether the row meets its bar. --from DIR runs
nothing and tabulates every run directory under the DIRs (campaigns of bench detect --results-dir
too); a run without results.json is not finished and counts against the bar, and runs whose spec
differs from their scenario's definition (--kafka-timeouts, --time-limit, a scenario changed
since) are rows of their own. --out FILE.md writes the Markdown, --out FILE.html a self-contained
page whose counts link to each run's report.html, any other --out FILE both FILE.md and FILE.html.
Every version and scenario is checked before anything starts (exit 3 naming the bad one); the exit
is 0 when every row meets its bar, 1 when not, 3 when there is no run.

throughput starts a cluster and measures, at each concurrency, the ok sends and polls per second
and their latencies of kchaos's workload (recording its history) and of the same requests through
kafka-go alone, in alternating phases, and prints a Markdown table (also written to --out).
`

func runBench(args []string) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(os.Stdout, benchUsage)
		return exitValid
	}
	if len(args) > 0 && args[0] == "throughput" {
		return runBenchThroughput(args[1:])
	}
	if len(args) > 0 && args[0] == "matrix" {
		return runBenchMatrix(args[1:])
	}
	if len(args) == 0 || args[0] != "detect" {
		fmt.Fprint(os.Stderr, benchUsage)
		return exitError
	}
	fs := flag.NewFlagSet("kchaos bench detect", flag.ContinueOnError)
	name := fs.String("scenario", "", "scenario to run (see --list)")
	list := fs.Bool("list", false, "list the scenarios")
	runs := fs.Int("runs", 10, "number of runs")
	resultsDir := fs.String("results-dir", "results", "where run directories go")
	timeLimit := fs.Duration("time-limit", 0, "override the scenario's time limit")
	seed := fs.Int64("seed", 1, "seed of the first run; run i uses seed+i")
	kafkaTimeouts := fs.Bool("kafka-timeouts", false, "run on Kafka's own timeouts (session 18 s, replica lag 30 s; faults of 20 s, runs of at least 120 s) instead of the suites' short ones")
	version := fs.String("kafka-version", broker.DefaultKafkaVersion, "Kafka release to run the scenario on (its image: kchaos setup --kafka V)")
	metadata := fs.String("metadata", "", "metadata mode: zookeeper or kraft (default zookeeper for 3.x, kraft for 4.x)")
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	if *list {
		for _, n := range suites.Names() {
			s, _ := suites.Get(n)
			fmt.Printf("%-28s %s\n", n, s.About)
		}
		return 0
	}
	scenario, err := suites.Get(*name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kchaos bench detect:", err)
		return exitError
	}
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "kchaos bench detect: --runs must be at least 1")
		return exitError
	}
	if *kafkaTimeouts {
		scenario = scenario.WithKafkaTimeouts()
	}
	if scenario, err = scenario.On(*version, *metadata); err != nil {
		fmt.Fprintln(os.Stderr, "kchaos bench detect:", err)
		return exitError
	}
	if err := scenario.Spec.WithDefaults().Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "kchaos bench detect: scenario %s on Kafka %s: %v\n", scenario.Name, scenario.Version(), err)
		return exitError
	}
	ctx, stop := interruptContext()
	defer stop()
	tally, _ := runScenario(ctx, scenario, scenarioRuns{runs: *runs, seed: *seed, resultsDir: *resultsDir, timeLimit: *timeLimit})
	fmt.Println(tally.Summary(scenario))
	if tally.Runs == 0 {
		return exitError
	}
	if tally.MeetsBar(scenario) {
		return 0
	}
	return exitInvalid
}

// scenarioRuns says how to run a scenario: how many times, from which seed, where to.
type scenarioRuns struct {
	runs       int
	seed       int64 // run i uses seed+i
	resultsDir string
	timeLimit  time.Duration // overrides the scenario's when positive
}

// runScenario runs scenario r.runs times, one line per run on stdout, and returns their tally
// and the run directories made. It is the loop of bench detect and of each cell of bench matrix.
// It stops early when ctx is cancelled.
func runScenario(ctx context.Context, scenario suites.Scenario, r scenarioRuns) (campaign.Tally, []string) {
	fmt.Printf("%s on Kafka %s, seeds %d-%d\n", scenario.Name, scenario.Version(), r.seed, r.seed+int64(r.runs)-1)
	var tally campaign.Tally
	var dirs []string
	for i := range r.runs {
		if ctx.Err() != nil {
			break
		}
		s := scenario.Spec
		s.ResultsDir, s.Seed = r.resultsDir, r.seed+int64(i)
		if r.timeLimit > 0 {
			s.TimeLimit = spec.Duration(r.timeLimit)
		}
		started := time.Now()
		// On a terminal the run's live progress line shows; logs get one line per run.
		p := newProgressLine()
		progress := func(pr harness.Progress) {
			if p.tty {
				p.update(pr)
			}
		}
		out, err := harness.Run(ctx, s, harness.Options{Logf: func(string, ...any) {}, Progress: progress})
		p.finish()
		if out.RunDir != "" {
			dirs = append(dirs, out.RunDir)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// One run the machine could not do (a cluster that never became ready, a fault Docker
			// refused) does not end the campaign: it counts as not done, apart from the verdicts.
			tally.NotDone++
			fmt.Printf("run %d/%d (%s): could not be done: %v\n", i+1, r.runs, time.Since(started).Round(time.Second), err)
			continue
		}
		line := tally.Add(scenario, out)
		fmt.Printf("run %d/%d (%s): %s  %s\n", i+1, r.runs, time.Since(started).Round(time.Second), line, out.RunDir)
	}
	return tally, dirs
}

func runBenchThroughput(args []string) int {
	fs := flag.NewFlagSet("kchaos bench throughput", flag.ContinueOnError)
	levels := fs.String("levels", "1,4,16,64", "comma list of concurrencies")
	phase := fs.Duration("phase", 10*time.Second, "length of each measurement")
	rounds := fs.Int("rounds", 2, "measurements of each client per concurrency, alternating which goes first")
	partitions := fs.Int("partitions", 8, "partitions of the benchmark's topic")
	out := fs.String("out", "", "also write the table to this file")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	opts := harness.ThroughputOptions{Phase: *phase, Rounds: *rounds, Partitions: *partitions,
		Logf: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }}
	for _, l := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "kchaos bench throughput: --levels: %q is not a positive integer\n", l)
			return exitError
		}
		opts.Levels = append(opts.Levels, n)
	}
	if *phase <= 0 || *rounds < 1 || *partitions < 1 {
		fmt.Fprintln(os.Stderr, "kchaos bench throughput: --phase, --rounds and --partitions must be positive")
		return exitError
	}
	ctx, stop := interruptContext()
	defer stop()
	loadBefore := loadAverage()
	table, err := harness.BenchThroughput(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kchaos bench throughput:", err)
		return exitError
	}
	text := fmt.Sprintf("%s\n%d partitions, %s phases, %d rounds per client and concurrency; %d CPUs, %s; load average %s before, %s after.\n",
		table.Markdown(), table.Partitions, table.Phase, table.Rounds, runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, loadBefore, loadAverage())
	fmt.Print(text)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "kchaos bench throughput:", err)
			return exitError
		}
	}
	return exitValid
}

// loadAverage is the machine's 1-minute load average, or "unknown": the benchmark's numbers mean
// little without it on a shared machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
