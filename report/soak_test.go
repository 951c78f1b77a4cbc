package report

import (
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// soakRun: bare flat with ±0.5 MiB and a step of the per-CPU lists, leaky
// growing 1 MiB every 4 s, docker soaked too briefly to fit, k3s not soaked.
func soakRun(t *testing.T) record.Run {
	t.Helper()
	run := makeRun("20261201T093000Z-soak",
		node{name: "bare", profile: "bare", size: 1024, idle: []float64{160, 161}},
		node{name: "leaky", profile: "leaky", size: 1024, idle: []float64{170, 171}},
		node{name: "docker", profile: "docker", size: 1024, idle: []float64{220, 221}},
		node{name: "k3s", profile: "k3s", size: 1024, idle: []float64{700, 701}},
	)
	soak := func(used func(i int) (float64, float64)) *results.Soak {
		s := &results.Soak{DurationSeconds: 180, IntervalSeconds: 5}
		for i := 0; i <= 36; i++ {
			u, p := used(i)
			s.Points = append(s.Points, []float64{float64(1000 + 5*i), u * 1024, p * 1024})
		}
		return s
	}
	for i := range run.Nodes {
		r := &run.Nodes[i]
		switch r.Node {
		case "bare":
			r.Soak = soak(func(i int) (float64, float64) {
				pcp := 2.0
				if i > 20 {
					pcp = 47
				}
				return 160 + pcp + 0.5*float64(i%2*2-1), pcp
			})
		case "leaky":
			r.Soak = soak(func(i int) (float64, float64) { return 170 + float64(5*i/4) + 2, 2 })
		case "docker":
			r.Soak = &results.Soak{DurationSeconds: 60, IntervalSeconds: 5, Points: [][]float64{{1000, 220 * 1024}}}
		}
		r.Derive()
	}
	return run
}

func TestReportHasTheLongRuns(t *testing.T) {
	md := Markdown(soakRun(t))
	i := strings.Index(md, "## Long runs (soak)")
	if i < 0 {
		t.Fatalf("no long runs section:\n%s", md)
	}
	sec := md[i:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	for _, want := range []string{
		results.GrowingRule, "not a proof",
		"| bare | 1024 | 3m | 37 | ",
		"| used without per-CPU free lists | **stable** |",
		"| leaky | 1024 | 3m | 37 | ",
		"| **growing** |",
		"| docker | 1024 | 1m | 1 | – | – | – | – | – (too few readings) |",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("long runs lack %q:\n%s", want, sec)
		}
	}
	if strings.Contains(sec, "| k3s |") {
		t.Errorf("a node without a soak listed:\n%s", sec)
	}
	if strings.Contains(Markdown(fixtureRun()), "Long runs") {
		t.Error("a run without soaks has a long runs section")
	}
}

func TestCSVHasASoakRow(t *testing.T) {
	rows := csvRows(t, soakRun(t))
	got := map[string]map[string]string{}
	for _, r := range rows {
		if r["phase"] == string(results.PhaseSoak) {
			got[r["node"]] = r
		}
		if r["phase"] != string(results.PhaseSoak) && r["soak_verdict"] != "" {
			t.Errorf("soak columns on a %q row: %v", r["phase"], r)
		}
	}
	if len(got) != 3 || got["k3s"] != nil {
		t.Fatalf("soak rows of %v, want bare, leaky and docker", got)
	}
	b, l, d := got["bare"], got["leaky"], got["docker"]
	if b["soak_verdict"] != string(results.SoakStable) || b["soak_seconds"] != "180" || b["samples"] != "37" ||
		b["used_mib_without_pcp"] != "159.5" || b["soak_rate_mib_per_h"] == "" || b["soak_rate_se_mib_per_h"] == "" {
		t.Errorf("bare: %v", b)
	}
	if l["soak_verdict"] != string(results.SoakGrowing) || !strings.HasPrefix(l["soak_rate_mib_per_h"], "899.") || l["used_mib_min"] != "172.0" {
		t.Errorf("leaky: %v", l)
	}
	if d["soak_verdict"] != "" || d["soak_rate_mib_per_h"] != "" || d["samples"] != "1" || d["used_mib_median"] != "220.0" {
		t.Errorf("docker: %v", d)
	}
}
