package results

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kchaos/kchaos/history"
	"github.com/stretchr/testify/require"
)

func TestWriteIndex(t *testing.T) {
	root := t.TempDir()
	copyTree(t, testdataResults, root)
	// Reports for two runs; latest points at the unknown one.
	require.NoError(t, report(filepath.Join(root, "invalid/20260301T110000")))
	require.NoError(t, report(filepath.Join(root, "markup/20260301T130000")))
	require.NoError(t, os.Symlink("unknown/20260301T120000", filepath.Join(root, LatestLink)))
	// A run killed before its check: a history and no results.json.
	killed := filepath.Join(root, "valid/20260302T090000")
	require.NoError(t, os.MkdirAll(killed, 0o755))
	data, err := os.ReadFile(filepath.Join(root, "valid/20260301T100000", HistoryFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(killed, HistoryFile), data, 0o644))
	// A run whose results.json is broken, and a folder that is no run.
	broken := filepath.Join(root, "broken/20260228T080000")
	require.NoError(t, os.MkdirAll(broken, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(broken, ResultsFile), []byte("{"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "valid/notes"), 0o755))

	require.NoError(t, WriteIndex(root))
	page, err := os.ReadFile(filepath.Join(root, IndexFile))
	require.NoError(t, err)

	rowRe := regexp.MustCompile(`<tr class="run( latest)?"><td><span class="pill ([a-z]+)">.*?<div class="mono muted">([^<]+)</div>.*?</tr>`)
	type row struct {
		verdict, run string
		latest       bool
	}
	var rows []row
	for _, m := range rowRe.FindAllStringSubmatch(string(page), -1) {
		rows = append(rows, row{verdict: m[2], run: m[3], latest: m[1] != ""})
	}
	require.Equal(t, []row{
		{"unchecked", "valid/20260302T090000", false},
		{"valid", "elr/20260301T140000", false},
		{"invalid", "markup/20260301T130000", false},
		{"unknown", "unknown/20260301T120000", true},
		{"invalid", "invalid/20260301T110000", false},
		{"valid", "valid/20260301T100000", false},
		{"unreadable", "broken/20260228T080000", false},
	}, rows, "newest first")

	text := string(page)
	requireHas(t, text, `<a href="invalid/20260301T110000/report.html">report</a>`)
	requireHas(t, text, `<a href="markup/20260301T130000/junit.xml">junit</a>`)
	require.Equal(t, 5, strings.Count(text, "no report"))
	requireHas(t, text, "lost-write ×1, not-linearizable ×1, unclean-leader-election ×1")
	require.False(t, strings.Contains(text, "<script"), "the index has no script")
	// The duration is the time of the history's last line.
	ops, err := history.ReadFile(filepath.Join(root, "unknown/20260301T120000", HistoryFile))
	require.NoError(t, err)
	requireHas(t, text, "<td class=\"mono nw\">"+durationText(ops[len(ops)-1].Time)+"</td>")
}

func TestLastOp(t *testing.T) {
	long := history.SendInvoke(3, "k/0", history.StringValue(strings.Repeat("x", 300_000)))
	long.Index, long.Time = 1, 77
	first := history.SendInvoke(2, "k/0", history.IntValue(1))
	tests := []struct {
		name    string
		text    string
		want    int64 // time of the last op
		wantErr string
	}{
		{name: "last line", text: string(history.AppendJSON(nil, &first)) + "\n" + string(history.AppendJSON(nil, &long)) + "\n\n", want: 77},
		{name: "one line", text: string(history.AppendJSON(nil, &long)), want: 77},
		{name: "malformed", text: "{\"index\":0}\n{\"index\":", wantErr: "last line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), HistoryFile)
			require.NoError(t, os.WriteFile(p, []byte(tt.text), 0o644))
			op, err := lastOp(p)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, op.Time)
		})
	}
}

