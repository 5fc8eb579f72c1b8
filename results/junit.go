package results

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	name := r.spec.get("name").str()
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
	for _, f := range []string{"seed", "nemesis", "cluster.image"} {
		if v := r.spec.path(f); v != nil {
			suite.Properties = append(suite.Properties, junitProperty{Name: f, Value: flatText(v)})
		}
	}

	checkers := r.results.get("checkers")
	var names []string
	if checkers != nil {
		names = checkers.keys
	}
	claims := anomalyClaims(r.results)
	for _, cn := range names {
		c := checkers.get(cn)
		tc := junitCase{Name: cn, Classname: "kchaos." + name, Time: "0"}
		if ms, ok := c.get("elapsed_ms").float(); ok {
			tc.Time = strconv.FormatFloat(ms/1000, 'f', 3, 64)
		}
		verdict, err := validity(c.get("valid"), `"valid"`)
		checked := c.get("checked")
		switch {
		case err != nil:
			tc.Error = &junitProblem{Message: "malformed checker result: " + err.Error(), Type: "malformed", Text: c.pretty(10, 4000)}
			suite.Errors++
		case checked != nil && checked.kind == jBool && !checked.b:
			tc.Skipped = &junitProblem{Message: "nothing to check: " + cn + " does not decide the verdict"}
			suite.Skipped++
		case verdict == "invalid":
			msg, text := failureText(r.results, claims[cn])
			if msg == "" {
				msg, text = "invalid", c.pretty(10, 4000)
			}
			tc.Failure = &junitProblem{Message: msg, Type: "invalid", Text: text}
			suite.Failures++
		case verdict == "unknown":
			tc.Error = &junitProblem{Message: "unknown: " + cn + " could not decide" + reasonOf(c), Type: "unknown", Text: c.pretty(10, 4000)}
			suite.Errors++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	// <testsuites> has no skipped attribute: Jenkins' schema (junit-10.xsd) does not allow one.
	doc := junitSuites{Name: "kchaos", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []junitSuite{suite}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", JUnitFile, err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// anomalyClaims returns, per checker, the anomaly types its failure lists: those its details
// name ("bad_anomaly_types", else "anomaly_types"), else those anomalyOwners gives it. An invalid
// checker that claims none gets every type no other checker claims.
func anomalyClaims(res *jvalue) map[string][]string {
	claims := map[string][]string{}
	checkers := res.get("checkers")
	if checkers == nil {
		return claims
	}
	claimed := map[string]bool{}
	for i, cn := range checkers.keys {
		c := checkers.vals[i]
		list := c.get("bad_anomaly_types")
		if list == nil {
			list = c.get("anomaly_types")
		}
		for _, t := range list.items() {
			claims[cn] = append(claims[cn], t.plain())
		}
		if list == nil {
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
	for i, cn := range checkers.keys {
		if len(claims[cn]) > 0 {
			continue
		}
		if v, _ := validity(checkers.vals[i].get("valid"), ""); v != "invalid" {
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
func failureText(res *jvalue, types []string) (string, string) {
	all := res.get("anomalies")
	var msg []string
	var text strings.Builder
	for _, t := range slices.Compact(slices.Sorted(slices.Values(types))) {
		entries := all.get(t).items()
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
			line := ""
			for _, f := range explanationFields {
				if s := e.get(f).str(); s != "" {
					line = s
					break
				}
			}
			if line == "" {
				line = e.compact(600)
			}
			fmt.Fprintf(&text, "  - %s\n", strings.ReplaceAll(line, "\n", "\n    "))
		}
	}
	return strings.Join(msg, ", "), text.String()
}

// reasonOf returns ": <reasons>" when a checker's details give any (see reasonsOf).
func reasonOf(c *jvalue) string {
	reasons := reasonsOf(c, 3)
	if len(reasons) == 0 {
		return ""
	}
	return ": " + strings.Join(reasons, "; ")
}

// flatText writes a spec value as a property: lists comma-separated.
func flatText(v *jvalue) string {
	if v.kind == jArray {
		parts := make([]string, len(v.vals))
		for i, item := range v.vals {
			parts[i] = item.plain()
		}
		return strings.Join(parts, ",")
	}
	return v.plain()
}

// secondsAttr writes nanoseconds as JUnit's seconds with millisecond precision.
func secondsAttr(ns int64) string { return strconv.FormatFloat(float64(ns)/1e9, 'f', 3, 64) }
