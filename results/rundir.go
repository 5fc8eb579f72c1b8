// Package results owns the run directory: its layout, the files a run leaves (test.json,
// history.jsonl, results.json, report files, node logs), the results/latest link and the index
// of a results directory. It writes what others computed; it computes no verdict.
//
// WriteRun writes every output of a run directory: results.json (a checkers.Result), porcupine's
// views, report.html, junit.xml and the index. It reads results.json back as checkers.Result
// (checkers.ReadResult) and test.json as spec.Spec: no field is looked up by name. The same run
// directory gives the same bytes.
package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names inside a run directory.
const (
	SpecFile    = "test.json"
	HistoryFile = "history.jsonl"
	ResultsFile = "results.json"
	NodesDir    = "nodes"
	LatestLink  = "latest"
)

// RunDir is one run's directory: <results dir>/<test name>/<timestamp>/.
type RunDir struct {
	Path string
}

// NewRunDir creates <root>/<name>/<timestamp>/ (and its nodes/ folder) and marks root as a
// results directory of kchaos (ResultsMarker, so that its index may be written there). Two runs
// started in the same second get distinct directories. <root>/latest moves only with
// MarkLatest, once the run has tested something.
func NewRunDir(root, name string, started time.Time) (RunDir, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." || name == LatestLink {
		return RunDir{}, fmt.Errorf("test name %q cannot be a directory name", name)
	}
	stamp := started.Format("20060102T150405")
	var dir string
	for i := 0; ; i++ {
		dir = filepath.Join(root, name, stamp)
		if i > 0 {
			dir = fmt.Sprintf("%s-%d", dir, i)
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return RunDir{}, fmt.Errorf("create results directory: %w", err)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return RunDir{}, fmt.Errorf("create run directory: %w", err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, NodesDir), 0o755); err != nil {
		return RunDir{}, fmt.Errorf("create run directory: %w", err)
	}
	if err := markResultsDir(root); err != nil {
		return RunDir{}, err
	}
	return RunDir{Path: dir}, nil
}

// MarkLatest points <root>/latest at the run. A run calls it when its workload starts: a run
// that never reached Kafka leaves latest on the last run that did.
func (d RunDir) MarkLatest(root string) error { return pointLatest(root, d.Path) }

// markResultsDir writes ResultsMarker into root unless it is there.
func markResultsDir(root string) error {
	p := filepath.Join(root, ResultsMarker)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := WriteFileAtomic(p, []byte(markerText)); err != nil {
		return fmt.Errorf("mark the results directory: %w", err)
	}
	return nil
}

// pointLatest makes <root>/latest a relative symlink to dir, replacing an older one atomically.
func pointLatest(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return fmt.Errorf("link latest run: %w", err)
	}
	tmp := filepath.Join(root, fmt.Sprintf(".latest-%d", os.Getpid()))
	_ = os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return fmt.Errorf("link latest run: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(root, LatestLink)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("link latest run: %w", err)
	}
	return nil
}

// File returns the path of a file in the run directory.
func (d RunDir) File(name string) string { return filepath.Join(d.Path, name) }

// NodesPath is where node logs go: one folder per node.
func (d RunDir) NodesPath() string { return filepath.Join(d.Path, NodesDir) }

// WriteJSON writes v, indented, to name in the run directory through a temporary file and a
// rename, so a reader never sees half a file and an error leaves the old file in place.
func (d RunDir) WriteJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return WriteFileAtomic(d.File(name), append(data, '\n'))
}

// WriteFileAtomic writes data to path through a temporary file in the same directory and a rename.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
