package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/harness"
	"github.com/kchaos/kchaos/history"
)

func init() {
	commands["check"] = command{summary: "check RUN_DIR/history.jsonl again and write RUN_DIR/results.json", run: runCheck}
}

// checkOptions are the flags of kchaos check.
type checkOptions struct {
	checkers.Options
	cpuProfile string
}

func runCheck(args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var opts checkOptions
	fs.DurationVar(&opts.LinearizabilityTimeout, "linearizability-timeout", checkers.DefaultLinearizabilityTimeout,
		"how long the linearizability check may spend on one key; a key that takes longer is unknown")
	fs.IntVar(&opts.Workers, "workers", 0, "keys checked for linearizability at once (0: one per CPU)")
	fs.StringVar(&opts.cpuProfile, "cpuprofile", "", "write a CPU profile of the check to `file`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kchaos check [flags] RUN_DIR\n\n"+
			"Checks RUN_DIR/history.jsonl and writes RUN_DIR/results.json. Exit status: 0 valid, 1 invalid,\n"+
			"2 unknown, 3 the check could not be done.\n\nflags:")
		fs.PrintDefaults()
	}
	// Flags may come before or after RUN_DIR.
	var dirs []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitValid
			}
			return exitError
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(dirs) != 1 {
		fmt.Fprintln(os.Stderr, "kchaos check: want exactly one RUN_DIR")
		fs.Usage()
		return exitError
	}
	res, err := check(dirs[0], opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kchaos check: %v\n", err)
		return exitError
	}
	printVerdict(os.Stdout, res, filepath.Join(dirs[0], "results.json"))
	switch res.Valid {
	case checkers.Valid:
		return exitValid
	case checkers.Invalid:
		return exitInvalid
	default:
		return exitUnknown
	}
}

// check reads dir's history, checks it and writes dir's results.json. On error nothing is
// written.
func check(dir string, opts checkOptions) (*checkers.Result, error) {
	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	return harness.CheckRunDir(dir, opts.Options)
}

// printVerdict prints the verdict, the anomaly types with their counts, and what could not be
// decided.
func printVerdict(w io.Writer, res *checkers.Result, resultsPath string) {
	fmt.Fprintf(w, "%s\n", res.Valid)
	bad := map[string]bool{}
	for _, t := range res.Queue.BadAnomalyTypes {
		bad[t] = true
	}
	for _, t := range res.AnomalyTypes {
		note := ""
		if t != checkers.NotLinearizable && t != checkers.UncleanLeaderElection && !bad[t] {
			note = " (allowed)"
		}
		unit := ""
		if t == checkers.Unseen {
			n := 0
			for _, c := range res.Queue.Unseen {
				n += c.Count
			}
			unit = fmt.Sprintf(" (%d values)", n)
		}
		fmt.Fprintf(w, "  %-24s %d%s%s\n", t, len(res.Anomalies[t]), unit, note)
	}
	for _, line := range undecided(res) {
		fmt.Fprintf(w, "  unknown: %s\n", history.Printable(line))
	}
	fmt.Fprintf(w, "results: %s\n", resultsPath)
}

// undecided lists what the checkers could not decide.
func undecided(res *checkers.Result) []string {
	var out []string
	if res.Coverage != nil {
		out = append(out, res.Coverage.Reasons...)
	}
	keys := make([]string, 0, len(res.Linearizable.Keys))
	for k := range res.Linearizable.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if kr := res.Linearizable.Keys[k]; kr.Valid == checkers.Unknown {
			out = append(out, fmt.Sprintf("linearizability of %s: %s", k, kr.Reason))
		}
	}
	if res.LeaderElection.Checked {
		for _, u := range res.LeaderElection.Undecided {
			out = append(out, fmt.Sprintf("leader election of %s: %s", u.Key, u.Reason))
		}
		out = append(out, res.LeaderElection.Mismatches...)
	}
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("and %d more (see results.json)", len(out)-10))
	}
	return out
}
