package results

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/kchaos/kchaos/history"
)

//go:embed index.html.tmpl
var indexTemplateText string

var indexTemplate = template.Must(template.New(IndexFile).Parse(indexTemplateText))

// indexRow is one run in the index.
type indexRow struct {
	Verdict, Name, Run, Started, Duration, Ops, Anomalies string
	Report, JUnit, Dir                                    string
	Latest                                                bool
	started                                               time.Time
}

type indexView struct {
	Dir      string
	Rows     []indexRow
	Counts   []stat
	Problems []string
}

// ErrNotResultsDir is the error WriteIndex (and WriteRun, in Written.NoIndex) gives for a
// directory kchaos does not own: it writes no index.html there.
var ErrNotResultsDir = errors.New("not a kchaos results directory")

// ResultsMarker is the file NewRunDir leaves in a results directory to mark it as kchaos's: only
// there does kchaos write an index.html.
const ResultsMarker = ".kchaos-results"

// markerText is what ResultsMarker says to a person who finds it.
const markerText = "This directory holds kchaos runs (<name>/<timestamp>/); kchaos writes its index.html.\n"

// indexGenerator marks the index.html kchaos writes. Older ones are known by their title.
const (
	indexGenerator = `<meta name="generator" content="kchaos index">`
	oldIndexTitle  = `<title>kchaos runs</title>`
)

// WriteIndex writes resultsDir/index.html: every run under resultsDir (the run directories
// <name>/<timestamp>/ that NewRunDir makes), newest first, with its verdict, name, start time,
// duration (the time of the history's last line), anomaly types and links to its report and
// junit.xml. Only the last line of each history is read, so the index of many long runs is
// quick. A run that cannot be read is listed as such, not an error.
//
// kchaos writes an index only in a directory it owns, so that it never replaces a page of
// someone else's: one with ResultsMarker, or, made by a kchaos older than the marker, one that
// holds a run directory <name>/<timestamp>/ with both history.jsonl and test.json and no
// index.html but one kchaos wrote. Any other directory is an error wrapping ErrNotResultsDir
// that says why.
func WriteIndex(resultsDir string) error {
	if err := ownsResultsDir(resultsDir); err != nil {
		return fmt.Errorf("index of %s: %w", resultsDir, err)
	}
	names, err := os.ReadDir(resultsDir)
	if err != nil {
		return fmt.Errorf("index of %s: %w", resultsDir, err)
	}
	latest := ""
	if target, err := filepath.EvalSymlinks(filepath.Join(resultsDir, LatestLink)); err == nil {
		latest = target
	}
	view := indexView{Dir: baseName(resultsDir)}
	if abs, err := filepath.Abs(resultsDir); err == nil {
		view.Dir = abs
	}
	for _, n := range names {
		if !n.IsDir() || n.Name() == LatestLink || strings.HasPrefix(n.Name(), ".") {
			continue
		}
		runs, err := os.ReadDir(filepath.Join(resultsDir, n.Name()))
		if err != nil {
			view.Problems = append(view.Problems, fmt.Sprintf("%s: %v", n.Name(), err))
			continue
		}
		for _, rd := range runs {
			dir := filepath.Join(resultsDir, n.Name(), rd.Name())
			if !rd.IsDir() || !isRunDir(dir) {
				continue
			}
			row := indexEntry(dir, n.Name(), rd.Name())
			if latest != "" {
				if target, err := filepath.EvalSymlinks(dir); err == nil && target == latest {
					row.Latest = true
				}
			}
			view.Rows = append(view.Rows, row)
		}
	}
	slices.SortStableFunc(view.Rows, func(a, c indexRow) int {
		if !a.started.Equal(c.started) {
			return c.started.Compare(a.started)
		}
		return strings.Compare(c.Run, a.Run)
	})
	counts := map[string]int{}
	for _, r := range view.Rows {
		counts[r.Verdict]++
	}
	for _, v := range []string{"valid", "invalid", "unknown", "unchecked", "unreadable"} {
		if counts[v] > 0 {
			view.Counts = append(view.Counts, stat{Label: v, Value: group(counts[v]), Class: v})
		}
	}
	printableStrings(reflect.ValueOf(&view))
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, view); err != nil {
		return fmt.Errorf("render %s: %w", IndexFile, err)
	}
	if err := WriteFileAtomic(filepath.Join(resultsDir, IndexFile), buf.Bytes()); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// ownsResultsDir returns nil when kchaos owns dir (see WriteIndex), else an error wrapping
