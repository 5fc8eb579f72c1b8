package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kchaos/kchaos/results"
)

func init() {
	commands["report"] = command{summary: "write a run's report.html and junit.xml again, and the index of its results directory", run: runReport}
}

func runReport(args []string) int { return reportCommand(args, os.Stdout, os.Stderr) }

// reportCommand is kchaos report: exit 0 when the files are written, 3 when they cannot be (the
// reason on stderr). It does not judge the run; kchaos check does.
func reportCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kchaos report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	indexOnly := fs.Bool("index", false, "write only the index: RESULTS_DIR/index.html, every run under RESULTS_DIR, newest first")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: kchaos report RUN_DIR
       kchaos report --index RESULTS_DIR

Writes RUN_DIR/report.html and RUN_DIR/junit.xml again from what RUN_DIR holds (history.jsonl,
results.json, test.json, nodes/), then the index.html of the results directory RUN_DIR is in,
when kchaos made it (it holds .kchaos-results) or it holds runs of an older kchaos. With
--index, writes only RESULTS_DIR/index.html, on the same condition.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitValid
		}
		return exitError
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError
	}
	dir := fs.Arg(0)
	if *indexOnly {
		if err := results.WriteIndex(dir); err != nil {
			fmt.Fprintln(stderr, "kchaos report:", results.Printable(err.Error()))
			return exitError
		}
		fmt.Fprintln(stdout, "index:", results.Printable(filepath.Join(dir, results.IndexFile)))
		return exitValid
	}
	w, err := results.WriteRun(dir, nil, nil)
	if err != nil {
		fmt.Fprintln(stderr, "kchaos report:", results.Printable(err.Error()))
		return exitError
	}
	fmt.Fprintln(stdout, "report:", results.Printable(w.Report))
	fmt.Fprintln(stdout, "junit:", results.Printable(w.JUnit))
	if w.Index == "" {
		fmt.Fprintf(stderr, "kchaos report: no index written: %s\n", results.Printable(w.NoIndex.Error()))
		return exitValid
	}
	fmt.Fprintln(stdout, "index:", results.Printable(w.Index))
	return exitValid
}
