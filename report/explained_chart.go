package report

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// segmentKinds are the bar's segments from the bottom up, each drawn so
// that it is told apart without colour.
var segmentKinds = []struct {
	kind, legend string
	fill         color.Color
	hatch        int // 0 none, 1 diagonal, 2 crossed
}{
	{results.KindKernel, "kernel", color.Gray{Y: 0x55}, 0},
	{results.KindUser, "anon + shmem by cgroup", color.White, 1},
	{results.KindCache, "cache not counted available", color.Gray{Y: 0xc8}, 0},
	{results.KindReserve, "watermark reserve", color.White, 2},
	{results.KindFree, "per-CPU free lists", color.Gray{Y: 0xee}, 0},
	{PartUnexplained, "unexplained", color.Black, 0},
}

// ExplainedChart draws explained.svg: one stacked bar per node and phase
// with an explained breakdown, its segments the kinds of parts (the user
// segment divided by cgroup), each labelled with its MiB where it fits,
// and used on top. nil when no breakdown is explained.
func ExplainedChart(run record.Run) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("drawing %s: %v", ExplainedChartFile, p)
		}
	}()
	run = record.Normalize(run)
	var nodes []results.Result
	for _, g := range Groups(run) {
		nodes = append(nodes, g.Nodes...)
	}
	phases := explainedPhases(nodes)
	if len(phases) == 0 {
		return nil, nil
	}
	title := "Where the used memory goes"
	if run.ID != "" {
		title += "\nrun " + run.ID
	}
	p := newPlot(title)
	p.Y.Label.Text = "MiB used (MemTotal − MemAvailable) at the breakdown"
	sp := &stackPanel{}
	var names []string
	for _, ep := range phases {
		sp.bars = append(sp.bars, ep)
		sp.ymax = max(sp.ymax, results.MiB(ep.br.Explained.UsedKiB), results.MiB(positiveSum(ep.parts)))
		names = append(names, ep.node.Node+"\n"+string(ep.br.Phase))
	}
	sp.ymax *= 1.35 // room for the legend
	p.Add(sp)
	p.NominalX(names...)
	p.Y.Max = sp.ymax
	width := max(16*vg.Centimeter, vg.Length(len(phases))*2.2*vg.Centimeter+3*vg.Centimeter)
	c := vgsvg.New(width, 12*vg.Centimeter)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")), nil
}

func positiveSum(parts []results.Part) int64 {
	var s int64
	for _, p := range parts {
		s += max(0, p.KiB)
	}
	return s
}

type stackPanel struct {
	bars []explainedPhase
	ymax float64
}

func (sp *stackPanel) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(sp.bars)) - 0.5, 0, sp.ymax
}

func (sp *stackPanel) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	small := labelStyle(p, 7)
	small.YAlign = draw.YCenter
	top := labelStyle(p, 8)
	legend := labelStyle(p, 8)
	legend.XAlign, legend.YAlign = draw.XLeft, draw.YCenter
	sp.legend(&c, legend)
	for i, ep := range sp.bars {
		x0, x1 := trX(float64(i)-0.3), trX(float64(i)+0.3)
		y := 0.0
		for _, k := range segmentKinds {
			var sizes []float64
			for _, part := range ep.parts {
				if part.Kind == k.kind && part.KiB > 0 {
					sizes = append(sizes, results.MiB(part.KiB))
				}
			}
			y = sp.segment(&c, trY, x0, x1, y, sizes, k.fill, k.hatch, small)
		}
		used := results.MiB(ep.br.Explained.UsedKiB)
		c.FillText(top, vg.Point{X: (x0 + x1) / 2, Y: trY(max(y, used)) + vg.Points(2)}, fmt.Sprintf("%.0f", used))
	}
}

