package results

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"path/filepath"
	"regexp"
	"time"
)

// Files the report writes into a run directory, and the index of a results directory.
const (
	ReportFile = "report.html"
	JUnitFile  = "junit.xml"
	IndexFile  = "index.html"
)

//go:embed report.html.tmpl
var reportTemplateText string

// templateFuncs give the templates the charts' fixed layout.
var templateFuncs = template.FuncMap{
	"left":  func() string { return num(plotLeft) },
	"right": func() string { return num(chartW - plotRight) },
	"plotw": func() string { return num(plotW) },
}

var reportTemplate = template.Must(template.New(ReportFile).Funcs(templateFuncs).Parse(reportTemplateText))

// WriteReport writes report.html and junit.xml into the run directory runDir from what it holds:
// history.jsonl and results.json (both required), test.json and nodes/ (used when present), and
// porcupine's visualizations under VisualizationDir (linked when present).
//
// report.html is one self-contained page (inline CSS, SVG and a little JavaScript, nothing
// fetched): the verdict, the anomalies with their operations, latency and throughput plots with
// the fault windows, each partition's leaders and ISR over time, the ISR dynamics (failovers
// against zookeeper.session.timeout.ms, followers leaving and rejoining the ISR; a note when
// results.json predates them), the checkers' details, the spec and the command that runs it
// again, and links to the node logs. Everything taken from the run is escaped by html/template. junit.xml has one test case per checker (see WriteJUnit).
//
// Each file is written through a temporary file and a rename. A missing or malformed input is
// an error naming the file (and the line, for the history); nothing is written then.
func WriteReport(runDir string) error {
	r, err := loadRun(runDir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	page, err := renderReport(r)
	if err != nil {
		return fmt.Errorf("report of %s: %w", runDir, err)
	}
	junit, err := junitXML(r)
	if err != nil {
		return fmt.Errorf("report of %s: %w", runDir, err)
	}
	if err := WriteFileAtomic(filepath.Join(runDir, ReportFile), page); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(runDir, JUnitFile), junit); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// renderReport returns the text of report.html.
func renderReport(r *storedRun) ([]byte, error) {
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, buildReport(r)); err != nil {
		return nil, fmt.Errorf("render %s: %w", ReportFile, err)
	}
	return buf.Bytes(), nil
}

// stampRe matches the name NewRunDir gives a run directory.
var stampRe = regexp.MustCompile(`^(\d{8}T\d{6})(-\d+)?$`)

// parseStamp reads the start time from a run directory's name ("20060102T150405", "-N" after
// it for a second run in the same second).
func parseStamp(name string) (time.Time, bool) {
	m := stampRe.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("20060102T150405", m[1], time.Local)
	return t, err == nil
}

// ResultsDirOf returns the results directory a run directory is in, when runDir is laid out as
// NewRunDir makes it (<results dir>/<name>/<timestamp>, or a link to one such as
// <results dir>/latest), for WriteIndex. It reports false for any other directory, so that an
// index is never written somewhere unexpected.
func ResultsDirOf(runDir string) (string, bool) {
	dir, err := filepath.EvalSymlinks(runDir)
	if err != nil {
		return "", false
	}
	dir, err = filepath.Abs(dir)
	if err != nil || !stampRe.MatchString(filepath.Base(dir)) {
		return "", false
	}
	return filepath.Dir(filepath.Dir(dir)), true
}

func baseName(p string) string { return filepath.Base(filepath.Clean(p)) }

func parentDir(p string) string { return filepath.Dir(filepath.Clean(p)) }
