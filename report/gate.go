package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// GateVerdict is what the gate says of one cell.
type GateVerdict string

// Verdicts of a gate cell.
const (
	GateOK          GateVerdict = "ok"
	GateRegression  GateVerdict = "regression"
	GateWithinNoise GateVerdict = "within-noise"
	GateMissing     GateVerdict = "missing"
)

// Checks a gate cell can be: the used memory of a phase, or the API verdict.
const (
	CheckIdle     = "idle"
	CheckWorkload = "workload"
	CheckAPI      = "api"
)

// Threshold is how far a phase's used memory may grow from A to B. With
// both set, a cell fails only past both: a few MiB are a large share of a
// small system, and a small share of a large one is many MiB, and neither
// alone says the system got heavier. Nil: no limit of that kind; with
// neither, the phase is not judged on growth.
type Threshold struct {
	MiB *float64 `json:"mib,omitempty"`
	Pct *float64 `json:"pct,omitempty"`
}

// GateRules are the thresholds a comparison is held to, A being the baseline.
type GateRules struct {
	Idle          Threshold `json:"idle"`
	Workload      Threshold `json:"workload"`
	AllowAPIWorse bool      `json:"allowApiWorse"`
}

// Gate is the verdict on B against the baseline A: one cell per system, VM
// size and check that A measured.
type Gate struct {
	Rules  GateRules  `json:"thresholds"`
	Passed bool       `json:"passed"`
	Cells  []GateCell `json:"cells"`
	// work names the workload in the gate's text, as the comparison does.
	work string
}

// GateCell is one system at one VM size and one check.
type GateCell struct {
	Profile   string      `json:"profile"`
	MemoryMiB int         `json:"memoryMiB"`
	Check     string      `json:"check"`
	Verdict   GateVerdict `json:"verdict"`
	GrowthMiB *float64    `json:"growthMiB,omitempty"`
	GrowthPct *float64    `json:"growthPct,omitempty"` // of A's median
	// Figure is what a phase's cell judged: FigureUsed or
	// FigureUsedWithoutPCP; empty for the API's.
	Figure string `json:"figure,omitempty"`
	Detail string `json:"detail"`
}

// Failed reports whether the cell fails the gate.
func (c GateCell) Failed() bool { return c.Verdict == GateRegression || c.Verdict == GateMissing }

// Line names a cell of the gate, its check and verdict, and says why, on
// one line.
func (g *Gate) Line(c GateCell) string {
	work := g.workload()
	check := map[string]string{CheckIdle: "idle", CheckWorkload: "with " + work, CheckAPI: "API after " + work}[c.Check]
	verdict := strings.ReplaceAll(string(c.Verdict), "-", " ")
	return fmt.Sprintf("%s at %s MiB, %s: %s: %s", c.Profile, sizeCell(c.MemoryMiB), check, verdict, c.Detail)
}

// workload is the name the gate's text gives the workload; a gate read
// back from JSON does not know it.
func (g *Gate) workload() string {
	if g.work == "" {
		return unknownWorkload
	}
	return g.work
}

// ReadRun loads a run from its folder or from the folder's results.json
// named directly, such as a baseline committed without the rest of its run.
func ReadRun(path string) (record.Run, error) {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return record.Read(path)
	}
	if filepath.Base(path) != record.File {
		return record.Run{}, fmt.Errorf("%s: neither a run folder nor a %s", path, record.File)
	}
	return record.Read(filepath.Dir(path))
}

// Judge holds B to the baseline A. A system at a size only B measured is
// not judged: there is nothing to hold it to.
func (c Comparison) Judge(rules GateRules) *Gate {
	g := &Gate{Rules: rules, Passed: true, Cells: []GateCell{}, work: c.workload()}
	for _, r := range c.Rows {
		if r.A == nil {
			continue
		}
		for _, cell := range []*GateCell{
			judgePhase(r, CheckIdle, rules.Idle, figureOf(r, func(s *Side) (*Stat, *Stat) { return s.IdleMiB, s.IdleWithoutPCPMiB })),
			judgePhase(r, CheckWorkload, rules.Workload, figureOf(r, func(s *Side) (*Stat, *Stat) { return s.WorkloadMiB, s.WorkloadWithoutPCPMiB })),
			judgeAPI(r, rules.AllowAPIWorse),
		} {
			if cell != nil {
				g.Cells = append(g.Cells, *cell)
				g.Passed = g.Passed && !cell.Failed()
			}
		}
	}
	return g
}

