package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/results"
)

func timelineRun() Run {
	run := fixtureRun()
	for i := range run.Nodes {
		if run.Nodes[i].Node == "docker" {
			var pts [][3]float64
			for u := 60.0; u <= 160; u += 5 {
				used := 230.0 * 1024
				if u >= 90 {
					used = 400 * 1024
				}
				pts = append(pts, [3]float64{u, used, 996556 - used})
			}
			run.Nodes[i].Timeline = &results.Timeline{IntervalSeconds: 5, Points: pts}
			run.Nodes[i].Phases = append(run.Nodes[i].Phases, results.Phase{Name: "settle", Status: results.PhaseUnsettled, StartedAt: 71, EndedAt: 81},
				results.Phase{Name: "idle", Status: "ok", StartedAt: 81, EndedAt: 89})
		}
	}
	return run
}

func TestTimelinePerNodeWithPhaseBands(t *testing.T) {
	dir := t.TempDir()
	run := timelineRun()
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "docker"+TimelineSuffix))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "docker: used memory over time (every 5 s", "guest uptime (s)", ">workloadReady<", ">api<", ">MemTotal<"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	for _, node := range []string{"bare", "k3s"} {
		if _, err := os.Stat(filepath.Join(dir, node+TimelineSuffix)); err == nil {
			t.Errorf("a timeline for %s, which has none", node)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, ReportFile))
	// docker's idle: its one sample and the timeline's reading at 85 s;
	// its settle hit the cap.
	if !strings.Contains(string(md), "| docker | idle | 2 | 230 | 230–230 | 230 | unsettled, 10 s |") {
		t.Errorf("no steady state of docker's idle:\n%s", md)
	}
	if !strings.Contains(string(md), "## Memory over time") || !strings.Contains(string(md), "![docker: used memory over time](docker.timeline.svg)") {
		t.Errorf("report does not link the timeline:\n%s", md)
	}
}
