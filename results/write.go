package results

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

// Written names the files WriteRun wrote.
type Written struct {
	// Results is the path of results.json; "" when WriteRun read it instead.
	Results string
	// Visualizations are the paths of porcupine's visualizations written.
	Visualizations []string
	// Report and JUnit are the paths of report.html and junit.xml.
	Report, JUnit string
	// Index is the path of the results directory's index.html; "" when none was written, and
	// NoIndex then says why.
	Index   string
	NoIndex error
}

// WriteRun writes every output of the run directory dir: results.json from res, porcupine's
// visualization of each key res kept one for (under VisualizationDir), report.html and
// junit.xml, then the index.html of the results directory dir is in, when dir is one of its runs
// (<results dir>/<name>/<timestamp>) and kchaos owns it (see WriteIndex; Written.NoIndex says why
// not otherwise).
//
// res nil reads dir/results.json instead, and leaves it as it is: that is kchaos report. ops nil
// reads dir/history.jsonl. test.json and nodes/ are read from dir when present.
//
// report.html is one self-contained page (inline CSS, SVG and a little JavaScript, nothing
// fetched): the verdict, the anomalies with their operations, latency and throughput plots with
// the fault windows, each partition's leaders and ISR over time, the ISR dynamics (failovers
// against the session timeout of the metadata mode, followers leaving and rejoining the ISR; a
// note when results.json predates them), the transactions when the transactional checker ran
// (counts by outcome, its anomalies, each dependency cycle drawn as its chain of operations and
// edges), the checkers' details, the spec and the command that runs it again, and links to the
// node logs. Everything taken from the run is escaped by html/template.
// junit.xml has one test case per checker (see junitXML).
//
// Each file is written through a temporary file and a rename, and the report and junit.xml are
// rendered before results.json or either of them is written, so that a missing or malformed
// input (an error naming the file, and the line) leaves them as they were. The same inputs give
// the same bytes, whatever GOMAXPROCS.
func WriteRun(dir string, res *checkers.Result, ops []history.Op) (Written, error) {
	var w Written
	r, err := loadRun(dir, res, ops)
	if err != nil {
		return w, fmt.Errorf("report: %w", err)
	}
	// The visualizations first: the report links the ones it finds.
	if res != nil && res.Linearizable != nil {
		for _, key := range res.Linearizable.VisualizedKeys() {
			err := WriteVisualization(r.dir, key, func(w io.Writer) error { return res.Linearizable.Visualize(w, key) })
			if err != nil {
				return w, err
			}
			p, _ := VisualizationPath(r.dir, key)
			w.Visualizations = append(w.Visualizations, p)
		}
	}
	page, err := renderReport(r)
	if err != nil {
		return w, fmt.Errorf("report of %s: %w", dir, err)
	}
	junit, err := junitXML(r)
	if err != nil {
		return w, fmt.Errorf("report of %s: %w", dir, err)
	}
	if res != nil {
		data, err := res.JSON()
		if err != nil {
			return w, err
		}
		w.Results = filepath.Join(dir, ResultsFile)
		if err := WriteFileAtomic(w.Results, data); err != nil {
			return w, err
		}
	}
	w.Report, w.JUnit = filepath.Join(dir, ReportFile), filepath.Join(dir, JUnitFile)
	if err := WriteFileAtomic(w.Report, page); err != nil {
		return w, fmt.Errorf("report: %w", err)
	}
	if err := WriteFileAtomic(w.JUnit, junit); err != nil {
		return w, fmt.Errorf("report: %w", err)
	}
	root, err := resultsDirOf(dir)
	if err == nil {
		err = WriteIndex(root)
		if errors.Is(err, ErrNotResultsDir) {
			w.NoIndex = err
			return w, nil
		}
		if err != nil {
			return w, err
		}
		w.Index = filepath.Join(root, IndexFile)
		return w, nil
	}
	w.NoIndex = err
	return w, nil
}
