//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/results"
	"github.com/footprint-dev/footprint/search"
)

// searchStack is the Docker test's stack, searched over 384..1024 MiB in
// steps of 128 (384 512 640 768 896 1024) on a host that takes one guest
// at a time: bisection, a wave of one VM per size tried, three at most.
// The range is a guess that Docker with the MariaDB stand-in fails at the
// bottom (Debian alone uses 165-215 MiB of a ~330 MiB MemTotal there) and
// works at the top (it does at 1024 MiB in TestDockerWithWorkloadOnARealVM).
func searchStack() string {
	stack := stackYAML(`  footprint:profiles: [docker]
  footprint:preinstalled: [docker]
  footprint:workloadImage: footprint/standin-mysql:1
  footprint:readyTimeout: 5m
  footprint:workloadTimeout: 6m
  footprint:apiAttempts: 5
  footprint:collectDeadline: 25m
  footprint:search: {minMiB: 384, maxMiB: 1024, resolutionMiB: 128}
`)
	stack = strings.Replace(stack, "  footprint:memoryMiB: 1024\n", "", 1) // the search chooses the sizes
	stack = strings.Replace(stack, "    domainType: qemu\n", "    domainType: qemu\n    maxGuests: 1\n", 1)
	return strings.Replace(stack, "build/images/test-bookworm.qcow2", "build/images/docker.qcow2", 1)
}

// Docker with MySQL (the stand-in), searched for its smallest machine: the
// plan says three waves at most, the run takes no more, finds a threshold
// with a failure below it, records every size tried as a node of the run
// folder with its verdict and why, reports it, and leaves nothing behind.
func TestSearchDockerForItsSmallestMachine(t *testing.T) {
	h := newHost(t)
	img := filepath.Join(repoRoot(t), "build", "images", "test-bookworm-docker.qcow2")
	if _, err := os.Stat(img); err != nil {
		t.Fatalf("docker test image missing (make test-image builds it): %v", err)
	}
	dir := project(t, "search", searchStack())
	must(t, os.Symlink(img, filepath.Join(dir, "build", "images", "docker.qcow2")))

	out, code := h.exec(dir, nil, footprint(t), "plan", "--stack", "search")
	if code != 0 || !strings.Contains(out, "at most 3 step(s) in 3 wave(s) in all") ||
		!strings.Contains(out, "step 1, wave 1 on qemu:///system: 1 guest(s), 768 MiB: docker-768m") {
		t.Fatalf("plan: exit %d, want the first wave at 768 MiB and three waves at most:\n%s", code, out)
	}

	start := time.Now()
	out, code = h.exec(dir, nil, footprint(t), "run", "--stack", "search")
	t.Logf("footprint run took %s, exit %d", elapsed(start), code)
	if code != 0 {
		t.Fatalf("exit %d (3: the search did not finish):\n%s", code, out)
	}
	runDir, run := onlyRun(t, dir)
	keepRun(t, runDir)
	if run.Search == nil || len(run.Search.Systems) != 1 {
		t.Fatalf("results.json has no search of docker: %+v", run.Search)
	}
	sys := run.Search.Systems[0]
	for _, tr := range sys.Tried {
		t.Logf("docker at %d MiB, wave %d: %s %s", tr.SizeMiB, tr.Wave, tr.Verdict, tr.Why)
	}
	if sys.Outcome != search.Found || sys.ThresholdMiB <= 384 || sys.ThresholdMiB > 1024 || sys.FailsAtMiB != sys.ThresholdMiB-128 {
		t.Fatalf("outcome %s, threshold %d MiB, fails at %d MiB: want a threshold within 512..1024 with a failure one step below "+
			"(passes at the minimum: lower minMiB; none within range: raise maxMiB)", sys.Outcome, sys.ThresholdMiB, sys.FailsAtMiB)
	}
	checkTried(t, runDir, sys, run.Nodes)
	md, err := os.ReadFile(filepath.Join(runDir, "report.md"))
	must(t, err)
	if want := fmt.Sprintf("| docker | **%d MiB** | %d MiB |", sys.ThresholdMiB, sys.FailsAtMiB); !strings.Contains(string(md), "## Smallest machine that works") ||
		!strings.Contains(string(md), want) {
		t.Errorf("report.md lacks the section or %q", want)
	}
	if _, err := os.Stat(filepath.Join(runDir, "search.svg")); err != nil {
		t.Errorf("no search.svg: %v", err)
	}
	noLeftovers(t, h, "footprint-search")
}

// checkTried: at most three sizes, one wave each, each an ordinary node of
// the run folder with its result saved, a failure saying why.
func checkTried(t *testing.T, runDir string, sys search.System, nodes []results.Result) {
	t.Helper()
	if len(sys.Tried) < 2 || len(sys.Tried) > 3 || len(nodes) != len(sys.Tried) {
		t.Errorf("%d sizes tried, %d nodes: want 2 or 3 of each", len(sys.Tried), len(nodes))
	}
	verdicts := map[search.Verdict]int{}
	for i, tr := range sys.Tried {
		verdicts[tr.Verdict]++
		if tr.Wave != i+1 || len(tr.Nodes) != 1 {
			t.Errorf("%d MiB: wave %d with %d node(s), want wave %d with one", tr.SizeMiB, tr.Wave, len(tr.Nodes), i+1)
			continue
		}
		node := tr.Nodes[0].Node
		if node != fmt.Sprintf("docker-%dm", tr.SizeMiB) {
			t.Errorf("%d MiB was tried as node %s", tr.SizeMiB, node)
		}
		if _, err := os.Stat(filepath.Join(runDir, "nodes", node+".json")); err != nil {
			t.Errorf("%s: no saved result: %v", node, err)
		}
		if tr.Verdict == search.Fail && tr.Why == "" {
			t.Errorf("%d MiB failed without saying why", tr.SizeMiB)
		}
	}
	if verdicts[search.Pass] == 0 || verdicts[search.Fail] == 0 || verdicts[search.Undecided] > 0 {
		t.Errorf("verdicts %v: want passes and failures, every size decided", verdicts)
	}
}
