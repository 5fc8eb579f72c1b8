package results

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// VisualizationDir is the folder of a run directory that holds porcupine's visualizations of
// the keys that were not linearizable: VisualizationDir/<topic>/<partition>.html. The report
// links to every file there.
const VisualizationDir = "linearizability"

var vizKey = regexp.MustCompile(`^[A-Za-z0-9._-]+/[0-9]+$`)

// VisualizationPath returns where the visualization of key ("<topic>/<partition>") goes in the
// run directory runDir. A key of another shape is an error, so that no key can name a file
// outside the folder.
func VisualizationPath(runDir, key string) (string, error) {
	if !vizKey.MatchString(key) || key[0] == '.' {
		return "", fmt.Errorf("visualization of key %q: want <topic>/<partition>", key)
	}
	return filepath.Join(runDir, VisualizationDir, filepath.FromSlash(key)+".html"), nil
}

// WriteVisualization writes the visualization of key into the run directory with write (for
// example the linearizability checker's Visualize), through a temporary file and a rename. Call
// it before rendering the report, which links the files it finds (WriteRun does both).
func WriteVisualization(runDir, key string, write func(io.Writer) error) error {
	p, err := VisualizationPath(runDir, key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("visualization of %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".viz-*")
	if err != nil {
		return fmt.Errorf("visualization of %s: %w", key, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("visualization of %s: %w", key, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("visualization of %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("visualization of %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("visualization of %s: %w", key, err)
	}
	return nil
}
