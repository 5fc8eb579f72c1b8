package results

import (
	"encoding/xml"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/txn"
)

// JUnit XML, the format CI dashboards (Jenkins, GitLab, GitHub annotations, Buildkite, ...)
// read: one <testsuite> for the run, one <testcase> per checker of results.json.
//
// A checker's verdict maps to a case as follows:
//
//   - valid: a passing case;
//   - invalid: <failure>, its message the anomaly types and counts, its text each anomaly's
//     explanation;
//   - unknown: <error>. Not <skipped>: dashboards show skipped cases as neutral and count a
//     suite with only passes and skips as green, while an unknown verdict means the checker could
//     not tell whether Kafka kept its promise (kchaos check exits 2, a CI failure). <error> is
//     JUnit's "the test could not be carried out", which is what unknown is, and every dashboard
//     shows it in red apart from failures;
//   - a checker with nothing to check ("checked": false, e.g. no observer lines in a user's own
//     history) does not decide the verdict: <skipped>, with the reason.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// anomalyOwners names the checker that reports an anomaly type, for checkers whose details do
// not list their types.
var anomalyOwners = map[string]string{
	"not-linearizable":        "linearizable",
	"unclean-leader-election": "leader-election",
	"lost-write":              "queue", "unseen": "queue", "duplicate": "queue", "inconsistent-offsets": "queue",
	"G1a": "queue", "poll-skip": "queue", "nonmonotonic-poll": "queue", "nonmonotonic-send": "queue",
	"int-poll-skip": "queue", "int-nonmonotonic-poll": "queue", "int-send-skip": "queue", "int-nonmonotonic-send": "queue",
}

// maxJUnitEntries bounds the anomalies listed per type in a failure's text.
const maxJUnitEntries = 50

// junitXML returns the text of junit.xml for a run.
func junitXML(r *storedRun) ([]byte, error) {
	name := specName(r.spec)
	if name == "" {
		name = baseName(parentDir(r.dir))
	}
	var end int64
	for i := range r.ops {
		end = max(end, r.ops[i].Time)
	}
	suite := junitSuite{Name: "kchaos/" + name, Time: secondsAttr(end)}
	if t, ok := parseStamp(baseName(r.dir)); ok {
		suite.Timestamp = t.Format("2006-01-02T15:04:05")
	}
	suite.Properties = append(suite.Properties, junitProperty{Name: "verdict", Value: r.verdict},
		junitProperty{Name: "run", Value: name + "/" + baseName(r.dir)},
		junitProperty{Name: "anomaly_types", Value: strings.Join(anomalyTypes(r.results), ",")},
		junitProperty{Name: "report", Value: ReportFile})
	if r.spec != nil {
		s := withDefaults(r.spec)
		suite.Properties = append(suite.Properties, junitProperty{Name: "seed", Value: strconv.FormatInt(s.Seed, 10)},
			junitProperty{Name: "nemesis", Value: strings.Join(s.Nemesis, ",")},
			junitProperty{Name: "cluster.image", Value: s.Cluster.Image})
	}

	claims := anomalyClaims(r.results)
	for _, cn := range slices.Sorted(maps.Keys(r.results.Checkers)) {
		c := r.results.Checkers[cn]
		tc := junitCase{Name: cn, Classname: "kchaos." + name, Time: "0"}
		switch verdict := checkerVerdict(c); {
		case !checkerChecked(c):
			tc.Skipped = &junitProblem{Message: "nothing to check: " + cn + " does not decide the verdict"}
			suite.Skipped++
		case verdict == checkers.Invalid:
			msg, text := failureText(r.results, claims[cn])
			if msg == "" {
				msg, text = "invalid", prettyJSON(detailOf(c), 10, 4000)
			}
			tc.Failure = &junitProblem{Message: msg, Type: "invalid", Text: text}
			suite.Failures++
		case verdict == checkers.Unknown:
			tc.Error = &junitProblem{Message: "unknown: " + cn + " could not decide" + reasonOf(c), Type: "unknown", Text: prettyJSON(detailOf(c), 10, 4000)}
			suite.Errors++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	// <testsuites> has no skipped attribute: Jenkins' schema (junit-10.xsd) does not allow one.
	doc := junitSuites{Name: "kchaos", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []junitSuite{suite}}
	printableStrings(reflect.ValueOf(&doc))
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", JUnitFile, err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// anomalyClaims returns, per checker, the anomaly types its failure lists: for the queue and
// transactional checkers the types that made them invalid, for the others those anomalyOwners gives them. An invalid
// checker that claims none gets every type no other checker claims.
func anomalyClaims(res *checkers.Result) map[string][]string {
	claims := map[string][]string{}
	claimed := map[string]bool{}
	names := slices.Sorted(maps.Keys(res.Checkers))
	for _, cn := range names {
		if q, ok := res.Checkers[cn].(*checkers.QueueResult); ok && q.BadAnomalyTypes != nil {
			claims[cn] = append(claims[cn], q.BadAnomalyTypes...)
		} else if tr, ok := res.Checkers[cn].(*txn.Result); ok {
			claims[cn] = append(claims[cn], tr.BadAnomalyTypes...)
		} else {
			for _, t := range anomalyTypes(res) {
				if anomalyOwners[t] == cn {
					claims[cn] = append(claims[cn], t)
				}
			}
		}
		for _, t := range claims[cn] {
			claimed[t] = true
		}
	}
	for _, cn := range names {
		if len(claims[cn]) > 0 || checkerVerdict(res.Checkers[cn]) != checkers.Invalid {
			continue
		}
		for _, t := range anomalyTypes(res) {
			if !claimed[t] {
				claims[cn] = append(claims[cn], t)
			}
		}
	}
	return claims
}

// failureText returns a failure's message ("lost-write ×3, unseen ×1") and text (each
// anomaly's explanation, or its JSON) for the given anomaly types.
func failureText(res *checkers.Result, types []string) (string, string) {
	var msg []string
	var text strings.Builder
	for _, t := range slices.Compact(slices.Sorted(slices.Values(types))) {
		entries := res.Anomalies[t]
		if len(entries) == 0 {
			continue
		}
		msg = append(msg, fmt.Sprintf("%s ×%d", t, len(entries)))
		fmt.Fprintf(&text, "%s (%d):\n", t, len(entries))
		for i, e := range entries {
			if i == maxJUnitEntries {
				fmt.Fprintf(&text, "  … and %d more (see %s)\n", len(entries)-i, ReportFile)
				break
			}
			line := checkers.DescribeAnomaly(e).Explanation
			if line == "" {
				line = cutUTF8(prettyJSON(e, 4, 600), 600)
			}
			fmt.Fprintf(&text, "  - %s\n", strings.ReplaceAll(line, "\n", "\n    "))
		}
	}
	return strings.Join(msg, ", "), text.String()
}

// reasonOf returns ": <reasons>" when a checker gives any (see checkerReasons).
func reasonOf(c any) string {
	reasons := checkerReasons(c, 3)
	if len(reasons) == 0 {
		return ""
	}
	return ": " + strings.Join(reasons, "; ")
}

// secondsAttr writes nanoseconds as JUnit's seconds with millisecond precision.
func secondsAttr(ns int64) string { return strconv.FormatFloat(float64(ns)/1e9, 'f', 3, 64) }
