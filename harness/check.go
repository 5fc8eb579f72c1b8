package harness

import (
	"fmt"
	"io"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
)

// CheckRunDir checks dir/history.jsonl with every checker and writes dir/results.json (through a
// temporary file: on error the old one is left as it was).
func CheckRunDir(dir string, opts checkers.Options) (*checkers.Result, error) {
	rd := results.RunDir{Path: dir}
	ops, err := history.ReadFile(rd.File(results.HistoryFile))
	if err != nil {
		return nil, err
	}
	res, err := checkers.Check(ops, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rd.File(results.HistoryFile), err)
	}
	data, err := res.JSON()
	if err != nil {
		return nil, err
	}
	if err := results.WriteFileAtomic(rd.File(results.ResultsFile), data); err != nil {
		return nil, err
	}
	return res, nil
}

// WriteReport writes the files a person and CI read from a checked run directory: porcupine's
// visualization of each key the linearizability checker kept one for, report.html and junit.xml,
// and the index of the results directory above the run, when there is one.
func WriteReport(dir string, res *checkers.Result) error {
	if res != nil && res.Linearizable != nil {
		for _, key := range res.Linearizable.VisualizedKeys() {
			err := results.WriteVisualization(dir, key, func(w io.Writer) error { return res.Linearizable.Visualize(w, key) })
			if err != nil {
				return err
			}
		}
	}
	if err := results.WriteReport(dir); err != nil {
		return err
	}
	if root, ok := results.ResultsDirOf(dir); ok {
		return results.WriteIndex(root)
	}
	return nil
}
