package report

import (
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// A variant measured beside its defaults at the same size gets a row with
// the change idle and with MySQL, in MiB and per cent, and both API
// verdicts; results.csv carries the same change on the variant's rows.
func TestAVariantsChangeAgainstItsDefaults(t *testing.T) {
	run := withVariant(fixtureRun())
	lean := run.Nodes[len(run.Nodes)-1]

	md := Markdown(run)
	want := "| 1024 | docker-lean | goMemLimit | 230 → 207 | -23.0 MiB (-10.0 %) | 400 → 420 | +20.0 MiB (+5.0 %) | degraded (2/3)"
	if !strings.Contains(md, "## Variants against their defaults") || !strings.Contains(md, want) ||
		!strings.Contains(md, "→ unresponsive (0/1)") ||
		!strings.Contains(md, "| Used with MySQL (MiB): defaults → variant | Change with MySQL | API after MySQL: defaults → variant |") {
		t.Fatalf("report.md lacks the pair's row %q:\n%s", want, md)
	}
	rows := csvRows(t, run)
	seen := 0
	for _, r := range rows {
		if r["node"] != "docker-lean" || r["part"] != "" {
			if r["change_vs_defaults_mib"] != "" {
				t.Errorf("%s %s %s carries a change", r["node"], r["phase"], r["part"])
			}
			continue
		}
		got := r["defaults_used_mib_median"] + " " + r["change_vs_defaults_mib"] + " " + r["change_vs_defaults_pct"]
		want := map[string]string{"idle": "230.0 -23.0 -10.0", "workload": "400.0 20.0 5.0"}[r["phase"]]
		if got != want {
			t.Errorf("docker-lean %s: %q, want %q", r["phase"], got, want)
		}
		seen++
	}
	if seen != 2 {
		t.Errorf("%d variant rows, want idle and workload", seen)
	}

	// Without its defaults in the run there is nothing to set it against.
	run.Nodes = []results.Result{lean}
	if md := Markdown(run); strings.Contains(md, "## Variants against their defaults") {
		t.Errorf("a variant alone got a pair section:\n%s", md)
	}
}

// withVariant adds docker-lean, docker with goMemLimit, beside the run's
// docker (its third node).
func withVariant(run record.Run) record.Run {
	lean := run.Nodes[2]
	lean.Node = "docker-lean"
	lean.Variant = &results.Variant{Name: "docker-lean", Options: []results.VariantOption{{Name: "goMemLimit", Env: map[string]string{"DOCKER_GOMEMLIMIT": "800MiB"}}}}
	lean.Samples = []results.Sample{
		{Phase: "idle", UsedKiB: 207 * 1024, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
		{Phase: "workload", UsedKiB: 420 * 1024, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
	}
	lean.API = &results.API{Client: "curl", Successes: 0, Verdict: results.APIUnresponsive, Attempts: []results.APIAttempt{{HTTPCode: 0}}}
	run.Nodes = append(run.Nodes, lean)
	return run
}