// Figures a phase's cell judges.
const (
	FigureUsed           = "used"
	FigureUsedWithoutPCP = "used without the per-CPU free lists"
)

// figure is the figure a row's phase is judged on, and how to read it of a
// side.
type figure struct {
	name string
	pick func(*Side) *Stat
}

// figureOf: used without the free pages on the per-CPU lists where both
// runs counted them, else used. Those pages are free memory the kernel
// keeps per CPU; on one vCPU they are either a few MiB or about 45, from one
// boot of the same image to the next (docs/baseline.md), which would
// otherwise pass for a growth or hide one.
func figureOf(r CompareRow, both func(*Side) (*Stat, *Stat)) figure {
	plain := func(s *Side) *Stat { p, _ := both(s); return p }
	if r.A == nil || r.B == nil {
		return figure{FigureUsed, plain}
	}
	if _, a := both(r.A); a != nil {
		if _, b := both(r.B); b != nil {
			return figure{FigureUsedWithoutPCP, func(s *Side) *Stat { _, n := both(s); return n }}
		}
	}
	return figure{FigureUsed, plain}
}

// judgePhase is nil when A has no samples in the phase: a figure A never
// had cannot go missing or grow.
func judgePhase(r CompareRow, check string, t Threshold, f figure) *GateCell {
	pick := f.pick
	a := pick(r.A)
	if a == nil {
		return nil
	}
	cell := &GateCell{Profile: r.Profile, MemoryMiB: r.MemoryMiB, Check: check, Figure: f.name}
	var b *Stat
	if r.B != nil {
		b = pick(r.B)
	}
	switch {
	case r.B == nil:
		cell.Verdict, cell.Detail = GateMissing, "not run in B"
		return cell
	case b == nil:
		cell.Verdict, cell.Detail = GateMissing, "no samples in B ("+r.B.Status+")"
		return cell
	}
	growth := b.Median - a.Median
	cell.GrowthMiB = &growth
	if a.Median > 0 {
		pct := 100 * growth / a.Median
		cell.GrowthPct = &pct
	}
	cell.Detail = fmt.Sprintf("%s, %.0f → %.0f MiB", growthText(cell), a.Median, b.Median)
	if f.name == FigureUsedWithoutPCP {
		cell.Detail += " " + f.name
	}
	switch {
	case !t.exceeded(growth, cell.GrowthPct):
		cell.Verdict = GateOK
	case withinSpread(*a, *b):
		cell.Verdict = GateWithinNoise
		cell.Detail += fmt.Sprintf(", past %s but within the spread of %s: A %.0f–%.0f MiB, B %.0f–%.0f MiB",
			t, spreadOf(*a, *b), a.Min, a.Max, b.Min, b.Max)
	default:
		cell.Verdict = GateRegression
		cell.Detail += ", past " + t.String()
	}
	return cell
}

// exceeded reports whether a growth is past every limit the threshold sets;
// pct is nil when A's median is not positive, which no share can bound.
func (t Threshold) exceeded(mib float64, pct *float64) bool {
	if t.MiB == nil && t.Pct == nil {
		return false
	}
	if t.MiB != nil && mib <= *t.MiB {
		return false
	}
	return t.Pct == nil || pct == nil || *pct > *t.Pct
}

func (t Threshold) String() string {
	var parts []string
	if t.MiB != nil {
		parts = append(parts, fmt.Sprintf("%g MiB", *t.MiB))
	}
	if t.Pct != nil {
		parts = append(parts, fmt.Sprintf("%g%%", *t.Pct))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " and ")
}

