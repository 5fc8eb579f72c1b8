package results

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
		{"invalid", "markup/20260301T130000", false},
		{"unknown", "unknown/20260301T120000", true},
		{"invalid", "invalid/20260301T110000", false},
		{"valid", "valid/20260301T100000", false},
		{"unreadable", "broken/20260228T080000", false},
	}, rows, "newest first")

	text := string(page)
	requireHas(t, text, `<a href="invalid/20260301T110000/report.html">report</a>`)
	requireHas(t, text, `<a href="markup/20260301T130000/junit.xml">junit</a>`)
	require.Equal(t, 4, strings.Count(text, "no report"))
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
