//go:build e2e

package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/report"
)

// The thresholds a CI job would set for bare: a growth past both 10 MiB and
// 5 % fails; a change inside the baseline's spread never does.
var gateFlags = []string{"--max-growth-mib", "10", "--max-growth-pct", "5"}

// The regression gate on real run folders, held to the lost-host run's
// four repeats of bare at 1 GiB as the baseline: bare measured again (the
// bare test's run) passes; bare on the image with Docker preinstalled,
// whose daemons start at boot, is a real growth and fails, the cell named.
// It reads the runs of the tests before it (file order), so it needs them
// in the same `go test`; the Docker-image run is its own, one guest alone,
// which boots in a fraction of the time four at once would take.
func TestGateOnRealRunFolders(t *testing.T) {
	base := keptRun(t, "TestALostHostThenResume")
	again := keptRun(t, "TestRunBareOnARealVM")
	grown := bareOnTheDockerImage(t)

	out, code := gate(t, base, again)
	t.Logf("bare again against the baseline: exit %d\n%s", code, out)
	if code != 0 {
		t.Errorf("a repeat of bare failed the gate (exit %d)", code)
	}
	g := gateOf(t, base, again)
	for _, c := range g.Cells {
		if c.Profile == "bare" && c.Check == report.CheckIdle && c.Verdict != report.GateOK && c.Verdict != report.GateWithinNoise {
			t.Errorf("bare idle: %s (%s)", c.Verdict, c.Detail)
		}
	}

	out, code = gate(t, base, grown)
	t.Logf("bare on the Docker image against the baseline: exit %d\n%s", code, out)
	if code != 4 || !strings.Contains(out, "bare at 1024 MiB, idle") {
		t.Errorf("exit %d, want 4 naming bare's idle cell", code)
	}
	g = gateOf(t, base, grown)
	if len(g.Cells) == 0 || g.Passed {
		t.Fatalf("gate %+v", g)
	}
	for _, c := range g.Cells {
		if c.Profile == "bare" && c.Check == report.CheckIdle {
			if c.Verdict != report.GateRegression || c.GrowthMiB == nil || *c.GrowthMiB <= 10 {
				t.Errorf("bare idle: %s, growth %v (%s)", c.Verdict, c.GrowthMiB, c.Detail)
			}
		}
	}
}

// keptRun is the run folder a test of this process kept, or a failure
// naming the test to run first.
func keptRun(t *testing.T, test string) string {
	t.Helper()
	dir, ok := keptRuns[test]
	if !ok {
		t.Fatalf("no run folder of %s: the gate reads the runs of earlier tests; run them in the same go test (make e2e)", test)
	}
	return dir
}

// gate runs `footprint compare` with the thresholds; its combined output
// and exit status.
func gate(t *testing.T, base, next string) (string, int) {
	t.Helper()
	cmd := exec.Command(footprint(t), append([]string{"compare", base, next}, gateFlags...)...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// gateOf is the gate's verdict as the JSON output gives it to scripts.
func gateOf(t *testing.T, base, next string) report.Gate {
	t.Helper()
	cmd := exec.Command(footprint(t), append([]string{"compare", "--json", base, next}, gateFlags...)...)
	out, _ := cmd.Output() // exit 4 on a regression: the JSON is still written
	var c report.Comparison
	if err := json.Unmarshal(out, &c); err != nil || c.Gate == nil {
		t.Fatalf("compare --json: %v\n%s", err, out)
	}
	return *c.Gate
}

// bareOnTheDockerImage runs bare alone on the image with Docker
// preinstalled and keeps its run folder: the gate's real growth.
func bareOnTheDockerImage(t *testing.T) string {
	t.Helper()
	h := newHost(t)
	dir := dockerProject(t, "grown", stackYAML("  footprint:profiles: [bare]\n"))
	start := time.Now()
	out, code := h.exec(dir, nil, footprint(t), "run", "--stack", "grown")
	t.Logf("bare on the Docker image: run took %s, exit %d", elapsed(start), code)
	if code != 0 {
		t.Fatalf("footprint run exited %d:\n%s", code, out)
	}
	runDir, _ := onlyRun(t, dir)
	keepRun(t, runDir)
	noLeftovers(t, h, "footprint-grown")
	return keptRun(t, t.Name())
}
