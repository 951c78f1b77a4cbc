package report

// The chart is drawn with gonum.org/v1/plot (vg/vgsvg for SVG output):
// it is the plotting library of the gonum numerical project, maintained
// and released regularly, pure Go (no cgo, no browser, no external
// renderer), writes SVG with real <text> elements, and lets a plotter draw
// on the canvas directly. That last point is what the chart needs and the
// simpler alternative, github.com/wcharczuk/go-chart, lacks: hatched bars,
// dashed reference lines, marker shapes, whiskers and direct labels, so
// that every series is told apart in black and white, without colour.

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

var (
	black     = color.Black
	gridGrey  = color.Gray{Y: 0xdd}
	refGrey   = color.Gray{Y: 0xaa}
	sepGrey   = color.Gray{Y: 0x88}
	memDashes = []vg.Length{vg.Points(6), vg.Points(3)}
)

// Chart renders chart.svg: the used memory of every system, idle (hollow
// bar) and with the workload (hatched bar), against MemTotal (dashed line),
// one section per VM size; and when the run sweeps sizes, used memory
// against VM size, one line per system (its own dashes, marker and label).
// Its titles and legend name the workload the run's record says ran.
func Chart(run record.Run) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("drawing the chart: %v", p)
		}
	}()
	run = record.Normalize(run)
	work := workloadName(run)
	groups := Groups(run)
	var sizes []int // known ones: a node of unknown size has no place on a size axis
	for _, s := range Sizes(groups) {
		if s > 0 {
			sizes = append(sizes, s)
		}
	}
	sweep := len(sizes) > 1

	width := max(18*vg.Centimeter, vg.Length(len(groups))*1.8*vg.Centimeter+3*vg.Centimeter)
	barH, lineH := 10*vg.Centimeter, vg.Length(0)
	if sweep {
		lineH = 9 * vg.Centimeter
	}
	c := vgsvg.New(width, barH+lineH)
	dc := draw.New(c)
	gap := vg.Length(0)
	if sweep {
		gap = 0.4 * vg.Centimeter
	}
	barPlot(run, groups, work).Draw(draw.Crop(dc, 0, 0, lineH+gap, 0))
	if sweep {
		below := draw.Crop(dc, 0, 0, 0, -barH)
		half := (below.Max.X - below.Min.X) / 2
		linePlot(groups, sizes, results.PhaseIdle, "Idle, by VM size").Draw(draw.Crop(below, 0, -half, 0, 0))
		linePlot(groups, sizes, results.PhaseWorkload, "With "+work+", by VM size\nhollow marker: API not responsive").
			Draw(draw.Crop(below, half, 0, 0, 0))
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	// vgsvg names the font it measured with; let a viewer without it fall
	// back to a close metric-compatible one rather than to a serif.
	return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")), nil
}

func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(11)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(9)
		a.Tick.Label.Font = sans(8)
	}
	p.Legend.TextStyle.Font = sans(8)
	p.Y.Min = 0
	p.Y.Tick.Marker = mibTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = gridGrey
	grid.Horizontal.Width = vg.Points(0.5)
	p.Add(grid)
	return p
}

func labelStyle(p *plot.Plot, size vg.Length) draw.TextStyle {
	return text.Style{Color: black, Font: sans(size), XAlign: draw.XCenter, YAlign: draw.YBottom, Handler: p.TextHandler}
}

// mibTicks puts four to eight labelled ticks at round MiB figures.
type mibTicks struct{}

func (mibTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	if span <= 0 {
		return nil
	}
	step := 0.0
	for _, m := range []float64{1, 2, 2.5, 5} {
		for e := 1.0; e < 1e7; e *= 10 {
			if s := m * e; span/s <= 8 && (step == 0 || s < step) {
				step = s
			}
		}
	}
	if step == 0 {
		return nil
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		if half := v + step/2; half <= hi {
			out = append(out, plot.Tick{Value: half})
		}
	}
	return out
}

// chartGroup is one bar pair: a system at a VM size.
type chartGroup struct {
	profile        string
	status         string
	size           int
	memTotal       float64
	idle, work     Stat
	hasIdle, hasWk bool
}