// segment stacks one kind's parts from y up, divided where one part ends
// and the next begins, and labels the kind's total where it fits; it
// returns the top.
func (sp *stackPanel) segment(c *draw.Canvas, trY func(float64) vg.Length, x0, x1 vg.Length, y float64, sizes []float64,
	fill color.Color, hatched int, label draw.TextStyle) float64 {
	total := 0.0
	for _, s := range sizes {
		total += s
	}
	if total <= 0 {
		return y
	}
	r := vg.Rectangle{Min: vg.Point{X: x0, Y: trY(y)}, Max: vg.Point{X: x1, Y: trY(y + total)}}
	pts := []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
	c.FillPolygon(fill, pts)
	if hatched > 0 {
		hatch(c, r, vg.Points(4))
	}
	if hatched > 1 {
		hatchBack(c, r, vg.Points(4))
	}
	thin := draw.LineStyle{Color: black, Width: vg.Points(0.4)}
	at := y
	for _, s := range sizes[:len(sizes)-1] {
		at += s
		c.StrokeLine2(thin, x0, trY(at), x1, trY(at))
	}
	c.StrokeLines(draw.LineStyle{Color: black, Width: vg.Points(0.8)}, append(pts, pts[0]))
	if r.Max.Y-r.Min.Y > label.Height("0")+vg.Points(2) {
		text := fmt.Sprintf("%.0f", total)
		// White text on the dark fills, in a white box on the hatched ones.
		l := label
		if g, ok := fill.(color.Gray); ok && g.Y < 0x80 {
			l.Color = color.White
		} else if hatched > 0 {
			w, h := l.Width(text)+vg.Points(3), l.Height(text)+vg.Points(1)
			mid := vg.Point{X: (x0 + x1) / 2, Y: (r.Min.Y + r.Max.Y) / 2}
			c.FillPolygon(color.White, []vg.Point{{X: mid.X - w/2, Y: mid.Y - h/2}, {X: mid.X + w/2, Y: mid.Y - h/2},
				{X: mid.X + w/2, Y: mid.Y + h/2}, {X: mid.X - w/2, Y: mid.Y + h/2}})
		}
		c.FillText(l, vg.Point{X: (x0 + x1) / 2, Y: (r.Min.Y + r.Max.Y) / 2}, text)
	}
	return y + total
}

// legend is the key in one row along the top, from the left.
func (sp *stackPanel) legend(c *draw.Canvas, sty draw.TextStyle) {
	h := sty.Height("Mg")
	y := c.Max.Y - h/2 - vg.Points(4)
	x := c.Min.X + vg.Points(6)
	for _, k := range segmentKinds {
		// Text is measured with Liberation Sans; leave room for a wider
		// fallback font, and wrap to a second row.
		if x+vg.Points(18)+sty.Width(k.legend)*1.15 > c.Max.X {
			x, y = c.Min.X+vg.Points(6), y-h-vg.Points(6)
		}
		r := vg.Rectangle{Min: vg.Point{X: x, Y: y - h/2}, Max: vg.Point{X: x + vg.Points(14), Y: y + h/2}}
		pts := []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
		c.FillPolygon(k.fill, pts)
		if k.hatch > 0 {
			hatch(c, r, vg.Points(3))
		}
		if k.hatch > 1 {
			hatchBack(c, r, vg.Points(3))
		}
		c.StrokeLines(draw.LineStyle{Color: black, Width: vg.Points(0.8)}, append(pts, pts[0]))
		x += vg.Points(18)
		c.FillText(sty, vg.Point{X: x, Y: y}, k.legend)
		x += sty.Width(k.legend)*1.15 + vg.Points(10)
	}
}

// hatchBack fills r with −45° lines, step apart, clipped to r.
func hatchBack(c *draw.Canvas, r vg.Rectangle, step vg.Length) {
	h := r.Max.Y - r.Min.Y
	if h <= 0 {
		return
	}
	sty := draw.LineStyle{Color: black, Width: vg.Points(0.6)}
	for x := r.Min.X; x < r.Max.X+h; x += step {
		// The line (x−t, Min.Y+t) for t in [0, h], kept within [Min.X, Max.X].
		t0, t1 := max(0, x-r.Max.X), min(h, x-r.Min.X)
		if t1 > t0 {
			c.StrokeLine2(sty, x-t0, r.Min.Y+t0, x-t1, r.Min.Y+t1)
		}
	}
}
