package campaign

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"path/filepath"
	"strings"
)

// Bars says what each kind of scenario must do, under every table.
const Bars = "Bars: a safe scenario valid in at least 9 runs in 10 and never invalid (an unknown is no pass); " +
	"an unsafe one detected (every expected anomaly found) in at least 9 in 10; an explore one has none. " +
	"A run not finished (no results.json: still running, or not done) counts against the bar."

// cells are a row's columns as text, shared by the Markdown and the HTML.
type cells struct {
	Version, Scenario, Differs, Kind                     string
	Runs, Valid, Unknown, Invalid, NotFinished, Detected string
	Median, Seeds, Bar                                   string
}

func (r Row) cells() cells {
	t := r.Tally
	c := cells{Version: r.Version, Scenario: r.Scenario, Differs: r.Differs, Kind: r.Kind,
		Runs: fmt.Sprint(t.Runs + t.NotDone), Valid: fmt.Sprint(t.Valid), Unknown: fmt.Sprint(t.Unknown),
		Invalid: fmt.Sprint(t.Invalid), NotFinished: fmt.Sprint(t.NotDone),
		Detected: "–", Median: "–", Seeds: seedRanges(r.Runs), Bar: "met"}
	if !r.scenario.Safe() && !r.scenario.Explore {
		c.Detected = fmt.Sprintf("%d/%d", t.Detected, t.Runs+t.NotDone)
		c.Median = "n/a"
		if m, ok := t.MedianExposure(); ok {
			c.Median = m.String()
		}
	}
	switch {
	case r.scenario.Explore:
		c.Bar = "none"
	case !r.Met:
		c.Bar = "NOT met"
	}
	return c
}

// summaryLine counts the rows that meet their bar.
func (t Table) summaryLine() string {
	met := 0
	for _, r := range t.Rows {
		if r.Met {
			met++
		}
	}
	return fmt.Sprintf("%d of %d rows meet their bar.", met, len(t.Rows))
}

// Markdown writes the table as Markdown: one row per version and scenario, the rows that meet
// their bar counted, the bars, and the run directories left out and why (their paths relative
// to base, when they can be).
func (t Table) Markdown(base string) []byte {
	var b bytes.Buffer
	b.WriteString("| version | scenario | kind | runs | valid | unknown | invalid | not finished | detected | median time to the exposing fault | seeds | bar |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|\n")
	for _, r := range t.Rows {
		c := r.cells()
		scenario := c.Scenario
		if c.Differs != "" {
			scenario += " (spec differs: " + c.Differs + ")"
		}
		cols := []string{c.Version, scenario, c.Kind, c.Runs, c.Valid, c.Unknown, c.Invalid, c.NotFinished, c.Detected, c.Median, c.Seeds, c.Bar}
		for i := range cols {
			cols[i] = mdEscape(cols[i])
		}
		b.WriteString("| " + strings.Join(cols, " | ") + " |\n")
	}
	b.WriteString("\n" + t.summaryLine() + " " + Bars + "\n")
	if len(t.Problems) > 0 {
		b.WriteString("\nNot tabulated as they are:\n\n")
		for _, p := range t.Problems {
			fmt.Fprintf(&b, "- %s: %s\n", mdEscape(relTo(base, p.Dir)), mdEscape(p.Problem))
		}
	}
	return b.Bytes()
}

// mdEscape keeps a cell one cell on one line.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

// relTo returns path relative to base, with forward slashes; path as it is when it cannot be.
func relTo(base, path string) string {
	if base == "" {
		return filepath.ToSlash(path)
	}
	absBase, err1 := filepath.Abs(base)
	absPath, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return filepath.ToSlash(path)
	}
	rel, err := filepath.Rel(absBase, absPath)
	if err != nil {
		return filepath.ToSlash(absPath)
	}
	return filepath.ToSlash(rel)
}

//go:embed matrix.html.tmpl
var htmlTemplateText string

var htmlTemplate = template.Must(template.New("matrix").Parse(htmlTemplateText))

// runLink is one run in a cell of the HTML table: its seed, linking to its report.
type runLink struct {
	Seed  int64
	Href  string
	State string
	Title string
}

type htmlRow struct {
	C                                              cells
	Met                                            bool
	Explore                                        bool
	Valid, Unknown, Invalid, NotFinished, Detected []runLink
}

type htmlView struct {
	Rows     []htmlRow
	Summary  string
	Bars     string
	Problems []Problem
}

// HTML writes the table as one self-contained page (inline CSS, nothing fetched). Each count
// lists the runs it counts by seed, each a link to the run's report.html (to the run directory
// when it has none) relative to base, the directory the page is written in.
func (t Table) HTML(base string) ([]byte, error) {
	view := htmlView{Summary: t.summaryLine(), Bars: Bars}
	for _, r := range t.Rows {
		hr := htmlRow{C: r.cells(), Met: r.Met, Explore: r.scenario.Explore}
		unsafe := !r.scenario.Safe() && !r.scenario.Explore
		for _, run := range r.Runs {
			target := run.Report
			if target == "" {
				target = run.Dir
			}
			href := relTo(base, target)
			if run.Report == "" {
				href += "/"
			}
			l := runLink{Seed: run.Seed, Href: href, State: run.State, Title: relTo(base, run.Dir) + ": " + run.State}
			switch run.State {
			case "valid":
				hr.Valid = append(hr.Valid, l)
			case "unknown":
				hr.Unknown = append(hr.Unknown, l)
			case "invalid":
				hr.Invalid = append(hr.Invalid, l)
			default:
				hr.NotFinished = append(hr.NotFinished, l)
			}
			if unsafe && run.Detected {
				hr.Detected = append(hr.Detected, l)
			}
		}
		view.Rows = append(view.Rows, hr)
	}
	for _, p := range t.Problems {
		view.Problems = append(view.Problems, Problem{Dir: relTo(base, p.Dir), Problem: p.Problem})
	}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, view); err != nil {
		return nil, fmt.Errorf("render the matrix: %w", err)
	}
	return b.Bytes(), nil
}
