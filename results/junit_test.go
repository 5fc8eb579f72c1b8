package results

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/stretchr/testify/require"
)

// The test reads junit.xml with its own types, the JUnit schema's elements and attributes.
type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Tests    string     `xml:"tests,attr"`
	Failures string     `xml:"failures,attr"`
	Errors   string     `xml:"errors,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name       string `xml:"name,attr"`
	Tests      string `xml:"tests,attr"`
	Failures   string `xml:"failures,attr"`
	Errors     string `xml:"errors,attr"`
	Skipped    string `xml:"skipped,attr"`
	Time       string `xml:"time,attr"`
	Timestamp  string `xml:"timestamp,attr"`
	Properties []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Cases []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	Time      string      `xml:"time,attr"`
	Failure   *xmlProblem `xml:"failure"`
	Error     *xmlProblem `xml:"error"`
	Skipped   *xmlProblem `xml:"skipped"`
}

type xmlProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// outcome is what a case says: pass, failure, error or skipped.
func (c xmlCase) outcome() string {
	switch {
	case c.Failure != nil:
		return "failure"
	case c.Error != nil:
		return "error"
	case c.Skipped != nil:
		return "skipped"
	}
	return "pass"
}

// readJUnit checks that data is well-formed XML and decodes it.
func readJUnit(t *testing.T, data []byte) xmlSuites {
	t.Helper()
	require.True(t, bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)))
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "well-formed XML")
	}
	var doc xmlSuites
	require.NoError(t, xml.Unmarshal(data, &doc))
	return doc
}

func TestJUnit(t *testing.T) {
	tests := []struct {
		run      string
		outcomes map[string]string // checker → outcome
		messages map[string]string // checker → failure or error message
	}{
		{run: "valid/20260301T100000", outcomes: map[string]string{"queue": "pass", "linearizable": "pass", "leader-election": "pass", "stats": "pass"}},
		{run: "invalid/20260301T110000",
			outcomes: map[string]string{"queue": "failure", "linearizable": "failure", "leader-election": "failure", "stats": "pass"},
			messages: map[string]string{"queue": "lost-write ×1", "linearizable": "not-linearizable ×1", "leader-election": "unclean-leader-election ×1"}},
		{run: "unknown/20260301T120000",
			outcomes: map[string]string{"queue": "pass", "linearizable": "error", "leader-election": "error", "stats": "pass"},
			messages: map[string]string{"linearizable": "unknown: linearizable could not decide", "leader-election": "unknown: leader-election could not decide"}},
		{run: "markup/20260301T130000", outcomes: map[string]string{"queue": "failure", "stats": "pass"},
			messages: map[string]string{"queue": "G1a ×1, lost-write ×1"}},
	}
	for _, tt := range tests {
		t.Run(tt.run, func(t *testing.T) {
			dir := copyRun(t, filepath.Join(testdataResults, tt.run))
			require.NoError(t, report(dir))
			data, err := os.ReadFile(filepath.Join(dir, JUnitFile))
			require.NoError(t, err)
			doc := readJUnit(t, data)
			require.Len(t, doc.Suites, 1)
			s := doc.Suites[0]

			// One case per checker of results.json, named after it.
			res, err := readResults(filepath.Join(dir, ResultsFile))
			require.NoError(t, err)
			require.Len(t, s.Cases, len(res.Checkers))
			got := map[string]string{}
			count := map[string]int{}
			for _, c := range s.Cases {
				got[c.Name] = c.outcome()
				count[c.outcome()]++
				require.Equal(t, "kchaos."+filepath.Dir(tt.run), c.Classname)
				_, err := strconv.ParseFloat(c.Time, 64)
				require.NoError(t, err)
				if msg, ok := tt.messages[c.Name]; ok {
					p := c.Failure
					if p == nil {
						p = c.Error
					}
					require.NotNil(t, p)
					require.Contains(t, p.Message, msg)
					require.NotEmpty(t, p.Text)
				}
			}
			require.Equal(t, tt.outcomes, got)

			// The counts add up, in the suite and at the top.
			for _, attrs := range [][3]string{{s.Tests, s.Failures, s.Errors}, {doc.Tests, doc.Failures, doc.Errors}} {
				require.Equal(t, strconv.Itoa(len(s.Cases)), attrs[0], "tests")
				require.Equal(t, strconv.Itoa(count["failure"]), attrs[1], "failures")
				require.Equal(t, strconv.Itoa(count["error"]), attrs[2], "errors")
			}
			require.Equal(t, strconv.Itoa(count["skipped"]), s.Skipped, "skipped")
			require.Equal(t, "kchaos/"+filepath.Dir(tt.run), s.Name)
			require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`, s.Timestamp)
			_, err = strconv.ParseFloat(s.Time, 64)
			require.NoError(t, err)
		})
	}
}

