package report

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/search"
)

// SearchChartFile is the chart of a search's tries, beside report.md.
const SearchChartFile = "search.svg"

// renderSearch writes search.svg for a run that searched.
func renderSearch(dir string, run record.Run) error {
	if run.Search == nil {
		return nil
	}
	data, err := SearchChart(run)
	if err != nil {
		return fmt.Errorf("%s: %w", SearchChartFile, err)
	}
	return record.WriteFile(filepath.Join(dir, SearchChartFile), data)
}

// writeSearch is the section "Smallest machine that works": the threshold
// of each system as the headline figure, the sizes tried, the chart, the
// rule, and why each failing size failed; work names the workload.
func writeSearch(b *strings.Builder, run record.Run, work string) {
	s := run.Search
	if s == nil {
		return
	}
	b.WriteString("\n## Smallest machine that works\n\n")
	fmt.Fprintf(b, "Searched %d–%d MiB in steps of %d MiB, %s.\n\n", s.MinMiB, s.MaxMiB, s.ResolutionMiB, repeatsText(s.Repeats))
	b.WriteString("| System | Smallest size that works | Largest size that failed | Sizes tried, in order |\n|---|---|---:|---|\n")
	for _, sys := range s.Systems {
		fails := "–"
		if sys.FailsAtMiB > 0 {
			fails = fmt.Sprintf("%d MiB", sys.FailsAtMiB)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", sys.System, headline(*s, sys), fails, triedText(sys.Tried))
	}
	b.WriteString("\n![Sizes tried per system: pass and fail along the size axis](" + SearchChartFile + ")\n\n")
	b.WriteString("Works: every phase ran, " + work + " became ready (workloadReady ok), the API answered every probe " +
		"(where the system has one) and the kernel killed no process for lack of memory (OOM kills 0)")
	if s.Repeats > 1 {
		fmt.Fprintf(b, "; a size works only if each of its %d repeats does", s.Repeats)
	}
	b.WriteString(". Each wave tried sizes between the largest size that failed and the smallest size above it that passed " +
		"(the middle one, or several spread evenly when the hosts had room), until the two were one step apart. " +
		"The search assumes more memory never hurts: a size it did not try is taken to fail below the largest size that failed " +
		"and to work above the answer.\n")
	writeSearchNotes(b, *s)
}

// headline is a system's answer as the report states it.
func headline(s search.Record, sys search.System) string {
	switch sys.Outcome {
	case search.Found:
		return fmt.Sprintf("**%d MiB**", sys.ThresholdMiB)
	case search.AtMinimum:
		return fmt.Sprintf("**%d MiB** or less (passes at the minimum; smaller sizes not tried)", sys.ThresholdMiB)
	case search.NoneInRange:
		return fmt.Sprintf("**none** within %d–%d MiB", s.MinMiB, s.MaxMiB)
	}
	lo, hi := s.MinMiB, s.MaxMiB
	if sys.FailsAtMiB > 0 {
		lo = sys.FailsAtMiB + s.ResolutionMiB
	}
	if sys.PassesFromMiB > 0 {
		hi = sys.PassesFromMiB
	}
	return fmt.Sprintf("not found yet: between %d and %d MiB (`--resume` goes on)", lo, hi)
}

func repeatsText(n int) string {
	if n == 1 {
		return "each size once"
	}
	return fmt.Sprintf("each size %d times", n)
}

// triedText is "768 pass → 512 fail → 640 pass".
func triedText(tried []search.Try) string {
	var parts []string
	for _, t := range tried {
		parts = append(parts, fmt.Sprintf("%d %s", t.SizeMiB, t.Verdict))
	}
	return orDash(strings.Join(parts, " → "))
}

// writeSearchNotes lists why each size failed or has no finding, and
// where the tries contradict the search's assumption.
func writeSearchNotes(b *strings.Builder, s search.Record) {
	var notes []string
	for _, sys := range s.Systems {
		for _, t := range sys.Tried {
			if t.Verdict != search.Pass {
				notes = append(notes, fmt.Sprintf("- %s at %d MiB (wave %s), %s: %s", sys.System, t.SizeMiB, waveText(t.Wave), t.Verdict, orDash(t.Why)))
			}
		}
		for _, n := range sys.NonMonotone {
			notes = append(notes, fmt.Sprintf("- %s is not monotone: %s; the smallest size given is the smallest above every failure", sys.System, n))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
}

func waveText(w int) string {
	if w <= 0 {
		return "?"
	}
	return fmt.Sprint(w)
}

// SearchChart draws the tries: one row per system along a size axis, a
// filled circle where a size passed, a cross where it failed, a hollow
// circle where it has no finding, each numbered with the wave it ran in,
// and the threshold marked with a bar.
func SearchChart(run record.Run) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("drawing the search chart: %v", p)
		}
	}()
	s := run.Search
	if s == nil {
		return nil, fmt.Errorf("the run has no search")
	}
	rows := max(len(s.Systems), 1)
	c := vgsvg.New(18*vg.Centimeter, 3.2*vg.Centimeter+vg.Length(rows)*1.3*vg.Centimeter)
	searchPlot(run).Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")), nil
}

