package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/spec"
)

// storedRun is what a run directory holds, read for the report: the spec (nil when the
// directory has no test.json, as a user's own history may not), the results, the history and
// its pairing.
type storedRun struct {
	dir     string
	spec    *spec.Spec
	results *checkers.Result
	verdict string // "valid", "invalid" or "unknown"
	ops     []history.Op
	partner []int
	// pairErr is set when the history breaks the invoke/complete discipline; partner is then
	// a lenient pairing (each completion with its process's last open invocation).
	pairErr error
}

// loadRun reads a run directory: its results res and history ops when given, else
// results.json and history.jsonl, and test.json. A missing or malformed history or results.json
// is an error naming the file (and the line); a missing test.json is not.
func loadRun(dir string, res *checkers.Result, ops []history.Op) (*storedRun, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("run directory %s is not a directory", dir)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // names in the report come from the path: "." has none
	}
	r := &storedRun{dir: dir, results: res}
	if res == nil {
		r.results, err = readResults(filepath.Join(dir, ResultsFile))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("run directory %s has no %s (run 'kchaos check %s' to write it)", dir, ResultsFile, dir)
		}
		if err != nil {
			return nil, err
		}
	}
	r.verdict = r.results.Valid.String()
	r.spec, err = readSpec(filepath.Join(dir, SpecFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if ops == nil {
		histPath := filepath.Join(dir, HistoryFile)
		if _, err := os.Stat(histPath); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("run directory %s has no %s", dir, HistoryFile)
		}
		if ops, err = history.ReadFile(histPath); err != nil {
			return nil, err
		}
	}
	r.setOps(ops)
	return r, nil
}

// setOps sets the history and pairs it.
func (r *storedRun) setOps(ops []history.Op) {
	r.ops = ops
	r.partner, r.pairErr = history.Pair(ops)
	if r.pairErr != nil {
		r.partner = lenientPair(ops)
	}
}

// ReadResults reads a run's results.json (path) as the checkers wrote it. An error names the
// file, and the line for a malformed one.
func ReadResults(path string) (*checkers.Result, error) { return readResults(path) }

// ReadSpec reads a run's test.json (path) as the harness wrote it. An error names the file, and
// the line for a malformed one.
func ReadSpec(path string) (*spec.Spec, error) { return readSpec(path) }

// readResults reads results.json as the checkers wrote it. An error names the file, and the line
// for a malformed one.
func readResults(path string) (*checkers.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	res, err := checkers.ReadResult(data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return res, nil
}

// readSpec reads test.json as the harness writes it. An error names the file, and the line for
// a malformed one.
func readSpec(path string) (*spec.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	var s spec.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("read %s: line %d: %w", path, lineAt(data, se.Offset), err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("read %s: line %d: %w", path, lineAt(data, te.Offset), err)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &s, nil
}

// lineAt returns the number, from 1, of the line holding byte offset off.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// lenientPair pairs each client completion with the open invocation of its process, for a
// history that history.Pair refuses; the report still draws what it can.
func lenientPair(ops []history.Op) []int {
	partner := make([]int, len(ops))
	open := map[history.Process]int{}
	for i := range ops {
		partner[i] = -1
		op := &ops[i]
		if !op.Process.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			open[op.Process] = i
			continue
		}
		if j, ok := open[op.Process]; ok && ops[j].Time <= op.Time {
			partner[i], partner[j] = j, i
			delete(open, op.Process)
		}
	}
	return partner
}