// barTitle is the bar chart's title, and the report's text for it.
func barTitle(work string) string {
	return "Used memory per system, idle and with " + work + ", against MemTotal"
}

func barPlot(run record.Run, groups []Group, work string) *plot.Plot {
	title := barTitle(work)
	if run.ID != "" {
		title += "\nrun " + run.ID
	}
	p := newPlot(title)
	p.Y.Label.Text = "used MiB (MemTotal − MemAvailable)"
	bp := &barPanel{work: work}
	var names []string
	top := 0.0
	for _, g := range groups {
		cg := chartGroup{profile: g.Profile, status: g.Status(), size: g.MemoryMiB, memTotal: g.MemTotal()}
		cg.idle, cg.hasIdle = g.Used(results.PhaseIdle)
		cg.work, cg.hasWk = g.Used(results.PhaseWorkload)
		top = max(top, cg.memTotal, cg.idle.Max, cg.work.Max)
		if cg.idle.Max-cg.idle.Min >= 1 || cg.work.Max-cg.work.Min >= 1 {
			bp.whiskers = true
		}
		bp.groups = append(bp.groups, cg)
		name := g.Profile
		if tag := apiTag(g); tag != "" {
			name += "\n" + tag
		}
		names = append(names, name)
	}
	if top == 0 {
		top = 100
	}
	// Headroom above the highest MemTotal for the legend and the sizes.
	bp.ymax = top * 1.32
	p.Add(bp)
	if len(names) > 0 {
		p.NominalX(names...)
	} else {
		p.X.Min, p.X.Max = -0.5, 0.5
		p.HideX()
	}
	p.Y.Max = bp.ymax
	return p
}

// apiTag is the API verdict under a system's name.
func apiTag(g Group) string {
	if !g.Probed() {
		return ""
	}
	switch v := g.APIVerdict(); v {
	case results.APIResponsive:
		return "API ok"
	case results.APIDegraded:
		return "API slow"
	case results.APIUnresponsive:
		return "API down"
	case APIMixed:
		return fmt.Sprintf("API ok %d/%d", g.APIVerdicts()[results.APIResponsive], len(g.Nodes))
	default:
		return "API " + string(v)
	}
}

type barPanel struct {
	work     string // the workload's name, for the legend and missing bars
	groups   []chartGroup
	whiskers bool
	ymax     float64
}

func (bp *barPanel) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(bp.groups)) - 0.5, 0, bp.ymax
}