func TestJUnitEdgeCases(t *testing.T) {
	tests := []struct {
		name     string
		results  string
		outcomes map[string]string
		message  string
	}{
		{name: "nothing to check is skipped",
			results:  `{"valid":true,"anomaly_types":[],"anomalies":{},"checkers":{"queue":{"valid":true},"leader-election":{"valid":true,"checked":false}}}`,
			outcomes: map[string]string{"queue": "pass", "leader-election": "skipped"}, message: "nothing to check"},
		{name: "a checker this kchaos does not know",
			results:  `{"valid":"unknown","anomaly_types":[],"anomalies":{},"checkers":{"custom":{"valid":"unknown","why":"it could not"}}}`,
			outcomes: map[string]string{"custom": "error"}, message: `"why": "it could not"`},
		{name: "unclaimed anomalies go to the failing checker",
			results:  `{"valid":false,"anomaly_types":["weird"],"anomalies":{"weird":[{"explanation":"it was weird"}]},"checkers":{"custom":{"valid":false},"queue":{"valid":true}}}`,
			outcomes: map[string]string{"custom": "failure", "queue": "pass"}, message: "weird ×1"},
		{name: "no checkers",
			results:  `{"valid":true,"anomaly_types":[],"anomalies":{},"checkers":{}}`,
			outcomes: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := checkers.ReadResult([]byte(tt.results))
			require.NoError(t, err)
			data, err := junitXML(&storedRun{dir: t.TempDir(), results: res, verdict: res.Valid.String()})
			require.NoError(t, err)
			doc := readJUnit(t, data)
			got := map[string]string{}
			msgs := ""
			for _, c := range doc.Suites[0].Cases {
				got[c.Name] = c.outcome()
				for _, p := range []*xmlProblem{c.Failure, c.Error, c.Skipped} {
					if p != nil {
						msgs += p.Message + "\n" + p.Text
					}
				}
			}
			require.Equal(t, tt.outcomes, got)
			require.Contains(t, msgs, tt.message)
			require.Equal(t, strconv.Itoa(len(tt.outcomes)), doc.Tests)
			skipped := 0
			for _, o := range tt.outcomes {
				if o == "skipped" {
					skipped++
				}
			}
			require.Equal(t, strconv.Itoa(skipped), doc.Suites[0].Skipped)
		})
	}
}

// TestJUnitTxnChecker: the transactional checker's case fails with the types that made it
// invalid and passes when its anomalies are allowed, from the Result and from results.json alike.
func TestJUnitTxnChecker(t *testing.T) {
	tests := []struct {
		file, producer string
		outcome, msg   string
	}{
		{file: "G1c", outcome: "failure", msg: "G1c ×1"},
		{file: "G0", producer: "transactional", outcome: "pass"},
		{file: "aborted-read", outcome: "failure", msg: "aborted-read ×1"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ops, err := history.ReadFile(filepath.Join("..", "checkers", "txn", "testdata", tt.file+".jsonl"))
			require.NoError(t, err)
			dir := filepath.Join(t.TempDir(), "txn", "20260301T100000")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, writeHistory(dir, ops))
			res, err := checkers.Check(ops, checkers.Options{Workers: 1, Producer: tt.producer})
			require.NoError(t, err)
			var texts []string
			for _, given := range []*checkers.Result{res, nil} {
				_, err = WriteRun(dir, given, ops)
				require.NoError(t, err)
				data, err := os.ReadFile(filepath.Join(dir, JUnitFile))
				require.NoError(t, err)
				texts = append(texts, string(data))
				doc := readJUnit(t, data)
				var found bool
				for _, c := range doc.Suites[0].Cases {
					if c.Name != checkers.CheckerTxn {
						continue
					}
					found = true
					require.Equal(t, tt.outcome, c.outcome())
					if tt.msg != "" {
						require.Equal(t, tt.msg, c.Failure.Message)
					}
				}
				require.True(t, found, "a case for the txn checker")
			}
			require.Equal(t, texts[0], texts[1])
		})
	}
}
