package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/footprint-dev/footprint/results"
)

// TimelineSuffix ends the name of a node's timeline in the run folder.
const TimelineSuffix = ".timeline.svg"

var bandGreys = []color.Color{color.Gray{Y: 0xe8}, color.Gray{Y: 0xf6}}

// TimelineChart draws a node's used memory over guest uptime (solid),
// MemTotal (dashed), the phase samples (markers) and every phase as a band
// named at its left edge, so a reader sees when memory rose and whether it
// had settled before it was sampled.
func TimelineChart(r results.Result) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("drawing the timeline of %s: %v", r.Node, p)
		}
	}()
	if r.Timeline == nil || len(r.Timeline.Points) == 0 {
		return nil, fmt.Errorf("%s has no timeline", r.Node)
	}
	p := newPlot(fmt.Sprintf("%s: used memory over time (every %d s at the end of the run)", r.Node, r.Timeline.IntervalSeconds))
	p.X.Label.Text = "guest uptime (s)"
	p.Y.Label.Text = "MiB"
	used := make(plotter.XYs, len(r.Timeline.Points))
	ymax := 0.0
	for i, pt := range r.Timeline.Points {
		used[i] = plotter.XY{X: pt[0], Y: results.MiB(int64(pt[1]))}
		ymax = math.Max(ymax, results.MiB(int64(pt[1]+pt[2])))
	}
	p.Add(phaseBands{phases: r.Phases, ymax: ymax, handler: p})
	line, err := plotter.NewLine(used)
	if err != nil {
		return nil, err
	}
	line.Color, line.Width = black, vg.Points(1)
	p.Add(line)
	p.Legend.Add("used (MemTotal − MemAvailable)", line)
	if s, ok := firstSummary(r); ok {
		total, err := plotter.NewLine(plotter.XYs{{X: used[0].X, Y: s.MemTotalMiB}, {X: used[len(used)-1].X, Y: s.MemTotalMiB}})
		if err != nil {
			return nil, err
		}
		total.Color, total.Dashes, total.Width = refGrey, memDashes, vg.Points(1)
		p.Add(total)
		p.Legend.Add("MemTotal", total)
	}
	if len(r.Samples) > 0 {
		pts := make(plotter.XYs, len(r.Samples))
		for i, s := range r.Samples {
			pts[i] = plotter.XY{X: s.UptimeSeconds, Y: results.MiB(s.UsedKiB)}
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: black, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		p.Legend.Add("phase samples", sc)
	}
	p.Legend.Top, p.Legend.Left = false, true
	c := vgsvg.New(18*vg.Centimeter, 9*vg.Centimeter)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")), nil
}

// settlePhases names the settle phase before each measured phase.
var settlePhases = map[string]string{"idle": "settle", "workload": "settle-workload"}

// writeTimelines gives the steady state of every measured phase and links
// every node's timeline.
func writeTimelines(b *strings.Builder, nodes []results.Result) {
	any := false
	for _, r := range nodes {
		any = any || r.Timeline != nil
	}
	if !any {
		return
	}
	b.WriteString("\n## Steady state (MiB)\n\nEach measured phase's samples and the timeline's readings while it ran: " +
		"median, min–max and 95th percentile, as the k3s documentation reports resource use. " +
		"Settle: how the phase before it ended (`unsettled`: the settle rule's cap passed first).\n\n" +
		"| System | Phase | Readings | Median | Min–max | p95 | Settle |\n|---|---|---:|---:|---:|---:|---|\n")
	for _, r := range nodes {
		for _, phase := range []string{"idle", "workload"} {
			st, ok := r.SteadyState(phase)
			if !ok {
				continue
			}
			fmt.Fprintf(b, "| %s | %s | %d | %.0f | %.0f–%.0f | %.0f | %s |\n", r.Node, phase, st.Readings,
				st.MedianMiB, st.MinMiB, st.MaxMiB, st.P95MiB, settleCell(r, settlePhases[phase]))
		}
	}
	b.WriteString("\n## Memory over time\n\nUsed memory from the agent's start to its result, the phases as bands.\n")
	for _, r := range nodes {
		if r.Timeline != nil {
			fmt.Fprintf(b, "\n![%s: used memory over time](%s)\n", r.Node, r.Node+TimelineSuffix)
		}
	}
}

// settleCell is how a settle phase ended, and after how long.
func settleCell(r results.Result, name string) string {
	for _, p := range r.Phases {
		if p.Name == name {
			return fmt.Sprintf("%s, %.0f s", p.Status, p.EndedAt-p.StartedAt)
		}
	}
	return "–"
}

// firstSummary is the summary of the first sampled phase, for MemTotal.
func firstSummary(r results.Result) (results.Summary, bool) {
	for _, s := range r.Samples {
		return r.Summarize(s.Phase)
	}
	return results.Summary{}, false
}

// phaseBands shades each phase of a result, alternately, and names it.
type phaseBands struct {
	phases  []results.Phase
	ymax    float64
	handler *plot.Plot
}

func (b phaseBands) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, ph := range b.phases {
		xmin, xmax = math.Min(xmin, ph.StartedAt), math.Max(xmax, ph.EndedAt)
	}
	if xmin > xmax {
		xmin, xmax = 0, 0
	}
	return xmin, xmax, 0, b.ymax
}

func (b phaseBands) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := labelStyle(b.handler, 7)
	sty.Rotation = math.Pi / 2
	sty.XAlign, sty.YAlign = draw.XRight, draw.YTop
	for i, ph := range b.phases {
		if ph.EndedAt <= ph.StartedAt {
			continue
		}
		x0, x1 := trX(ph.StartedAt), trX(ph.EndedAt)
		c.FillPolygon(bandGreys[i%2], []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
		c.FillText(sty, vg.Point{X: x0 + vg.Points(1), Y: c.Max.Y - vg.Points(2)}, ph.Name)
	}
}
