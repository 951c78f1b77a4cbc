package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// both is the example gate: 32 MiB and 5 % in both phases.
func both() GateRules {
	t := Threshold{MiB: f(32), Pct: f(5)}
	return GateRules{Idle: t, Workload: t}
}

func cellOf(t *testing.T, g *Gate, profile string, size int, check string) GateCell {
	t.Helper()
	for _, c := range g.Cells {
		if c.Profile == profile && c.MemoryMiB == size && c.Check == check {
			return c
		}
	}
	t.Fatalf("no gate cell %s at %d MiB, %s: %+v", profile, size, check, g.Cells)
	return GateCell{}
}

// k3s grew by 80 MiB idle (13 %), past both limits: the gate fails naming
// the cell and phase; docker's 6 MiB and k3s's workload are fine.
func TestGateRealGrowthFailsNamingTheCell(t *testing.T) {
	a := makeRun("a",
		node{name: "k3s", profile: "k3s", size: 1024, idle: []float64{600}, work: []float64{900}},
		node{name: "docker", profile: "docker", size: 1024, idle: []float64{210}, work: []float64{600}})
	b := makeRun("b",
		node{name: "k3s", profile: "k3s", size: 1024, idle: []float64{680}, work: []float64{910}},
		node{name: "docker", profile: "docker", size: 1024, idle: []float64{216}, work: []float64{600}})
	g := Compare(a, b).Judge(both())
	if g.Passed {
		t.Fatalf("gate passed: %+v", g.Cells)
	}
	c := cellOf(t, g, "k3s", 1024, CheckIdle)
	want := "k3s at 1024 MiB, idle: regression: +80 MiB (+13%), 600 → 680 MiB, past 32 MiB and 5%"
	if c.Verdict != GateRegression || g.Line(c) != want {
		t.Errorf("k3s idle: %s, %q\nwant %q", c.Verdict, g.Line(c), want)
	}
	for _, ok := range []GateCell{cellOf(t, g, "k3s", 1024, CheckWorkload), cellOf(t, g, "docker", 1024, CheckIdle), cellOf(t, g, "docker", 1024, CheckWorkload)} {
		if ok.Verdict != GateOK {
			t.Errorf("%s", g.Line(ok))
		}
	}
	if g.Summary() != "failed: 1 of 4 cells (1 regression, 0 missing)" {
		t.Errorf("summary %q", g.Summary())
	}
}

// With both limits a cell fails only past both; with one, past that one.
func TestThresholdExceeded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		t        Threshold
		mib, pct float64
		want     bool
	}{
		{"past both", Threshold{MiB: f(32), Pct: f(5)}, 40, 6, true},
		{"large system, past MiB only", Threshold{MiB: f(32), Pct: f(5)}, 40, 3, false},
		{"small system, past per cent only", Threshold{MiB: f(32), Pct: f(5)}, 20, 12, false},
		{"MiB only", Threshold{MiB: f(32)}, 33, 1, true},
		{"at the MiB limit", Threshold{MiB: f(32)}, 32, 50, false},
		{"per cent only", Threshold{Pct: f(5)}, 1, 5.1, true},
		{"zero: any growth", Threshold{MiB: f(0)}, 0.5, 0, true},
		{"zero: shrinking", Threshold{MiB: f(0)}, -3, -1, false},
		{"no limits", Threshold{}, 500, 100, false},
	} {
		pct := tc.pct
		if got := tc.t.exceeded(tc.mib, &pct); got != tc.want {
			t.Errorf("%s: exceeded(%v MiB, %v%%) = %v", tc.name, tc.mib, tc.pct, got)
		}
	}
	if !(Threshold{Pct: f(5)}).exceeded(10, nil) {
		t.Error("growth from a zero median is within a per-cent limit")
	}
}

