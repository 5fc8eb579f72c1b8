package harness

import (
	"fmt"

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