func (bp *barPanel) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	small := labelStyle(p, 7)
	ref := labelStyle(p, 8)
	ref.XAlign, ref.YAlign = draw.XLeft, draw.YCenter
	rowH := ref.Height("Mg") + vg.Points(6)
	bp.legend(&c, ref, c.Max.Y-rowH/2-vg.Points(2))
	// One section per VM size: its MemTotal as a dashed line, its name.
	for start := 0; start < len(bp.groups); {
		end := start
		for end+1 < len(bp.groups) && bp.groups[end+1].size == bp.groups[start].size {
			end++
		}
		x0, x1 := trX(float64(start)-0.5)+vg.Points(2), trX(float64(end)+0.5)-vg.Points(2)
		var mts []float64
		for _, g := range bp.groups[start : end+1] {
			if g.memTotal > 0 {
				mts = append(mts, g.memTotal)
			}
		}
		label := ""
		if size := bp.groups[start].size; size > 0 {
			label = fmt.Sprintf("%d MiB VM", size)
		}
		if len(mts) > 0 {
			mt := medianF(mts)
			y := trY(mt)
			c.StrokeLine2(draw.LineStyle{Color: black, Width: vg.Points(1.2), Dashes: memDashes}, x0, y, x1, y)
			if label != "" {
				label += ", "
			}
			label += fmt.Sprintf("MemTotal %.0f MiB", mt)
		} else if label != "" {
			label += ": no data"
		}
		// The sections' names on the second row from the top, under the legend.
		c.FillText(ref, vg.Point{X: x0 + vg.Points(2), Y: c.Max.Y - 2*rowH}, label)
		if end+1 < len(bp.groups) {
			xs := trX(float64(end) + 0.5)
			c.StrokeLine2(draw.LineStyle{Color: sepGrey, Width: vg.Points(0.75)}, xs, trY(0), xs, trY(bp.ymax))
		}
		start = end + 1
	}
	for i, g := range bp.groups {
		x := float64(i)
		if !g.hasIdle && !g.hasWk {
			rot := small
			rot.Rotation, rot.XAlign, rot.YAlign = math.Pi/2, draw.XLeft, draw.YCenter
			c.FillText(rot, vg.Point{X: trX(x), Y: trY(0) + vg.Points(4)}, "no data: "+g.status)
			continue
		}
		bars := []struct {
			lo, hi float64
			has    bool
			st     Stat
			hatch  bool
		}{{x - 0.37, x - 0.03, g.hasIdle, g.idle, false}, {x + 0.03, x + 0.37, g.hasWk, g.work, true}}
		for _, b := range bars {
			bx0, bx1 := trX(b.lo), trX(b.hi)
			if !b.has {
				rot := small
				rot.Rotation, rot.XAlign, rot.YAlign = math.Pi/2, draw.XLeft, draw.YCenter
				c.FillText(rot, vg.Point{X: (bx0 + bx1) / 2, Y: trY(0) + vg.Points(4)}, "none with "+bp.work)
				continue
			}
			drawBar(&c, vg.Rectangle{Min: vg.Point{X: bx0, Y: trY(0)}, Max: vg.Point{X: bx1, Y: trY(b.st.Median)}}, b.hatch)
			labelAt := b.st.Median
			if b.st.Max-b.st.Min >= 1 {
				drawWhisker(&c, (bx0+bx1)/2, (bx1-bx0)*0.3, trY(b.st.Min), trY(b.st.Max))
				labelAt = b.st.Max
			}
			c.FillText(small, vg.Point{X: (bx0 + bx1) / 2, Y: trY(labelAt) + vg.Points(2)}, fmt.Sprintf("%.0f", b.st.Median))
		}
	}
}

// legend draws the key in one row along the top, from the left.
func (bp *barPanel) legend(c *draw.Canvas, sty draw.TextStyle, y vg.Length) {
	entries := []struct{ kind, text string }{{"idle", "idle"}, {"work", "with " + bp.work}, {"memtotal", "MemTotal (dashed)"}}
	if bp.whiskers {
		entries = append(entries, struct{ kind, text string }{"whisker", "min–max"})
	}
	x := c.Min.X + vg.Points(6)
	h := sty.Height("Mg")
	for _, e := range entries {
		box := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x, Y: y - h/2}, Max: vg.Point{X: x + vg.Points(20), Y: y + h/2}}}
		thumb{kind: e.kind}.Thumbnail(&box)
		x += vg.Points(24)
		c.FillText(sty, vg.Point{X: x, Y: y}, e.text)
		// Text is measured with Liberation Sans; leave room for a wider
		// fallback font.
		x += sty.Width(e.text)*1.15 + vg.Points(16)
	}
}

// drawBar draws a bar outlined in black: hollow, or hatched with diagonal
// lines.
func drawBar(c *draw.Canvas, r vg.Rectangle, hatched bool) {
	pts := []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
	c.FillPolygon(color.White, pts)
	if hatched {
		hatch(c, r, vg.Points(3.5))
	}
	c.StrokeLines(draw.LineStyle{Color: black, Width: vg.Points(1)}, append(pts, pts[0]))
}

// hatch fills r with 45° lines, step apart, clipped to r.
func hatch(c *draw.Canvas, r vg.Rectangle, step vg.Length) {
	h := r.Max.Y - r.Min.Y
	if h <= 0 {
		return
	}
	sty := draw.LineStyle{Color: black, Width: vg.Points(0.6)}
	for x := r.Min.X - h; x < r.Max.X; x += step {
		// The line (x+t, Min.Y+t) for t in [0, h], kept within [Min.X, Max.X].
		t0, t1 := max(0, r.Min.X-x), min(h, r.Max.X-x)
		if t1 > t0 {
			c.StrokeLine2(sty, x+t0, r.Min.Y+t0, x+t1, r.Min.Y+t1)
		}
	}
}