// ErrNotResultsDir that says why not.
func ownsResultsDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: not a directory", ErrNotResultsDir)
	}
	if _, err := os.Stat(filepath.Join(dir, ResultsMarker)); err == nil {
		return nil
	}
	if head, err := readHead(filepath.Join(dir, IndexFile), 4096); err == nil &&
		!bytes.Contains(head, []byte(indexGenerator)) && !bytes.Contains(head, []byte(oldIndexTitle)) {
		return fmt.Errorf("%w: it has no %s, and its %s was not written by kchaos", ErrNotResultsDir, ResultsMarker, IndexFile)
	}
	names, _ := os.ReadDir(dir)
	for _, n := range names {
		if !n.IsDir() || strings.HasPrefix(n.Name(), ".") {
			continue
		}
		runs, _ := os.ReadDir(filepath.Join(dir, n.Name()))
		for _, rd := range runs {
			if !rd.IsDir() || !stampRe.MatchString(rd.Name()) {
				continue
			}
			run := filepath.Join(dir, n.Name(), rd.Name())
			if fileExists(filepath.Join(run, HistoryFile)) && fileExists(filepath.Join(run, SpecFile)) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: it has no %s and no run directory NAME/TIMESTAMP with %s and %s", ErrNotResultsDir, ResultsMarker, HistoryFile, SpecFile)
}

// readHead returns up to n bytes from the start of a file.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:k], nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// isRunDir reports whether dir holds a run's files.
func isRunDir(dir string) bool {
	for _, f := range []string{HistoryFile, ResultsFile, SpecFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// indexEntry reads what the index shows of one run.
func indexEntry(dir, name, stamp string) indexRow {
	row := indexRow{Name: name, Run: name + "/" + stamp, Verdict: "unchecked", Dir: path.Join(escapeSegment(name), escapeSegment(stamp)) + "/"}
	if t, ok := parseStamp(stamp); ok {
		row.started = t
	} else if fi, err := os.Stat(dir); err == nil {
		row.started = fi.ModTime()
	}
	row.Started = row.started.Format("2006-01-02 15:04:05")
	if spec, err := readSpec(filepath.Join(dir, SpecFile)); err == nil {
		if n := specName(spec); n != "" {
			row.Name = n
		}
	}
	res, err := readResults(filepath.Join(dir, ResultsFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		row.Verdict, row.Anomalies = "unreadable", err.Error()
	default:
		row.Verdict = res.Valid.String()
		var parts []string
		for _, t := range anomalyTypes(res) {
			parts = append(parts, fmt.Sprintf("%s ×%d", t, len(res.Anomalies[t])))
		}
		row.Anomalies = strings.Join(parts, ", ")
	}
	if last, err := lastOp(filepath.Join(dir, HistoryFile)); err == nil {
		row.Duration = durationText(last.Time)
		row.Ops = group(int(last.Index + 1))
	}
	if _, err := os.Stat(filepath.Join(dir, ReportFile)); err == nil {
		row.Report = row.Dir + ReportFile
	}
	if _, err := os.Stat(filepath.Join(dir, JUnitFile)); err == nil {
		row.JUnit = row.Dir + JUnitFile
	}
	return row
}

// lastOp parses the last line of a history, reading the file from its end.
func lastOp(p string) (history.Op, error) {
	f, err := os.Open(p)
	if err != nil {
		return history.Op{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return history.Op{}, err
	}
	size := fi.Size()
	for chunk := int64(64 << 10); ; chunk *= 4 {
		from := max(size-chunk, 0)
		buf := make([]byte, size-from)
		if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
			return history.Op{}, fmt.Errorf("read %s: %w", p, err)
		}
		buf = bytes.TrimRight(buf, " \t\r\n")
		nl := bytes.LastIndexByte(buf, '\n')
		if nl < 0 && from > 0 {
			continue // the last line is longer than the chunk
		}
		op, err := history.ParseLine(buf[nl+1:])
		if err != nil {
			return history.Op{}, fmt.Errorf("%s: last line: %w", p, err)
		}
		return op, nil
	}
}
