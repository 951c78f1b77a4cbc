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
// had settled before it was sampled. Below it, on the same time axis, a
// panel of the kernel's memory pressure where the timeline has it, and one
// of the API's latency through the workload where the agent probed it; OOM
// kills are marked across every panel at their time.
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
	panels, heights := []*plot.Plot{p}, []vg.Length{9 * vg.Centimeter}
	for _, panel := range []func(results.Result) (*plot.Plot, error){pressurePlot, apiPlot} {
		if pp, err := panel(r); err != nil {
			return nil, err
		} else if pp != nil {
			panels, heights = append(panels, pp), append(heights, 4.5*vg.Centimeter)
		}
	}
	if len(r.OOMKillEvents) > 0 {
		for i, pp := range panels {
			pp.Add(oomMarks{kills: r.OOMKillEvents, handler: pp, named: i == 0})
		}
		p.Legend.Add("OOM kill", oomMarks{})
	}
	panels[len(panels)-1].X.Label.Text = "guest uptime (s)"
	total := vg.Length(0)
	for _, h := range heights {
		total += h
	}
	c := vgsvg.New(18*vg.Centimeter, total)
	drawStacked(draw.New(c), panels, heights)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")), nil
}

// pressurePlot is the panel of the kernel's memory pressure over the
// timeline, some and full avg10 in per cent; nil when the timeline has
// none.
func pressurePlot(r results.Result) (*plot.Plot, error) {
	pr := r.Timeline.Pressure
	if len(pr) == 0 {
		return nil, nil
	}
	p := newPlot("")
	p.Y.Label.Text = "PSI avg10 (%)"
	p.Y.Tick.Marker = plot.DefaultTicks{}
	some, full := make(plotter.XYs, len(pr)), make(plotter.XYs, len(pr))
	ymax := 1.0 // a calm machine's zeros still get an axis
	for i, v := range pr {
		some[i] = plotter.XY{X: v[0], Y: v[results.PSISomeAvg10]}
		full[i] = plotter.XY{X: v[0], Y: v[results.PSIFullAvg10]}
		ymax = math.Max(ymax, v[results.PSISomeAvg10])
	}
	p.Add(phaseBands{phases: r.Phases, ymax: ymax, handler: p, unnamed: true})
	sl, err := plotter.NewLine(some)
	if err != nil {
		return nil, err
	}
	sl.Color, sl.Width = black, vg.Points(1)
	fl, err := plotter.NewLine(full)
	if err != nil {
		return nil, err
	}
	fl.Color, fl.Width, fl.Dashes = black, vg.Points(1), memDashes
	p.Add(sl, fl)
	p.Legend.Add("memory pressure: some task stalled", sl)
	p.Legend.Add("all tasks stalled (full)", fl)
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}

// apiPlot is the panel of the API's answers over the workload: each
// answered probe's seconds (a line through them), each probe without a
// 200 a cross along the top; nil without a series.
func apiPlot(r results.Result) (*plot.Plot, error) {
	s := r.APISeries
	if s == nil || len(s.Points) == 0 {
		return nil, nil
	}
	p := newPlot("")
	p.Y.Label.Text = "API (s)"
	p.Y.Tick.Marker = plot.DefaultTicks{}
	var ok, failed plotter.XYs
	ymax := 0.01 // the answered probes' scale: a probe that timed out would flatten them
	for _, pt := range s.Points {
		if pt.OK() && pt.Seconds != nil {
			ymax = math.Max(ymax, *pt.Seconds)
		}
	}
	ymax *= 1.15
	for _, pt := range s.Points {
		if pt.OK() && pt.Seconds != nil {
			ok = append(ok, plotter.XY{X: pt.UptimeSeconds, Y: *pt.Seconds})
		} else {
			failed = append(failed, plotter.XY{X: pt.UptimeSeconds, Y: ymax})
		}
	}
	p.Add(phaseBands{phases: r.Phases, ymax: ymax, handler: p, unnamed: true})
	if len(ok) > 0 {
		line, points, err := plotter.NewLinePoints(ok)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width = black, vg.Points(1)
		points.GlyphStyle = draw.GlyphStyle{Color: black, Radius: vg.Points(1.5), Shape: draw.CircleGlyph{}}
		p.Add(line, points)
		p.Legend.Add(fmt.Sprintf("API answered (200), every %d s", s.IntervalSeconds), line, points)
	}
	if len(failed) > 0 {
		sc, err := plotter.NewScatter(failed)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: black, Radius: vg.Points(3), Shape: draw.CrossGlyph{}}
		p.Add(sc)
		p.Legend.Add("no answer, or not 200", sc)
	}
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}