func drawWhisker(c *draw.Canvas, x, halfCap, y0, y1 vg.Length) {
	sty := draw.LineStyle{Color: black, Width: vg.Points(1)}
	c.StrokeLine2(sty, x, y0, x, y1)
	c.StrokeLine2(sty, x-halfCap, y0, x+halfCap, y0)
	c.StrokeLine2(sty, x-halfCap, y1, x+halfCap, y1)
}

// thumb draws the legend's samples.
type thumb struct{ kind string }

func (t thumb) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	switch t.kind {
	case "idle", "work":
		r.Min.X += (r.Max.X - r.Min.X) / 4
		r.Max.X -= (r.Max.X - r.Min.X) / 4
		drawBar(c, r, t.kind == "work")
	case "memtotal":
		y := (r.Min.Y + r.Max.Y) / 2
		c.StrokeLine2(draw.LineStyle{Color: black, Width: vg.Points(1.2), Dashes: memDashes}, r.Min.X, y, r.Max.X, y)
	case "whisker":
		drawWhisker(c, (r.Min.X+r.Max.X)/2, vg.Points(3), r.Min.Y, r.Max.Y)
	}
}

// Series styles: each system keeps its dashes and marker in every panel.
var (
	seriesDashes = [][]vg.Length{
		nil,
		{vg.Points(6), vg.Points(3)},
		{vg.Points(1.5), vg.Points(2.5)},
		{vg.Points(8), vg.Points(3), vg.Points(1.5), vg.Points(3)},
		{vg.Points(12), vg.Points(4)},
		{vg.Points(4), vg.Points(2), vg.Points(1.5), vg.Points(2), vg.Points(1.5), vg.Points(2)},
	}
	seriesShapes = []shape{{sides: 0}, {sides: 4, rot: math.Pi / 4}, {sides: 3, rot: math.Pi / 2},
		{sides: 4}, {sides: 3, rot: -math.Pi / 2}, {sides: 6}}
)

// shape is a marker: a circle (sides 0) or a regular polygon, filled or
// hollow.
type shape struct {
	sides  int
	rot    float64
	hollow bool
}

func (s shape) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	var pts []vg.Point
	n, r := s.sides, sty.Radius
	if n == 0 {
		n, r = 24, sty.Radius*0.9
	}
	for i := 0; i < n; i++ {
		a := s.rot + 2*math.Pi*float64(i)/float64(n)
		pts = append(pts, vg.Point{X: pt.X + r*vg.Length(math.Cos(a)), Y: pt.Y + r*vg.Length(math.Sin(a))})
	}
	c.FillPolygon(color.White, pts)
	if !s.hollow {
		c.FillPolygon(sty.Color, pts)
	}
	c.StrokeLines(draw.LineStyle{Color: sty.Color, Width: vg.Points(1)}, append(pts, pts[0]))
}

type linePoint struct {
	x, y   float64
	hollow bool
}

type series struct {
	name   string
	points []linePoint
	dashes []vg.Length
	shape  shape
}

type linePanel struct {
	series     []series
	memTotal   []linePoint
	xmin, xmax float64
	ymax       float64
}

