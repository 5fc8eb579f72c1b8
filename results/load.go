package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kchaos/kchaos/history"
)

// storedRun is what a run directory holds, read for the report: the spec (nil when the
// directory has no test.json, as a user's own history may not), the results, the history and
// its pairing.
type storedRun struct {
	dir     string
	spec    *jvalue
	results *jvalue
	verdict string // "valid", "invalid" or "unknown"
	ops     []history.Op
	partner []int
	// pairErr is set when the history breaks the invoke/complete discipline; partner is then
	// a lenient pairing (each completion with its process's last open invocation).
	pairErr error
}

// loadRun reads a run directory. A missing or malformed history or results.json is an error
// naming the file (and, for the history, the line); a missing test.json is not.
func loadRun(dir string) (*storedRun, error) {
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
	r := &storedRun{dir: dir}
	r.results, err = readJSONFile(filepath.Join(dir, ResultsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("run directory %s has no %s (run 'kchaos check %s' to write it)", dir, ResultsFile, dir)
	}
	if err != nil {
		return nil, err
	}
	if r.verdict, err = verdictOf(r.results); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ResultsFile), err)
	}
	r.spec, err = readJSONFile(filepath.Join(dir, SpecFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if r.spec != nil && r.spec.kind != jObject {
		return nil, fmt.Errorf("%s: want a JSON object", filepath.Join(dir, SpecFile))
	}
	histPath := filepath.Join(dir, HistoryFile)
	if _, err := os.Stat(histPath); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("run directory %s has no %s", dir, HistoryFile)
	}
	if r.ops, err = history.ReadFile(histPath); err != nil {
		return nil, err
	}
	if r.partner, err = history.Pair(r.ops); err != nil {
		r.pairErr = err
		r.partner = lenientPair(r.ops)
	}
	return r, nil
}

// readJSONFile reads a JSON file generically; a syntax error names its line.
func readJSONFile(path string) (*jvalue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	v, err := parseJSON(data)
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("read %s: line %d: %w", path, lineAt(data, se.Offset), err)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return v, nil
}

// lineAt returns the number, from 1, of the line holding byte offset off.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// verdictOf reads results.json's "valid": true, false or "unknown".
func verdictOf(res *jvalue) (string, error) {
	if res == nil || res.kind != jObject {
		return "", errors.New(`want a JSON object with "valid", "anomaly_types", "anomalies" and "checkers"`)
	}
	return validity(res.get("valid"), `"valid"`)
}

// validity reads a verdict written as true, false or "unknown".
func validity(v *jvalue, what string) (string, error) {
	switch {
	case v == nil:
		return "", fmt.Errorf("%s is missing", what)
	case v.kind == jBool && v.b:
		return "valid", nil
	case v.kind == jBool:
		return "invalid", nil
	case v.kind == jString && v.text == "unknown":
		return "unknown", nil
	}
	return "", fmt.Errorf("%s is %s; want true, false or \"unknown\"", what, v.compact(40))
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
