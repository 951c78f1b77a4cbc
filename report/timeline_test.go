package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

func timelineRun() record.Run {
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
			run.Nodes[i].Phases = append(run.Nodes[i].Phases, results.Phase{Name: "settle", Status: results.StatusUnsettled, StartedAt: 71, EndedAt: 81},
				results.Phase{Name: "idle", Status: results.StatusOK, StartedAt: 81, EndedAt: 89})
		}
	}
	return run
}

func TestTimelinePerNodeWithPhaseBands(t *testing.T) {
	dir := t.TempDir()
	run := timelineRun()
	if err := writeRun(dir, run); err != nil {
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

// The memory pressure the timeline carries is a panel below the memory,
// some and full avg10, on the same time axis.
func TestTimelineDrawsMemoryPressure(t *testing.T) {
	run := timelineRun()
	for i := range run.Nodes {
		if tl := run.Nodes[i].Timeline; tl != nil {
			for _, pt := range tl.Points {
				some := 0.0
				if pt[0] >= 90 {
					some = 12.5
				}
				tl.Pressure = append(tl.Pressure, [5]float64{pt[0], some, pt[0] * 1000, some / 4, pt[0] * 100})
			}
		}
	}
	dir := t.TempDir()
	if err := writeRun(dir, run); err != nil {
		t.Fatal(err)
	}
	svg := readFile(t, filepath.Join(dir, "docker"+TimelineSuffix))
	for _, want := range []string{"PSI avg10 (%)", "memory pressure: some task stalled", "all tasks stalled (full)", "guest uptime (s)", ">MemTotal<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if strings.Count(svg, "guest uptime (s)") != 1 {
		t.Errorf("the time axis is named %d times, want once, under the last panel", strings.Count(svg, "guest uptime (s)"))
	}
	// Without pressure, no panel.
	dir = t.TempDir()
	if err := writeRun(dir, timelineRun()); err != nil {
		t.Fatal(err)
	}
	if svg := readFile(t, filepath.Join(dir, "docker"+TimelineSuffix)); strings.Contains(svg, "PSI") {
		t.Error("a pressure panel without pressure readings")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The API's answers through the workload are a panel of their own, and OOM
// kills a mark at their time, named by the process, on every panel.
func TestTimelineDrawsTheAPIOverTimeAndOOMKills(t *testing.T) {
	run := timelineRun()
	secs := func(v float64) *float64 { return &v }
	for i := range run.Nodes {
		if run.Nodes[i].Timeline != nil {
			run.Nodes[i].APISeries = &results.APISeries{IntervalSeconds: 10, Points: []results.APIPoint{
				{UptimeSeconds: 92, HTTPCode: 200, Seconds: secs(0.004)}, {UptimeSeconds: 102, HTTPCode: 200, Seconds: secs(0.35)},
				{UptimeSeconds: 112, HTTPCode: 0, Seconds: secs(10)}, {UptimeSeconds: 122, HTTPCode: 503, Seconds: nil},
				{UptimeSeconds: 132, HTTPCode: 200, Seconds: secs(0.02)}}}
			run.Nodes[i].OOMKillEvents = []results.OOMKill{{UptimeSeconds: 110.5, Process: "mysqld"}}
		}
	}
	dir := t.TempDir()
	if err := writeRun(dir, run); err != nil {
		t.Fatal(err)
	}
	svg := readFile(t, filepath.Join(dir, "docker"+TimelineSuffix))
	for _, want := range []string{"API (s)", "API answered (200), every 10 s", "no answer, or not 200", "OOM kill: mysqld", ">OOM kill<", "guest uptime (s)"} {
		if !strings.Contains(svg, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if strings.Contains(svg, "PSI") {
		t.Error("a pressure panel without pressure readings")
	}
	if strings.Count(svg, "guest uptime (s)") != 1 {
		t.Errorf("the time axis is named %d times, want once", strings.Count(svg, "guest uptime (s)"))
	}
}
