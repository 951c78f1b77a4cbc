package report

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// TestChart renders the chart of every fixture, checks the SVG, and turns
// it into a PNG with rsvg-convert (Debian package librsvg2-bin) to check
// that a real renderer reads it. Set FOOTPRINT_CHART_DIR to keep the SVG
// and PNG files for a look.
func TestChart(t *testing.T) {
	keep := os.Getenv("FOOTPRINT_CHART_DIR")
	for _, tc := range []struct {
		name     string
		run      record.Run
		profiles []string
		want     []string
		minH     int // PNG height at 96 dpi
	}{
		{"single", fixtureRun(), []string{"bare", "docker", "k3s"},
			[]string{"1024 MiB VM, MemTotal 973 MiB", "MemTotal (dashed)", ">none with MySQL<", ">with MySQL<", ">no data: timeout<", ">API slow<"}, 300},
		{"repeats", repeatsRun(), []string{"docker", "k3s"},
			[]string{">min–max<", ">API ok 2/3<", ">720<", ">910<"}, 300},
		{"sweep", sweepRun(), []string{"bare", "k0s", "k3s"},
			[]string{"512 MiB VM, MemTotal 461 MiB", "2048 MiB VM, MemTotal 1997 MiB", ">Idle, by VM size<",
				">hollow marker: API not responsive<", ">VM memory (MiB)<", ">MemTotal<"}, 600},
		{"failed", failedRun(), []string{"docker", "k0s", "k3s", "microk8s"},
			[]string{">no data: failed<", ">no data: unresponsive<", ">no data: timeout<", ">API down<"}, 300},
		{"empty", record.Run{ID: "empty"}, nil, []string{"<svg"}, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg, err := Chart(tc.run)
			if err != nil {
				t.Fatal(err)
			}
			if err := wellFormed(svg); err != nil {
				t.Fatalf("chart.svg is not well-formed XML: %v", err)
			}
			s := string(svg)
			for _, p := range tc.profiles {
				if !strings.Contains(s, ">"+p+"</text>") {
					t.Errorf("chart lacks the label of %s", p)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("chart lacks %q", w)
				}
			}
			if strings.Contains(s, "font-family:Liberation Sans;") {
				t.Error("chart names a font without a fallback")
			}
			dir := t.TempDir()
			if keep != "" {
				dir = keep
			}
			svgPath := filepath.Join(dir, "chart-"+tc.name+".svg")
			if err := os.WriteFile(svgPath, svg, 0o644); err != nil {
				t.Fatal(err)
			}
			rsvg, err := exec.LookPath("rsvg-convert")
			if err != nil {
				t.Fatal("rsvg-convert is not installed (Debian package librsvg2-bin): run `make tools`")
			}
			pngPath := strings.TrimSuffix(svgPath, ".svg") + ".png"
			if out, err := exec.Command(rsvg, "--background-color=white", "-o", pngPath, svgPath).CombinedOutput(); err != nil {
				t.Fatalf("rsvg-convert: %v\n%s", err, out)
			}
			f, err := os.Open(pngPath)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("the PNG does not decode: %v", err)
			}
			b := img.Bounds()
			if b.Dx() < 600 || b.Dy() < tc.minH || b.Dx() > 4000 || b.Dy() > 4000 {
				t.Errorf("PNG is %dx%d", b.Dx(), b.Dy())
			}
			if ink := inked(img); ink < 0.01 || ink > 0.5 {
				t.Errorf("%.1f%% of the PNG is drawn on; want a chart, not a blank or a black page", ink*100)
			}
		})
	}
}

func wellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		if _, err := d.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// inked is the share of pixels that are not near white.
func inked(img image.Image) float64 {
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r+g+bl < 3*0xe000 {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

// The chart tells series apart without colour: everything drawn is black,
// white or grey.
func TestChartNeedsNoColour(t *testing.T) {
	svg, err := Chart(sweepRun())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range strings.Split(string(svg), "#")[1:] {
		if len(m) < 6 {
			continue
		}
		hex := m[:6]
		if hex[0:2] != hex[2:4] || hex[2:4] != hex[4:6] {
			t.Errorf("chart uses colour #%s", hex)
		}
	}
}

func TestMibTicks(t *testing.T) {
	for _, tc := range []struct {
		hi   float64
		want string
	}{{1284, "0 200 400 600 800 1000 1200"}, {2636, "0 500 1000 1500 2000 2500"}, {132, "0 20 40 60 80 100 120"}} {
		var labels []string
		for _, tk := range (mibTicks{}).Ticks(0, tc.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != tc.want {
			t.Errorf("ticks to %v: %s, want %s", tc.hi, got, tc.want)
		}
	}
}

// A sweep where a node's size is unknown still draws the size panels.
func TestChartSweepWithAnUnknownSize(t *testing.T) {
	run := sweepRun()
	run.Nodes = append(run.Nodes, node{name: "mystery", profile: "mystery", noMachine: true, status: results.StatusTimeout}.result())
	svg, err := Chart(run)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">mystery</text>", ">Idle, by VM size<", ">no data: timeout<"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	if md := Markdown(run); !strings.Contains(md, "## VM size unknown") || !strings.Contains(md, "| mystery |") {
		t.Errorf("report:\n%s", md)
	}
}
