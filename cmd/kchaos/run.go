package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/harness"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/spec"
)

func init() {
	commands["run"] = command{summary: "run a chaos test against a fresh cluster and check it", run: runRun}
}

func runRun(args []string) int {
	fs := flag.NewFlagSet("kchaos run", flag.ContinueOnError)
	s := spec.Defaults()
	spec.RegisterFlags(fs, &s, spec.Fields)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kchaos run [flags]\n\n"+
			"Runs a chaos test against a fresh cluster, checks it and writes its run directory. Exit status:\n"+
			"0 valid, 1 invalid, 2 unknown, 3 the run could not be done.\n\nflags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "kchaos run: unexpected arguments %q\n", fs.Args())
		return exitError
	}
	// Validate the spec as given, before defaults could hide an explicit zero, and before
	// anything is created.
	s = spec.FromFlags(fs, s)
	if err := s.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "kchaos run:", err)
		return exitError
	}
	ctx, stop := interruptContext()
	defer stop()
	p := newProgressLine()
	out, err := harness.Run(ctx, s, harness.Options{Logf: p.logf, Progress: p.update})
	p.finish()
	return report(out, err)
}

// interruptContext is cancelled by the first SIGINT or SIGTERM, which a run answers by healing
// its faults and removing its cluster; from then on a second signal kills at once, and the next
// start removes what is left.
func interruptContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
			signal.Stop(sigs) // the next signal takes its default action
			fmt.Fprintln(os.Stderr, "\ninterrupted: healing faults and removing the cluster (Ctrl-C again to abort)")
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

// report prints the verdict and returns the exit status of HISTORY.md.
func report(out harness.Outcome, err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, "kchaos run:", err)
	}
	if !out.Checked {
		if out.RunDir != "" {
			fmt.Fprintln(os.Stderr, "run directory:", out.RunDir)
		}
		return exitError
	}
	fmt.Printf("\nverdict: %s\n", strings.ToUpper(out.Verdict.String()))
	if len(out.AnomalyTypes) > 0 {
		fmt.Printf("anomalies: %s\n", strings.Join(out.AnomalyTypes, ", "))
	}
	if out.Result != nil && out.Verdict == checkers.Unknown {
		for _, line := range undecided(out.Result) {
			fmt.Printf("  unknown: %s\n", history.Printable(line))
		}
	}
	if out.Result != nil && out.Result.Txn != nil {
		st := out.Result.Txn.Stats
		fmt.Printf("transactions: %d committed, %d aborted, %d unknown; %d committed sends, %d records read\n",
			st.Committed, st.Aborted, st.Indeterminate, st.Sends, st.Reads)
	}
	if out.Result != nil && out.Result.Stats != nil && out.Result.Stats.ISRDynamics != nil {
		fmt.Println(describeDynamics(out.Result.Stats.ISRDynamics))
	}
	fmt.Printf("run directory: %s\n", out.RunDir)
	if _, serr := os.Stat(filepath.Join(out.RunDir, "report.html")); serr == nil {
		fmt.Printf("report: %s\n", filepath.Join(out.RunDir, "report.html"))
	}
	if err != nil {
		return exitError
	}
	switch out.Verdict {
	case checkers.Valid:
		return exitValid
	case checkers.Invalid:
		return exitInvalid
	}
	return exitUnknown
}

// progressLine shows the run's progress on stderr: one line rewritten in place on a terminal, a
// line every ten seconds otherwise (CI logs).
type progressLine struct {
	tty     bool
	last    time.Time
	showing bool
}

func newProgressLine() *progressLine {
	info, err := os.Stderr.Stat()
	return &progressLine{tty: err == nil && info.Mode()&os.ModeCharDevice != 0}
}

func (p *progressLine) logf(format string, args ...any) {
	p.clear()
	progressf(format, args...)
}

func (p *progressLine) update(pr harness.Progress) {
	faults := "none"
	if len(pr.Faults) > 0 {
		faults = strings.Join(pr.Faults, ", ")
	}
	line := fmt.Sprintf("[%3.0fs/%.0fs] ok %d  fail %d  info %d  faults: %s", pr.Elapsed.Seconds(), pr.TimeLimit.Seconds(),
		pr.Counts.OK, pr.Counts.Fail, pr.Counts.Info, faults)
	if p.tty {
		fmt.Fprintf(os.Stderr, "\r\033[K%s", line)
		p.showing = true
		return
	}
	if time.Since(p.last) >= 10*time.Second {
		p.last = time.Now()
		fmt.Fprintln(os.Stderr, line)
	}
}

func (p *progressLine) clear() {
	if p.showing {
		fmt.Fprint(os.Stderr, "\r\033[K")
		p.showing = false
	}
}

func (p *progressLine) finish() { p.clear() }

// describeDynamics sums up the ISR dynamics in two lines.
func describeDynamics(d *dynamics.Summary) string {
	failover := "no fault hit a leader"
	if c := d.Verdicts; c.MedianFailoverMs >= 0 {
		failover = fmt.Sprintf("median failover %d ms after a fault hit a leader", c.MedianFailoverMs)
		switch setting := d.Settings.SessionSetting(); {
		case d.Settings.SessionTimeout > 0:
			failover += fmt.Sprintf(" (%s %d)", setting, d.Settings.SessionTimeout.Milliseconds())
		case setting != "":
			failover += fmt.Sprintf(" (%s unknown)", setting)
		}
	}
	return fmt.Sprintf("ISR: %s; %d departures from an ISR, %d rejoined by themselves, %d never.\n     %s",
		failover, d.Verdicts.Leaves, d.Verdicts.RejoinedByItself, d.Verdicts.NeverRejoined, d.Verdicts.Answer)
}
