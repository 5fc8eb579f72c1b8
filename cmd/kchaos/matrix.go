package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kchaos/kchaos/campaign"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/suites"
)

// matrixCell is one scenario on one version, ready to run.
type matrixCell struct {
	scenario   suites.Scenario
	resultsDir string
}

// runBenchMatrix runs scenarios on versions (each cell as bench detect runs a scenario) and
// tabulates their run directories, or, with --from, tabulates run directories already there.
func runBenchMatrix(args []string) int {
	fs := flag.NewFlagSet("kchaos bench matrix", flag.ContinueOnError)
	versions := fs.String("versions", "", "comma list of Kafka versions, each V (its default metadata mode) or V/zookeeper or V/kraft")
	scenarios := fs.String("scenarios", "", "comma list of scenarios (kchaos bench detect --list)")
	runs := fs.Int("runs", 10, "runs of each scenario on each version")
	seed := fs.Int64("seed", 1, "seed of the first run of each cell; run i uses seed+i")
	resultsDir := fs.String("results-dir", "results/matrix", "where run directories go: DIR/<version>/<metadata>/<scenario>/...")
	timeLimit := fs.Duration("time-limit", 0, "override the scenarios' time limit")
	kafkaTimeouts := fs.Bool("kafka-timeouts", false, "run on Kafka's own timeouts, as bench detect --kafka-timeouts")
	from := fs.String("from", "", "run nothing: tabulate the run directories under this directory (and under any further arguments)")
	out := fs.String("out", "", "also write the table: FILE.md (Markdown), FILE.html (HTML), or any other FILE: FILE.md and FILE.html")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "kchaos bench matrix: "+format+"\n", a...)
		return exitError
	}
	mdPath, htmlPath := matrixOutputs(*out)
	if *out != "" {
		// A campaign of hours must not end on a table it cannot write.
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return fail("--out: %v", err)
		}
	}
	if *from != "" {
		if *versions != "" || *scenarios != "" {
			return fail("--from tabulates runs already done: it takes no --versions or --scenarios")
		}
		roots := append([]string{*from}, fs.Args()...)
		for _, r := range roots[1:] {
			if strings.HasPrefix(r, "-") {
				// Go's flags stop at the first directory: a flag after it would be taken for one.
				return fail("flag %s after the directories: put every flag before --from", r)
			}
		}
		dirs, err := campaign.FindRunDirs(roots)
		if err != nil {
			return fail("%v", err)
		}
		if len(dirs) == 0 {
			return fail("no run directory (a directory holding %s) under %s", "test.json", strings.Join(roots, ", "))
		}
		return writeMatrix(campaign.Tabulate(dirs), mdPath, htmlPath)
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q (directories to tabulate go after --from DIR)", fs.Args())
	}
	if *versions == "" || *scenarios == "" {
		return fail("--versions and --scenarios are needed (or --from DIR to tabulate runs already done)")
	}
	if *runs < 1 {
		return fail("--runs must be at least 1")
	}
	cells, err := matrixCells(*versions, *scenarios, *kafkaTimeouts, *timeLimit, *resultsDir)
	if err != nil {
		return fail("%v", err)
	}
	ctx, stop := interruptContext()
	defer stop()
	var dirs []string
	checked := 0
	for _, c := range cells {
		if ctx.Err() != nil {
			break
		}
		tally, made := runScenario(ctx, c.scenario, scenarioRuns{runs: *runs, seed: *seed, resultsDir: c.resultsDir, timeLimit: *timeLimit})
		fmt.Println(tally.Summary(c.scenario))
		dirs = append(dirs, made...)
		checked += tally.Runs
	}
	fmt.Println()
	if checked == 0 {
		fmt.Fprintln(os.Stderr, "kchaos bench matrix: no run could be done")
		if len(dirs) == 0 {
			return exitError
		}
		writeMatrix(campaign.Tabulate(dirs), mdPath, htmlPath)
		return exitError
	}
	return writeMatrix(campaign.Tabulate(dirs), mdPath, htmlPath)
}

// matrixCells checks every version and scenario, and each scenario on each version, before
// anything starts: the cells in order, versions first.
func matrixCells(versionList, scenarioList string, kafkaTimeouts bool, timeLimit time.Duration, resultsDir string) ([]matrixCell, error) {
	versions, err := campaign.ParseVersions(versionList)
	if err != nil {
		return nil, fmt.Errorf("--versions: %w", err)
	}
	var scenarios []suites.Scenario
	seen := map[string]bool{}
	for _, name := range strings.Split(scenarioList, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("--scenarios %q: an empty item", scenarioList)
		}
		if seen[name] {
			return nil, fmt.Errorf("--scenarios: %s given twice", name)
		}
		seen[name] = true
		sc, err := suites.Get(name)
		if err != nil {
			return nil, fmt.Errorf("--scenarios: %w", err)
		}
		if kafkaTimeouts {
			sc = sc.WithKafkaTimeouts()
		}
		scenarios = append(scenarios, sc)
	}
	var cells []matrixCell
	for _, v := range versions {
		for _, sc := range scenarios {
			on, err := sc.On(v.Kafka, v.Metadata)
			if err != nil {
				return nil, err
			}
			s := on.Spec
			if timeLimit > 0 {
				s.TimeLimit = spec.Duration(timeLimit)
			}
			if err := s.WithDefaults().Validate(); err != nil {
				return nil, fmt.Errorf("scenario %s on Kafka %s: %w", on.Name, on.Version(), err)
			}
			cells = append(cells, matrixCell{scenario: on,
				resultsDir: filepath.Join(resultsDir, v.Kafka, v.Metadata, filepath.FromSlash(on.Name))})
		}
	}
	return cells, nil
}

// matrixOutputs returns the files --out names: FILE.md or FILE.html alone, else FILE.md and
// FILE.html; none for "".
func matrixOutputs(out string) (md, html string) {
	switch {
	case out == "":
		return "", ""
	case strings.HasSuffix(out, ".md"):
		return out, ""
	case strings.HasSuffix(out, ".html"):
		return "", out
	}
	return out + ".md", out + ".html"
}

// writeMatrix prints the table as Markdown and writes the files asked for; it returns 0 when
// every row meets its bar, 1 when not, 3 when there is no row or a file cannot be written. Paths
// in the Markdown are relative to the Markdown file's directory (the working directory without
// one), links in the HTML to the HTML file's.
func writeMatrix(t campaign.Table, mdPath, htmlPath string) int {
	base := "."
	if mdPath != "" {
		base = filepath.Dir(mdPath)
	}
	md := t.Markdown(base)
	os.Stdout.Write(md)
	if mdPath != "" {
		if err := os.WriteFile(mdPath, md, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "kchaos bench matrix:", err)
			return exitError
		}
	}
	if htmlPath != "" {
		page, err := t.HTML(filepath.Dir(htmlPath))
		if err == nil {
			err = os.WriteFile(htmlPath, page, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "kchaos bench matrix:", err)
			return exitError
		}
	}
	switch {
	case len(t.Rows) == 0:
		fmt.Fprintln(os.Stderr, "kchaos bench matrix: no run directory of a scenario")
		return exitError
	case t.MeetsBar():
		return exitValid
	}
	return exitInvalid
}