func searchPlot(run record.Run) *plot.Plot {
	s := run.Search
	title := "Smallest machine that works: the sizes tried"
	if run.ID != "" {
		title += "\nrun " + run.ID
	}
	p := newPlot(title)
	p.Y.Min, p.Y.Tick.Marker = 0, plot.DefaultTicks{}
	p.X.Label.Text = "VM memory (MiB)"
	sp := &searchPanel{rec: *s}
	p.Add(sp)
	var names []string
	for i := len(s.Systems) - 1; i >= 0; i-- {
		names = append(names, s.Systems[i].System)
	}
	if len(names) > 0 {
		p.NominalY(names...)
	}
	half := float64(s.ResolutionMiB) / 2
	p.X.Min, p.X.Max = float64(s.MinMiB)-half, float64(s.MaxMiB)+half
	p.Y.Min, p.Y.Max = -0.5, float64(len(s.Systems))-0.5+0.6 // room for the legend
	p.X.Tick.Marker = plot.ConstantTicks(sizeTicks(*s))
	return p
}

// sizeTicks marks every size of the grid, labelling about a dozen.
func sizeTicks(s search.Record) []plot.Tick {
	n := (s.MaxMiB-s.MinMiB)/s.ResolutionMiB + 1
	stride := max(1, int(math.Ceil(float64(n)/12)))
	var ticks []plot.Tick
	for i := 0; i < n; i++ {
		v := s.MinMiB + i*s.ResolutionMiB
		t := plot.Tick{Value: float64(v)}
		if i%stride == 0 || i == n-1 {
			t.Label = fmt.Sprint(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

type searchPanel struct{ rec search.Record }

func (sp *searchPanel) DataRange() (xmin, xmax, ymin, ymax float64) {
	half := float64(sp.rec.ResolutionMiB) / 2
	return float64(sp.rec.MinMiB) - half, float64(sp.rec.MaxMiB) + half, -0.5, float64(len(sp.rec.Systems)) + 0.1
}

func (sp *searchPanel) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	small := labelStyle(p, 7)
	n := len(sp.rec.Systems)
	for i, sys := range sp.rec.Systems {
		y := float64(n - 1 - i)
		c.StrokeLine2(draw.LineStyle{Color: gridGrey, Width: vg.Points(0.5)}, trX(float64(sp.rec.MinMiB)), trY(y), trX(float64(sp.rec.MaxMiB)), trY(y))
		for _, t := range sys.Tried {
			pt := vg.Point{X: trX(float64(t.SizeMiB)), Y: trY(y)}
			tryMark(&c, t.Verdict, pt, vg.Points(4))
			c.FillText(small, vg.Point{X: pt.X, Y: pt.Y + vg.Points(6)}, waveText(t.Wave))
		}
		sp.threshold(&c, p, sys, y)
	}
	sp.legend(&c, p)
}

// threshold marks a system's answer: a bar at the smallest size that
// works, or "none" past the largest.
func (sp *searchPanel) threshold(c *draw.Canvas, p *plot.Plot, sys search.System, y float64) {
	trX, trY := p.Transforms(c)
	sty := labelStyle(p, 8)
	sty.YAlign = draw.YTop
	switch sys.Outcome {
	case search.Found, search.AtMinimum:
		x := trX(float64(sys.ThresholdMiB) - float64(sp.rec.ResolutionMiB)/2)
		c.StrokeLine2(draw.LineStyle{Color: black, Width: vg.Points(2)}, x, trY(y-0.3), x, trY(y+0.3))
		c.FillText(sty, vg.Point{X: trX(float64(sys.ThresholdMiB)), Y: trY(y) - vg.Points(8)}, fmt.Sprintf("works from %d MiB", sys.ThresholdMiB))
	case search.NoneInRange:
		c.FillText(sty, vg.Point{X: trX(float64(sp.rec.MaxMiB)), Y: trY(y) - vg.Points(8)}, "none within range")
	default:
		c.FillText(sty, vg.Point{X: (trX(float64(sp.rec.MinMiB)) + trX(float64(sp.rec.MaxMiB))) / 2, Y: trY(y) - vg.Points(8)}, "not found yet")
	}
}

// legend is the key, in one row along the top.
func (sp *searchPanel) legend(c *draw.Canvas, p *plot.Plot) {
	sty := labelStyle(p, 8)
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	y := c.Max.Y - sty.Height("Mg")
	x := c.Min.X + vg.Points(8)
	for _, e := range []struct {
		v    search.Verdict
		text string
	}{{search.Pass, "passed"}, {search.Fail, "failed"}, {search.Undecided, "no finding"}, {"", "1, 2, …: the wave it ran in; bar: smallest that works"}} {
		if e.v != "" {
			tryMark(c, e.v, vg.Point{X: x, Y: y}, vg.Points(4))
			x += vg.Points(8)
		}
		c.FillText(sty, vg.Point{X: x, Y: y}, e.text)
		x += sty.Width(e.text)*1.15 + vg.Points(14)
	}
}

// tryMark is a filled circle (pass), a cross (fail) or a hollow circle
// (no finding): told apart without colour.
func tryMark(c *draw.Canvas, v search.Verdict, pt vg.Point, r vg.Length) {
	switch v {
	case search.Fail:
		sty := draw.LineStyle{Color: black, Width: vg.Points(1.6)}
		c.StrokeLine2(sty, pt.X-r, pt.Y-r, pt.X+r, pt.Y+r)
		c.StrokeLine2(sty, pt.X-r, pt.Y+r, pt.X+r, pt.Y-r)
	default:
		shape{sides: 0, hollow: v != search.Pass}.DrawGlyph(c, draw.GlyphStyle{Color: black, Radius: r}, pt)
	}
}
