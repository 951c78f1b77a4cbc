package report

import (
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/results"
)

// Two boots of bare, one with its per-CPU lists full: the report says which
// state each figure comes from, and the figure without the lists.
func TestMarkdownSaysTheStateOfThePerCPULists(t *testing.T) {
	if strings.Contains(Markdown(fixtureRun()), "per-CPU page lists") {
		t.Fatal("a per-CPU section for agents that did not count the lists")
	}
	kib := func(v int64) *int64 { return &v }
	node := func(name string, used, pcp int64) results.Result {
		return results.Result{SchemaVersion: 1, Node: name, Profile: "bare", Status: results.StatusOK,
			Samples: []results.Sample{{Phase: "idle", UsedKiB: used * 1024, PCPFreeKiB: kib(pcp * 1024), MeminfoKiB: map[string]int64{"MemTotal": 996556}}}}
	}
	run := fixtureRun()
	run.Nodes = []results.Result{node("bare-r1", 167, 2), node("bare-r2", 216, 50)}
	md := Markdown(run)
	for _, want := range []string{"## Free memory on the per-CPU page lists (MiB)",
		"| bare-r1 | idle | 167 | 2 | 165 | lists near empty |", "| bare-r2 | idle | 216 | 50 | 166 | lists full |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
	rows := csvRows(t, run)
	if rows[1]["pcp_free_mib"] != "50.0" || rows[1]["used_mib_without_pcp"] != "166.0" {
		t.Errorf("csv %v", rows[1])
	}
}