// Three repeats each: B's median grew 40 MiB (5.6 %), past both limits,
// but it is a figure A itself reached on a repeat, so the cell is noise and
// says so; B's repeats all above A's are a regression.
func TestGateRepeatsWithinNoisePass(t *testing.T) {
	repeats := func(id string, idle ...float64) record.Run {
		var nodes []node
		for i, v := range idle {
			nodes = append(nodes, node{name: "k3s-r" + string(rune('1'+i)), profile: "k3s", size: 1024, repeat: i + 1, idle: []float64{v}})
		}
		return makeRun(id, nodes...)
	}
	base := repeats("a", 700, 720, 760)
	g := Compare(base, repeats("b", 740, 760, 790)).Judge(both())
	c := cellOf(t, g, "k3s", 1024, CheckIdle)
	want := "k3s at 1024 MiB, idle: within noise: +40 MiB (+6%), 720 → 760 MiB, past 32 MiB and 5% but within the spread of repeats: A 700–760 MiB, B 740–790 MiB"
	if !g.Passed || c.Verdict != GateWithinNoise || g.Line(c) != want {
		t.Errorf("passed %v, %s\n%q\nwant %q", g.Passed, c.Verdict, g.Line(c), want)
	}
	if g.Summary() != "passed: 1 cells, 1 within noise" {
		t.Errorf("summary %q", g.Summary())
	}
	if md := Compare(base, repeats("b", 740, 760, 790)).withGate(both()).Markdown(); !strings.Contains(md, "- "+want+"\n") {
		t.Errorf("markdown lacks the noise line:\n%s", md)
	}
	if g := Compare(base, repeats("b", 770, 800, 820)).Judge(both()); g.Passed {
		t.Errorf("B above every repeat of A passed: %+v", g.Cells)
	}
}

// The rule's two halves: B's median at most A's largest, or B's smallest at
// most A's median.
func TestWithinSpread(t *testing.T) {
	a := Stat{N: 3, Median: 720, Min: 700, Max: 730}
	for _, tc := range []struct {
		b    Stat
		want bool
	}{
		{Stat{N: 3, Median: 730, Min: 729, Max: 800}, true}, // B's median reached by A
		{Stat{N: 3, Median: 770, Min: 715, Max: 800}, true}, // A's median reached by B
		{Stat{N: 3, Median: 770, Min: 721, Max: 800}, false},
		{Stat{N: 1, Median: 770, Min: 770, Max: 770}, false},
	} {
		if got := withinSpread(a, tc.b); got != tc.want {
			t.Errorf("A %+v, B %+v: %v", a, tc.b, got)
		}
	}
}

// microk8s stopped producing anything, k0s has no samples with MySQL: both
// fail. bare has no workload in A, so none is asked of B; kubesolo is only
// in B and is not judged.
func TestGateMissingCellFails(t *testing.T) {
	a := makeRun("a",
		node{name: "microk8s", profile: "microk8s", size: 1024, idle: []float64{700}, work: []float64{950}},
		node{name: "k0s", profile: "k0s", size: 1024, idle: []float64{650}, work: []float64{955}},
		node{name: "bare", profile: "bare", size: 1024, idle: []float64{167}})
	b := makeRun("b",
		node{name: "k0s", profile: "k0s", size: 1024, idle: []float64{650}, status: results.StatusFailed},
		node{name: "bare", profile: "bare", size: 1024, idle: []float64{167}},
		node{name: "kubesolo", profile: "kubesolo", size: 1024, idle: []float64{400}})
	g := Compare(a, b).Judge(both())
	if g.Passed {
		t.Fatalf("gate passed with cells missing: %+v", g.Cells)
	}
	for _, want := range []string{
		"microk8s at 1024 MiB, idle: missing: not run in B",
		"microk8s at 1024 MiB, with MySQL: missing: not run in B",
		"k0s at 1024 MiB, with MySQL: missing: no samples in B (failed)",
	} {
		found := false
		for _, c := range g.Cells {
			found = found || g.Line(c) == want && c.Failed()
		}
		if !found {
			t.Errorf("no failing cell %q", want)
		}
	}
	for _, c := range g.Cells {
		if c.Profile == "kubesolo" || c.Profile == "bare" && c.Check == CheckWorkload {
			t.Errorf("judged %s", g.Line(c))
		}
	}
	if len(g.Cells) != 5 {
		t.Errorf("%d cells, want microk8s ×2, k0s ×2, bare idle", len(g.Cells))
	}
}