// linePlot draws used memory in one phase against VM size (on a log2
// axis), one series per system, with MemTotal as a thick grey line.
func linePlot(groups []Group, sizes []int, phase results.PhaseName, title string) *plot.Plot {
	p := newPlot(title)
	p.X.Label.Text = "VM memory (MiB)"
	p.Y.Label.Text = "used MiB"
	profiles := Profiles(groups)
	lp := &linePanel{xmin: math.Log2(float64(sizes[0])), xmax: math.Log2(float64(sizes[len(sizes)-1]))}
	top := 0.0
	byProfile := map[string]int{}
	for i, name := range profiles {
		sh := seriesShapes[i%len(seriesShapes)]
		lp.series = append(lp.series, series{name: name, dashes: seriesDashes[i%len(seriesDashes)], shape: sh})
		byProfile[name] = i
	}
	var ticks []plot.Tick
	for _, size := range sizes {
		x := math.Log2(float64(size))
		ticks = append(ticks, plot.Tick{Value: x, Label: fmt.Sprint(size)})
		var mts []float64
		for _, g := range groups {
			if g.MemoryMiB != size {
				continue
			}
			if mt := g.MemTotal(); mt > 0 {
				mts = append(mts, mt)
			}
			if st, ok := g.Used(phase); ok {
				s := &lp.series[byProfile[g.Profile]]
				s.points = append(s.points, linePoint{x: x, y: st.Median, hollow: phase == results.PhaseWorkload && g.Probed() && !g.Survived()})
				top = max(top, st.Median)
			}
		}
		if len(mts) > 0 {
			mt := medianF(mts)
			lp.memTotal = append(lp.memTotal, linePoint{x: x, y: mt})
			top = max(top, mt)
		}
	}
	if top == 0 {
		top = 100
	}
	lp.ymax = top * 1.1
	p.Add(lp)
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	span := lp.xmax - lp.xmin
	p.X.Min, p.X.Max = lp.xmin-0.08*span, lp.xmax+0.45*span
	p.Y.Max = lp.ymax
	return p
}

func (lp *linePanel) DataRange() (xmin, xmax, ymin, ymax float64) {
	return lp.xmin, lp.xmax, 0, lp.ymax
}

func (lp *linePanel) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	type label struct {
		x, y vg.Length
		y0   vg.Length // where the series ends
		text string
		sh   *shape
	}
	var labels []label
	if len(lp.memTotal) > 0 {
		var pts []vg.Point
		for _, m := range lp.memTotal {
			pts = append(pts, vg.Point{X: trX(m.x), Y: trY(m.y)})
		}
		c.StrokeLines(draw.LineStyle{Color: refGrey, Width: vg.Points(4)}, pts)
		last := pts[len(pts)-1]
		labels = append(labels, label{x: last.X, y: last.Y, y0: last.Y, text: "MemTotal"})
	}
	for i := range lp.series {
		s := &lp.series[i]
		if len(s.points) == 0 {
			continue
		}
		var pts []vg.Point
		for _, pt := range s.points {
			pts = append(pts, vg.Point{X: trX(pt.x), Y: trY(pt.y)})
		}
		c.StrokeLines(draw.LineStyle{Color: black, Width: vg.Points(1.2), Dashes: s.dashes}, pts)
		for j, pt := range s.points {
			sh := s.shape
			sh.hollow = pt.hollow
			c.DrawGlyph(draw.GlyphStyle{Color: black, Radius: vg.Points(3.5), Shape: sh}, pts[j])
		}
		last := pts[len(pts)-1]
		labels = append(labels, label{x: last.X, y: last.Y, y0: last.Y, text: s.name, sh: &s.shape})
	}
	// Direct labels right of the last point, pushed apart so none overlap.
	sty := labelStyle(p, 8)
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	gap := sty.Height("Mg") + vg.Points(1)
	sort.SliceStable(labels, func(i, j int) bool { return labels[i].y < labels[j].y })
	for i := 1; i < len(labels); i++ {
		labels[i].y = max(labels[i].y, labels[i-1].y+gap)
	}
	if n := len(labels); n > 0 && labels[n-1].y > c.Max.Y-gap/2 {
		shift := labels[n-1].y - (c.Max.Y - gap/2)
		for i := range labels {
			labels[i].y -= shift
		}
	}
	for _, l := range labels {
		x := l.x + vg.Points(8)
		if d := l.y - l.y0; d > vg.Points(2) || d < -vg.Points(2) {
			// A leader from the series' end to its moved label.
			c.StrokeLine2(draw.LineStyle{Color: black, Width: vg.Points(0.5)}, l.x+vg.Points(4), l.y0, x-vg.Points(1), l.y)
		}
		if l.sh != nil {
			c.DrawGlyph(draw.GlyphStyle{Color: black, Radius: vg.Points(3), Shape: *l.sh}, vg.Point{X: x + vg.Points(3), Y: l.y})
			x += vg.Points(9)
		}
		c.FillText(sty, vg.Point{X: x, Y: l.y}, l.text)
	}
}