// withinSpread reports whether B's median is a figure A itself reached, or
// A's median one B itself reached: then the runs differ by no more than each
// varies by on its own, over its repeats (or, with one node, its samples).
func withinSpread(a, b Stat) bool {
	return b.Median <= a.Max || b.Min <= a.Median
}

func spreadOf(a, b Stat) string {
	switch {
	case a.N > 1 && b.N > 1:
		return "repeats"
	case a.N > 1 || b.N > 1:
		return "repeats and samples"
	}
	return "samples"
}

func growthText(c *GateCell) string {
	s := signed(*c.GrowthMiB) + " MiB"
	if c.GrowthPct != nil {
		s += fmt.Sprintf(" (%s%%)", signed(*c.GrowthPct))
	}
	return s
}

// judgeAPI is nil when A probed no API. The API got worse when B's worst
// repeat is worse than A's: a verdict A itself had on some repeat is no
// regression.
func judgeAPI(r CompareRow, allow bool) *GateCell {
	if len(r.A.APIVerdicts) == 0 {
		return nil
	}
	cell := &GateCell{Profile: r.Profile, MemoryMiB: r.MemoryMiB, Check: CheckAPI}
	if r.B == nil || len(r.B.APIVerdicts) == 0 {
		cell.Verdict, cell.Detail = GateMissing, "no API verdict in B"
		return cell
	}
	cell.Detail = sideAPI(r.A) + " → " + sideAPI(r.B)
	switch {
	case worstAPI(r.B) <= worstAPI(r.A):
		cell.Verdict = GateOK
	case allow:
		cell.Verdict = GateOK
		cell.Detail += ", worse but allowed"
	default:
		cell.Verdict = GateRegression
		cell.Detail += ", worse than A"
	}
	return cell
}

// worstAPI ranks the worst verdict of a side's repeats; a verdict footprint
// does not know ranks as unresponsive.
func worstAPI(s *Side) int {
	worst := 0
	for v := range s.APIVerdicts {
		rank := 2
		switch v {
		case results.APIResponsive:
			rank = 0
		case results.APIDegraded:
			rank = 1
		}
		if rank > worst {
			worst = rank
		}
	}
	return worst
}

// Summary counts the cells: "failed: 2 of 10 cells (1 regression, 1
// missing), 1 within noise".
func (g *Gate) Summary() string {
	n := map[GateVerdict]int{}
	for _, c := range g.Cells {
		n[c.Verdict]++
	}
	out := fmt.Sprintf("passed: %d cells", len(g.Cells))
	if !g.Passed {
		out = fmt.Sprintf("failed: %d of %d cells (%d regression, %d missing)",
			n[GateRegression]+n[GateMissing], len(g.Cells), n[GateRegression], n[GateMissing])
	}
	if n[GateWithinNoise] > 0 {
		out += fmt.Sprintf(", %d within noise", n[GateWithinNoise])
	}
	return out
}

// markdown is the gate's section of the comparison: the rules, then one
// line per cell that is not plainly ok.
func (g *Gate) markdown() string {
	var b strings.Builder
	api := "an API verdict worse than A's fails"
	if g.Rules.AllowAPIWorse {
		api = "a worse API verdict is allowed"
	}
	fmt.Fprintf(&b, "\n## Gate: B against the baseline A\n\nThresholds of growth: idle %s, with %s %s; %s. "+
		"Growth within the spread of A's and B's repeats (with one node, its samples) is noise. "+
		"Used memory is judged without the free pages on the per-CPU lists where both runs counted them "+
		"(a few MiB or about 45 from one boot to the next on one vCPU). "+
		"A system A measured that B lacks fails.\n\n", g.Rules.Idle, g.workload(), g.Rules.Workload, api)
	for _, c := range g.Cells {
		if c.Verdict != GateOK {
			fmt.Fprintf(&b, "- %s\n", g.Line(c))
		}
	}
	fmt.Fprintf(&b, "\nGate %s.\n", g.Summary())
	return b.String()
}
