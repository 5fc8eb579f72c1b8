package results

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/history/historytest"
	"github.com/stretchr/testify/require"
)

// loseValue returns ops with the value of the first acknowledged send removed from every poll,
// as if Kafka had lost it: a lost write (later offsets were read), and an unseen value.
func loseValue(ops []history.Op) []history.Op {
	var key string
	var val history.Value
	found := false
	for i := range ops {
		if ops[i].Type != history.OK || ops[i].F != history.FSend {
			continue
		}
		for _, m := range ops[i].Mops {
			if m.Offset != history.NoOffset {
				key, val, found = m.Key, m.Value, true
				break
			}
		}
		if found {
			break
		}
	}
	for i := range ops {
		if ops[i].F != history.FPoll {
			continue
		}
		for mi := range ops[i].Mops {
			for ki := range ops[i].Mops[mi].Reads {
				kr := &ops[i].Mops[mi].Reads[ki]
				if kr.Key == key {
					kr.Records = slices.DeleteFunc(slices.Clone(kr.Records), func(r history.Record) bool { return r.Value == val })
				}
			}
		}
	}
	return ops
}

// tagRe and attrRe read the start tags of report.html, which html/template writes with quoted
// attributes.
var (
	tagRe  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"]*")?)*)\s*/?>`)
	attrRe = regexp.MustCompile(`([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?`)
)

// startTag is one start tag of a page: its name and attributes.
type startTag struct {
	name  string
	attrs map[string]string
}

func startTags(page string) []startTag {
	var out []startTag
	for _, m := range tagRe.FindAllStringSubmatch(page, -1) {
		t := startTag{name: m[1], attrs: map[string]string{}}
		for _, a := range attrRe.FindAllStringSubmatch(m[2], -1) {
			t.attrs[a[1]] = a[2]
		}
		out = append(out, t)
	}
	return out
}

// TestEndToEnd checks a generated history through the checkers and every output of its run
// directory, read back as their readers read them: results.json decoded, report.html's verdict
// banner and anomaly sections, junit.xml decoded, the index's row. No cluster.
func TestEndToEnd(t *testing.T) {
	tests := []struct {
		name    string
		ops     func() []history.Op
		verdict checkers.Validity
		types   []string // anomaly types that must be found
	}{
		{name: "valid", verdict: checkers.Valid, ops: func() []history.Op {
			return historytest.Generate(historytest.Config{Ops: 2000, Keys: 4, LeaderChanges: 3, InfoRate: 0.05, FailRate: 0.05, Seed: 11})
		}},
		{name: "a value lost", verdict: checkers.Invalid, types: []string{checkers.LostWrite, checkers.Unseen}, ops: func() []history.Op {
			return loseValue(historytest.Generate(historytest.Config{Ops: 2000, Keys: 4, LeaderChanges: 3, Seed: 12}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			rd, err := NewRunDir(root, "e2e", time.Date(2026, 3, 1, 10, 0, 0, 0, time.Local))
			require.NoError(t, err)
			require.NoError(t, rd.WriteJSON(SpecFile, map[string]any{"name": "e2e", "seed": 11, "nemesis": []string{}}))
			require.NoError(t, writeHistory(rd.Path, tt.ops()))
			ops, err := history.ReadFile(rd.File(HistoryFile))
			require.NoError(t, err)
			res, err := checkers.Check(ops, checkers.Options{})
			require.NoError(t, err)
			require.Equal(t, tt.verdict, res.Valid, "%v", res.AnomalyTypes)
			for _, typ := range tt.types {
				require.Contains(t, res.AnomalyTypes, typ)
			}

			w, err := WriteRun(rd.Path, res, ops)
			require.NoError(t, err)
			require.Equal(t, rd.File(ResultsFile), w.Results)

			// results.json
			data, err := os.ReadFile(w.Results)
			require.NoError(t, err)
			got, err := checkers.ReadResult(data)
			require.NoError(t, err)
			require.Equal(t, res.Valid, got.Valid)
			require.Equal(t, res.AnomalyTypes, got.AnomalyTypes)
			for typ, entries := range res.Anomalies {
				require.Len(t, got.Anomalies[typ], len(entries), typ)
			}

			// report.html: the banner says the verdict; each anomaly type has its section and
			// chip, each entry its row.
			page, err := os.ReadFile(w.Report)
			require.NoError(t, err)
			var banner string
			sections, chips, entries := []string{}, []string{}, map[string]int{}
			for _, tag := range startTags(string(page)) {
				id, class := tag.attrs["id"], tag.attrs["class"]
				switch {
				case tag.name == "header" && id == "top":
					banner = class
				case tag.name == "h3" && regexp.MustCompile(`^anomaly-`).MatchString(id):
					sections = append(sections, id)
				case tag.name == "a" && class == "chip":
					chips = append(chips, tag.attrs["href"])
				case tag.name == "tr" && class == "entry":
					entries[regexp.MustCompile(`^a(\d+)-`).FindStringSubmatch(id)[1]]++
				}
			}
			require.Equal(t, "banner v-"+res.Valid.String(), banner)
			wantSections, wantChips := []string{}, []string{}
			wantEntries := map[string]int{}
			for i, typ := range res.AnomalyTypes {
				wantSections = append(wantSections, anomalyID(typ))
				wantChips = append(wantChips, "#"+anomalyID(typ))
				wantEntries[strconv.Itoa(i)] = min(len(res.Anomalies[typ]), maxEntriesShown)
			}
			require.Equal(t, wantSections, sections)
			require.Equal(t, wantChips, chips)
			require.Equal(t, wantEntries, entries)

			// junit.xml: one case per checker; the queue's failure names its anomalies.
			junit, err := os.ReadFile(w.JUnit)
			require.NoError(t, err)
			doc := readJUnit(t, junit)
			require.Len(t, doc.Suites, 1)
			var names []string
			for _, c := range doc.Suites[0].Cases {
				names = append(names, c.Name)
				if c.Name == checkers.CheckerQueue && tt.verdict == checkers.Invalid {
					require.NotNil(t, c.Failure)
					require.Contains(t, c.Failure.Message, checkers.LostWrite+" ×1")
				}
			}
			require.Equal(t, slices.Sorted(maps.Keys(res.Checkers)), names)
			require.Subset(t, names, []string{"leader-election", "linearizable", "queue", "stats"})
			props := map[string]string{}
			for _, p := range doc.Suites[0].Properties {
				props[p.Name] = p.Value
			}
			require.Equal(t, res.Valid.String(), props["verdict"])

			// index.html: the results directory NewRunDir marked lists the run.
			require.Equal(t, filepath.Join(root, IndexFile), w.Index)
			index, err := os.ReadFile(w.Index)
			require.NoError(t, err)
			requireHas(t, string(index), `<span class="pill `+res.Valid.String()+`">`)
			requireHas(t, string(index), `<a href="e2e/20260301T100000/report.html">report</a>`)

			// kchaos report writes the same report from the files alone.
			again, err := WriteRun(rd.Path, nil, nil)
			require.NoError(t, err)
			require.Empty(t, again.Results, "results.json is read, not written")
			page2, err := os.ReadFile(again.Report)
			require.NoError(t, err)
			require.True(t, string(page) == string(page2), "the same report.html")
		})
	}
}