// An API worse than A's worst repeat fails unless allowed; a verdict A had
// on some repeat, or a better one, passes; no verdict in B is missing.
func TestGateAPIWorse(t *testing.T) {
	run := func(id string, verdicts ...results.APIVerdict) record.Run {
		var nodes []node
		for i, v := range verdicts {
			nodes = append(nodes, node{name: "k3s-r" + string(rune('1'+i)), profile: "k3s", size: 1024, repeat: i + 1, idle: []float64{600}, api: v})
		}
		return makeRun(id, nodes...)
	}
	r, d, u := results.APIResponsive, results.APIDegraded, results.APIUnresponsive
	for _, tc := range []struct {
		name    string
		a, b    []results.APIVerdict
		allow   bool
		verdict GateVerdict
	}{
		{"responsive to unresponsive", []results.APIVerdict{r}, []results.APIVerdict{u}, false, GateRegression},
		{"responsive to degraded", []results.APIVerdict{r}, []results.APIVerdict{d}, false, GateRegression},
		{"one repeat of three degraded", []results.APIVerdict{r, r, r}, []results.APIVerdict{r, d, r}, false, GateRegression},
		{"allowed", []results.APIVerdict{r}, []results.APIVerdict{u}, true, GateOK},
		{"better", []results.APIVerdict{d}, []results.APIVerdict{r}, false, GateOK},
		{"as bad as A's worst repeat", []results.APIVerdict{r, u, r}, []results.APIVerdict{u, u, u}, false, GateOK},
		{"no verdict in B", []results.APIVerdict{r}, []results.APIVerdict{""}, true, GateMissing},
		{"a verdict footprint does not know", []results.APIVerdict{d}, []results.APIVerdict{"exploded"}, false, GateRegression},
	} {
		g := Compare(run("a", tc.a...), run("b", tc.b...)).Judge(GateRules{AllowAPIWorse: tc.allow})
		c := cellOf(t, g, "k3s", 1024, CheckAPI)
		if c.Verdict != tc.verdict || g.Passed != (tc.verdict == GateOK) {
			t.Errorf("%s: %s, passed %v", tc.name, g.Line(c), g.Passed)
		}
	}
	g := Compare(run("a", r), run("b", u)).Judge(GateRules{})
	if c := cellOf(t, g, "k3s", 1024, CheckAPI); g.Line(c) != "k3s at 1024 MiB, API after MySQL: regression: responsive → unresponsive, worse than A" {
		t.Errorf("line %q", g.Line(c))
	}
	md := Compare(run("a", r), run("b", u)).withGate(GateRules{Idle: Threshold{MiB: f(20)}, AllowAPIWorse: true}).Markdown()
	if !strings.Contains(md, "Thresholds of growth: idle 20 MiB, with MySQL none; a worse API verdict is allowed.") {
		t.Errorf("markdown does not say the rules:\n%s", md)
	}
}