// oomMarks draws a dotted vertical line at each OOM kill, named by the
// process killed when named.
type oomMarks struct {
	kills   []results.OOMKill
	handler *plot.Plot
	named   bool
}

func (m oomMarks) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, k := range m.kills {
		xmin, xmax = math.Min(xmin, k.UptimeSeconds), math.Max(xmax, k.UptimeSeconds)
	}
	return xmin, xmax, 0, 0
}

var oomLine = draw.LineStyle{Color: black, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(1.5), vg.Points(2)}}

// Thumbnail is the marks' legend entry: a short mark.
func (m oomMarks) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(oomLine, x, c.Min.Y, x, c.Max.Y)
}

func (m oomMarks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := labelStyle(m.handler, 7)
	sty.Rotation = math.Pi / 2
	sty.XAlign, sty.YAlign = draw.XRight, draw.YTop
	for _, k := range m.kills {
		x := trX(k.UptimeSeconds)
		c.StrokeLine2(oomLine, x, c.Min.Y, x, c.Max.Y)
		if m.named {
			c.FillText(sty, vg.Point{X: x + vg.Points(2), Y: c.Max.Y - vg.Points(2)}, "OOM kill: "+k.Process)
		}
	}
}

// drawStacked draws plots one below the other, each its height tall, on
// one time axis: the widest range of them all, and their data areas
// aligned whatever their Y axes' widths.
func drawStacked(dc draw.Canvas, plots []*plot.Plot, heights []vg.Length) {
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, p := range plots {
		xmin, xmax = math.Min(xmin, p.X.Min), math.Max(xmax, p.X.Max)
	}
	cs := make([]draw.Canvas, len(plots))
	top := dc.Max.Y
	var left, right vg.Length
	for i, p := range plots {
		p.X.Min, p.X.Max = xmin, xmax
		cs[i] = draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: dc.Min.X, Y: top - heights[i]}, Max: vg.Point{X: dc.Max.X, Y: top}}}
		top -= heights[i]
		d := p.DataCanvas(cs[i])
		left, right = max(left, d.Min.X-cs[i].Min.X), max(right, cs[i].Max.X-d.Max.X)
	}
	for i, p := range plots {
		d := p.DataCanvas(cs[i])
		cs[i].Min.X += left - (d.Min.X - cs[i].Min.X)
		cs[i].Max.X -= right - (cs[i].Max.X - d.Max.X)
		p.Draw(cs[i])
	}
}

// settlePhases names the settle phase before each measured phase.
var settlePhases = map[results.PhaseName]results.PhaseName{results.PhaseIdle: results.PhaseSettle, results.PhaseWorkload: results.PhaseSettleWorkload}

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
		for _, phase := range []results.PhaseName{results.PhaseIdle, results.PhaseWorkload} {
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
func settleCell(r results.Result, name results.PhaseName) string {
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

// phaseBands shades each phase of a result, alternately, and names it
// unless unnamed (a panel below the one that names them).
type phaseBands struct {
	phases  []results.Phase
	ymax    float64
	handler *plot.Plot
	unnamed bool
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
		if !b.unnamed {
			c.FillText(sty, vg.Point{X: x0 + vg.Points(1), Y: c.Max.Y - vg.Points(2)}, string(ph.Name))
		}
	}
}
