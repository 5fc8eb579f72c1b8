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

// resultsDirOf returns the results directory a run directory is in, when runDir is laid out as
// NewRunDir makes it (<results dir>/<name>/<timestamp>, or a link to one such as
// <results dir>/latest), for its index. Any other directory is an error, so that an index is
// never written somewhere unexpected; WriteIndex then checks that kchaos owns the directory.
func resultsDirOf(runDir string) (string, error) {
	dir, err := filepath.EvalSymlinks(runDir)
	if err == nil {
		dir, err = filepath.Abs(dir)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotResultsDir, err)
	}
	if !stampRe.MatchString(filepath.Base(dir)) {
		return "", fmt.Errorf("%w: %s is not a run directory of a results directory (RESULTS_DIR/NAME/TIMESTAMP)", ErrNotResultsDir, runDir)
	}
	return filepath.Dir(filepath.Dir(dir)), nil
}

func baseName(p string) string { return filepath.Base(filepath.Clean(p)) }

func parentDir(p string) string { return filepath.Dir(filepath.Clean(p)) }