// The JSON of a gated comparison carries the thresholds and a verdict per
// cell; without a gate it has no gate at all.
func TestGateJSON(t *testing.T) {
	a, b := compareRuns()
	c := Compare(a, b)
	plain, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain), `"gate"`) {
		t.Errorf("ungated JSON has a gate:\n%s", plain)
	}
	data, err := c.withGate(GateRules{Idle: Threshold{MiB: f(20)}, Workload: Threshold{Pct: f(10)}}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Gate struct {
			Thresholds struct {
				Idle          map[string]float64 `json:"idle"`
				Workload      map[string]float64 `json:"workload"`
				AllowAPIWorse *bool              `json:"allowApiWorse"`
			} `json:"thresholds"`
			Passed *bool            `json:"passed"`
			Cells  []map[string]any `json:"cells"`
		} `json:"gate"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	th := out.Gate.Thresholds
	if len(th.Idle) != 1 || th.Idle["mib"] != 20 || len(th.Workload) != 1 || th.Workload["pct"] != 10 || th.AllowAPIWorse == nil || *th.AllowAPIWorse {
		t.Errorf("thresholds %+v\n%s", th, data)
	}
	if out.Gate.Passed == nil || *out.Gate.Passed {
		t.Errorf("passed %v", out.Gate.Passed)
	}
	verdicts := map[string]any{}
	for _, cell := range out.Gate.Cells {
		verdicts[cell["profile"].(string)+" "+cell["check"].(string)] = cell["verdict"]
		if cell["memoryMiB"] != 1024.0 || cell["detail"] == "" {
			t.Errorf("cell %v", cell)
		}
	}
	for k, v := range map[string]GateVerdict{"k3s idle": GateRegression, "k3s workload": GateOK, "k3s api": GateRegression,
		"docker idle": GateOK, "microk8s idle": GateMissing, "microk8s api": GateMissing} {
		if verdicts[k] != string(v) {
			t.Errorf("%s: %v, want %s (all %v)", k, verdicts[k], v, verdicts)
		}
	}
	if _, judged := verdicts["k0s idle"]; judged {
		t.Error("k0s, only in B, judged")
	}
}

func (c Comparison) withGate(r GateRules) Comparison {
	c.Gate = c.Judge(r)
	return c
}

// A run is read from its folder or from its results.json named directly;
// another file is refused naming it.
func TestReadRunFolderOrFile(t *testing.T) {
	dir := t.TempDir()
	if err := writeRun(dir, makeRun("r1", node{name: "bare", profile: "bare", size: 1024, idle: []float64{167}})); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, record.File)} {
		if run, err := ReadRun(p); err != nil || run.ID != "r1" {
			t.Errorf("%s: %v, %q", p, err, run.ID)
		}
	}
	other := filepath.Join(dir, "baseline.json")
	if err := os.WriteFile(other, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRun(other); err == nil || !strings.Contains(err.Error(), other) {
		t.Errorf("another file: %v", err)
	}
}

// The per-CPU free lists are judged out where both runs counted them: the
// same bare, once with its lists full (45 MiB) and once not, is no growth,
// while a real growth under the same lists still fails, naming the figure.
func TestGateJudgesUsedWithoutThePerCPUFreeLists(t *testing.T) {
	node := func(name string, usedMiB, pcpMiB int64) results.Result {
		mi := map[string]int64{"MemTotal": 996604, "MemAvailable": 996604 - usedMiB*1024}
		s := results.Sample{Phase: "idle", UsedKiB: usedMiB * 1024, MeminfoKiB: mi, PCPFreeKiB: &[]int64{pcpMiB * 1024}[0]}
		return results.Result{Node: name, Profile: "bare", Status: results.StatusOK, Samples: []results.Sample{s, s, s},
			Machine: &results.Machine{MemoryMiB: 1024}}
	}
	base := record.Run{ID: "a", Nodes: []results.Result{node("bare", 172, 4)}}
	rules := both()
	for _, c := range []struct {
		name    string
		next    results.Result
		verdict GateVerdict
	}{
		{"lists full", node("bare", 217, 49), GateOK},
		{"a daemon more, lists full", node("bare", 300, 45), GateRegression},
	} {
		g := Compare(base, record.Run{ID: "b", Nodes: []results.Result{c.next}}).Judge(rules)
		cell := cellOf(t, g, "bare", 1024, CheckIdle)
		if cell.Verdict != c.verdict || cell.Figure != FigureUsedWithoutPCP || !strings.Contains(cell.Detail, "without the per-CPU free lists") {
			t.Errorf("%s: %s judged on %q: %s", c.name, cell.Verdict, cell.Figure, cell.Detail)
		}
	}
	// An agent that did not count them: used, as the seed reads it.
	old := node("bare", 217, 0)
	old.Samples[0].PCPFreeKiB, old.Samples[1].PCPFreeKiB, old.Samples[2].PCPFreeKiB = nil, nil, nil
	g := Compare(base, record.Run{ID: "b", Nodes: []results.Result{old}}).Judge(rules)
	if cell := cellOf(t, g, "bare", 1024, CheckIdle); cell.Figure != FigureUsed || cell.Verdict != GateRegression {
		t.Errorf("without the lists counted: %s on %q", cell.Verdict, cell.Figure)
	}
}
