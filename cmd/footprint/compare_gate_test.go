package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/report"
	"github.com/footprint-dev/footprint/results"
)

// gateCell is one system at 1024 MiB with one sample per phase (MiB).
type gateCell struct {
	profile    string
	idle, work float64
	api        results.APIVerdict
}

// writeGateRun writes a run folder of MySQL holding the cells and returns
// its path.
func writeGateRun(t *testing.T, id string, cells ...gateCell) string {
	t.Helper()
	run := record.Run{SchemaVersion: record.SchemaVersion, ID: id, Stack: "t",
		Experiment: map[string]any{"workloadImage": "mysql:8.4"}}
	for _, c := range cells {
		r := results.Result{SchemaVersion: 1, Node: c.profile + "-1024m", Profile: c.profile, Status: results.StatusOK,
			Machine: &results.Machine{MemoryMiB: 1024}}
		for phase, v := range map[results.PhaseName]float64{results.PhaseIdle: c.idle, results.PhaseWorkload: c.work} {
			used := int64(v * 1024)
			r.Samples = append(r.Samples, results.Sample{Phase: phase, UsedKiB: used,
				MeminfoKiB: map[string]int64{"MemTotal": 973 * 1024, "MemAvailable": 973*1024 - used}})
		}
		if c.api != "" {
			r.API = &results.API{Verdict: c.api}
		}
		run.Nodes = append(run.Nodes, r)
	}
	dir := t.TempDir()
	if err := errors.Join(record.Write(dir, run), report.Render(dir, run)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runCompare(args ...string) (stdout, stderr string, err error) {
	cmd := root(context.Background())
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"compare"}, args...))
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var ex exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ex):
		return ex.code
	}
	return 1
}

// The exit status through the command: 0 without a gate whatever grew, 4
// naming each failing cell on stderr, 0 when every cell passes; a phase's
// own threshold stands in for the common one; the API rule can be waived;
// a baseline may be given as its results.json.
func TestCompareGateExitStatus(t *testing.T) {
	base := writeGateRun(t, "base",
		gateCell{profile: "k3s", idle: 600, work: 900, api: results.APIResponsive},
		gateCell{profile: "docker", idle: 210, work: 600, api: results.APIResponsive})
	grown := writeGateRun(t, "grown",
		gateCell{profile: "k3s", idle: 680, work: 905, api: results.APIResponsive},
		gateCell{profile: "docker", idle: 212, work: 600, api: results.APIResponsive})
	idle20 := writeGateRun(t, "idle20",
		gateCell{profile: "k3s", idle: 620, work: 905, api: results.APIResponsive},
		gateCell{profile: "docker", idle: 210, work: 600, api: results.APIResponsive})
	worseAPI := writeGateRun(t, "worse-api",
		gateCell{profile: "k3s", idle: 600, work: 900, api: results.APIUnresponsive},
		gateCell{profile: "docker", idle: 210, work: 600, api: results.APIResponsive})
	lost := writeGateRun(t, "lost", gateCell{profile: "k3s", idle: 600, work: 900, api: results.APIResponsive})
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr []string // lines, each whole
	}{
		{"no gate", []string{base, grown}, 0, nil},
		{"growth past both", []string{base, grown, "--max-growth-mib", "32", "--max-growth-pct", "5"}, 4,
			[]string{"footprint: k3s at 1024 MiB, idle: regression: +80 MiB (+13%), 600 → 680 MiB, past 32 MiB and 5%"}},
		{"within thresholds", []string{base, grown, "--max-growth-mib", "100"}, 0, nil},
		{"idle's own, stricter", []string{base, idle20, "--max-growth-mib", "100", "--idle-max-growth-mib", "10"}, 4,
			[]string{"footprint: k3s at 1024 MiB, idle: regression: +20 MiB (+3%), 600 → 620 MiB, past 10 MiB"}},
		{"idle's own, looser", []string{base, idle20, "--max-growth-mib", "10", "--idle-max-growth-mib", "100"}, 0, nil},
		{"API worse", []string{base, worseAPI, "--max-growth-mib", "32"}, 4,
			[]string{"footprint: k3s at 1024 MiB, API after MySQL: regression: responsive → unresponsive, worse than A"}},
		{"API worse allowed", []string{base, worseAPI, "--max-growth-mib", "32", "--allow-api-worse"}, 0, nil},
		{"a system lost", []string{base, lost, "--max-growth-pct", "5"}, 4, []string{
			"footprint: docker at 1024 MiB, idle: missing: not run in B",
			"footprint: docker at 1024 MiB, with MySQL: missing: not run in B",
			"footprint: docker at 1024 MiB, API after MySQL: missing: no API verdict in B"}},
		{"baseline as results.json", []string{filepath.Join(base, record.File), grown, "--max-growth-mib", "32"}, 4,
			[]string{"footprint: k3s at 1024 MiB, idle: regression: +80 MiB (+13%), 600 → 680 MiB, past 32 MiB"}},
	} {
		stdout, stderr, err := runCompare(tc.args...)
		if code := exitCode(err); code != tc.code {
			t.Errorf("%s: exit %d (%v), want %d\n%s", tc.name, code, err, tc.code, stderr)
			continue
		}
		var lines []string
		if stderr != "" {
			lines = strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		}
		if strings.Join(lines, "\n") != strings.Join(tc.stderr, "\n") {
			t.Errorf("%s: stderr\n%s\nwant\n%s", tc.name, stderr, strings.Join(tc.stderr, "\n"))
		}
		gated := len(tc.args) > 2
		if strings.Contains(stdout, "## Gate") != gated {
			t.Errorf("%s: gate section %v in\n%s", tc.name, !gated, stdout)
		}
		if tc.code == 4 && (strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "gate failed: ")) {
			t.Errorf("%s: error %q", tc.name, err)
		}
		if tc.code == 0 && gated && !strings.Contains(stdout, "\nGate passed: ") {
			t.Errorf("%s: no pass line in\n%s", tc.name, stdout)
		}
	}
}