// TestIndexOnlyWhereKchaosOwns checks that an index.html is written only in a directory kchaos
// owns, and that a page of someone else's is left as it was.
func TestIndexOnlyWhereKchaosOwns(t *testing.T) {
	const foreign = "<!DOCTYPE html><title>my site</title>"
	oldIndex := "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<title>kchaos runs</title>"
	run := func(t *testing.T, root string) {
		copyTree(t, filepath.Join(testdataResults, "valid/20260301T100000"), filepath.Join(root, "valid/20260301T100000"))
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, root string)
		wantErr string // "" when the index is written
	}{
		{name: "marked", setup: func(t *testing.T, root string) {
			require.NoError(t, os.WriteFile(filepath.Join(root, ResultsMarker), nil, 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(root, IndexFile), []byte(foreign), 0o644))
		}},
		{name: "runs of an older kchaos", setup: run},
		{name: "runs of an older kchaos and its index", setup: func(t *testing.T, root string) {
			run(t, root)
			require.NoError(t, os.WriteFile(filepath.Join(root, IndexFile), []byte(oldIndex), 0o644))
		}},
		{name: "empty", setup: func(*testing.T, string) {}, wantErr: "no run directory NAME/TIMESTAMP"},
		{name: "a run without its spec", setup: func(t *testing.T, root string) {
			run(t, root)
			require.NoError(t, os.Remove(filepath.Join(root, "valid/20260301T100000", SpecFile)))
		}, wantErr: "no run directory"},
		{name: "someone else's index", setup: func(t *testing.T, root string) {
			run(t, root)
			require.NoError(t, os.WriteFile(filepath.Join(root, IndexFile), []byte(foreign), 0o644))
		}, wantErr: "its index.html was not written by kchaos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			tt.setup(t, root)
			before, _ := os.ReadFile(filepath.Join(root, IndexFile))
			err := WriteIndex(root)
			after, _ := os.ReadFile(filepath.Join(root, IndexFile))
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrNotResultsDir)
				require.ErrorContains(t, err, tt.wantErr)
				require.Equal(t, string(before), string(after), "index.html left as it was")
				return
			}
			require.NoError(t, err)
			require.Contains(t, string(after), indexGenerator)
		})
	}
}

// TestReportIndexesOnlyItsResultsDir checks where a report of a run directory writes an index:
// in the results directory NewRunDir made, and not two levels above any directory named like a
// timestamp.
func TestReportIndexesOnlyItsResultsDir(t *testing.T) {
	stored := filepath.Join(testdataResults, "valid/20260301T100000")
	tests := []struct {
		name   string
		layout func(t *testing.T, root string) string // returns the run directory
		index  bool
	}{
		{name: "made by NewRunDir", index: true, layout: func(t *testing.T, root string) string {
			rd, err := NewRunDir(root, "valid", time.Date(2026, 3, 1, 10, 0, 0, 0, time.Local))
			require.NoError(t, err)
			copyTree(t, stored, rd.Path)
			return rd.Path
		}},
		{name: "named like a timestamp in someone else's directory", layout: func(t *testing.T, root string) string {
			require.NoError(t, os.WriteFile(filepath.Join(root, IndexFile), []byte("<title>mine</title>"), 0o644))
			dir := filepath.Join(root, "x", "20260301T100000")
			copyTree(t, stored, dir)
			return dir
		}},
		{name: "not named like a timestamp", layout: func(t *testing.T, root string) string {
			dir := filepath.Join(root, "x", "run")
			copyTree(t, stored, dir)
			return dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := tt.layout(t, root)
			before, _ := os.ReadFile(filepath.Join(root, IndexFile))
			w, err := WriteRun(dir, nil, nil)
			require.NoError(t, err)
			after, _ := os.ReadFile(filepath.Join(root, IndexFile))
			if tt.index {
				require.Equal(t, filepath.Join(root, IndexFile), w.Index)
				require.Contains(t, string(after), indexGenerator)
				return
			}
			require.Empty(t, w.Index)
			require.ErrorIs(t, w.NoIndex, ErrNotResultsDir)
			require.Equal(t, string(before), string(after))
		})
	}
}