// --json prints the comparison with the gate's thresholds and verdicts, and
// the exit status still says the gate failed.
func TestCompareGateJSON(t *testing.T) {
	base := writeGateRun(t, "base", gateCell{profile: "k3s", idle: 600, work: 900})
	grown := writeGateRun(t, "grown", gateCell{profile: "k3s", idle: 680, work: 905})
	stdout, _, err := runCompare(base, grown, "--json", "--max-growth-mib", "32", "--workload-max-growth-pct", "1")
	if exitCode(err) != exitRegression {
		t.Fatalf("exit %d (%v)", exitCode(err), err)
	}
	var c report.Comparison
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	g := c.Gate
	if g == nil || g.Passed || len(g.Cells) != 2 {
		t.Fatalf("gate %+v", g)
	}
	if r := g.Rules; *r.Idle.MiB != 32 || r.Idle.Pct != nil || *r.Workload.MiB != 32 || *r.Workload.Pct != 1 {
		t.Errorf("thresholds %+v", r)
	}
	if g.Cells[0].Check != report.CheckIdle || g.Cells[0].Verdict != report.GateRegression ||
		g.Cells[1].Check != report.CheckWorkload || g.Cells[1].Verdict != report.GateOK {
		t.Errorf("cells %+v", g.Cells)
	}
}

// A bad threshold is refused in one line naming its flag, before anything
// is read, with status 1 rather than the gate's 4.
func TestCompareGateFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-growth-pct", "-5"}, "--max-growth-pct -5: want a number of 0 or more"},
		{[]string{"--max-growth-mib", "10", "--workload-max-growth-mib", "NaN"}, "--workload-max-growth-mib NaN: want a number of 0 or more"},
		{[]string{"--idle-max-growth-pct", "+Inf"}, "--idle-max-growth-pct +Inf: want a number of 0 or more"},
		{[]string{"--allow-api-worse"}, "--allow-api-worse: only with a gate: give --max-growth-mib or --max-growth-pct (or a phase's own)"},
	} {
		_, _, err := runCompare(append([]string{"no-such-a", "no-such-b"}, tc.args...)...)
		if exitCode(err) != 1 || err.Error() != tc.want {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
