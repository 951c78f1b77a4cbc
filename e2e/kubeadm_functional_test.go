//go:build e2e

package e2e

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/results"
)

// slowVMOptions are every slow-machine option the kubeadm profile declares:
// what a control plane on an emulated vCPU needs to start within minutes
// (docs/kubernetes-on-one-vcpu.md).
var slowVMOptions = []string{"ecdsaKeys", "etcdCpuRequest", "etcdSlowTimeouts", "slowLeaderElection", "longInitTimeouts"}

// A functional test of the Kubernetes path in every CI run: kubeadm
// installed offline on one real 1 GiB node, as the profile installs it, with
// the shared Kubernetes hooks run against a real API server. To finish
// within CI's budget under software emulation it takes 2 vCPUs and the
// slow-machine variant, and says so: its node is kubeadm-slowvm, a variant
// the results and the report name, never shown beside the seed's 1-vCPU
// figures. `make e2e-kubeadm` is the measurement with kubeadm's defaults.
//
// It also keeps the stub honest: the API server's answers the hooks read
// are compared with the fixtures the unit tests' stub answers with
// (guest/testdata/k8s-api), and FOOTPRINT_REFRESH_FIXTURES=1 rewrites them
// from this run.
func TestKubeadmFunctionalOn2vCPUsWithSlowVMOptions(t *testing.T) {
	arts := kubeadmArtifacts(t)
	h := newHost(t)
	stack := kubeadmStack(arts, fmt.Sprintf(`  footprint:profiles: [kubeadm-slowvm]
  footprint:variants:
    kubeadm-slowvm:
      profile: kubeadm
      options: [%s]
  footprint:vcpus: 2
  footprint:memoryMiB: 1024
`, strings.Join(slowVMOptions, ", ")))
	dir := project(t, "functional-2vcpu", stack)
	t.Log("kubeadm on 2 vCPUs / 1 GiB with the slow-VM options: a functional test, not a measurement to compare with the seed")
	start := time.Now()
	out, code := h.exec(dir, nil, footprint(t), "run", "--stack", "functional-2vcpu")
	t.Logf("footprint run took %s, exit %d", elapsed(start), code)
	runDir, run := onlyRun(t, dir)
	keepRun(t, runDir)
	if len(run.Nodes) != 1 {
		t.Fatalf("%d results, want 1:\n%s", len(run.Nodes), out)
	}
	r := run.Nodes[0]
	logKubeadmNode(t, r)
	logPhaseTimes(t, r)
	if code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}

	want := "boot=ok install=ok ready=ok settle=ok idle=ok workload=ok workloadReady=ok settle-workload=ok workload=ok api=ok"
	if got := r.PhaseList(); got != want || r.Status != results.StatusOK {
		t.Fatalf("status %s, phases\n got %s\nwant %s\ndetail %s", r.Status, got, want, r.Detail)
	}
	checkOfflineInstall(t, r)
	if w := r.Facts["preflightWarnings"]; !strings.Contains(w, "Mem") || strings.Contains(w, "NumCPU") {
		t.Errorf("preflight warnings %q: want Mem (1 GiB) and not NumCPU (2 vCPUs)", w)
	}
	checkCluster(t, r)
	checkAccounting(t, r)
	checkInstrument(t, r)
	for _, phase := range []results.PhaseName{results.PhaseIdle, results.PhaseWorkload} {
		if _, ok := r.BreakdownOf(phase); !ok {
			t.Errorf("no %s breakdown: OOM kills not recorded", phase)
		}
	}
	if r.API == nil || r.API.Verdict != results.APIResponsive {
		t.Errorf("API %+v, want responsive", r.API)
	}
	if r.Variant == nil || r.Variant.Name != "kubeadm-slowvm" || !slices.Equal(r.Variant.OptionNames(), slowVMOptions) || r.Profile != "kubeadm" {
		t.Errorf("profile %q variant %+v, want kubeadm-slowvm of kubeadm with %v", r.Profile, r.Variant, slowVMOptions)
	}
	if r.Machine == nil || r.Machine.VCPUs != 2 || r.Machine.MemoryMiB != 1024 {
		t.Errorf("machine %+v, want 2 vCPUs and 1024 MiB", r.Machine)
	}
	checkVariantShown(t, runDir)
	checkAPIFixtures(t, r)
	noLeftovers(t, h, "footprint-functional-2vcpu")
}

// kubeadmArtifacts is the offline install make test-artifacts builds, its
// binaries carrying their true versions, not v0.0.0-master.
func kubeadmArtifacts(t *testing.T) string {
	t.Helper()
	arts, err := filepath.EvalSymlinks(filepath.Join(repoRoot(t), "build", "artifacts", "kubeadm"))
	if err != nil {
		t.Fatalf("kubeadm artifacts missing (make test-artifacts builds them): %v", err)
	}
	client, err := osexec(filepath.Join(arts, "kubectl"), "version", "--client")
	if err != nil || !strings.Contains(client, "Client Version: v1.36.3") {
		t.Fatalf("kubectl version --client: %v\n%s", err, client)
	}
	return arts
}

// checkVariantShown: report.md and results.csv say, beside the figures,
// that the node is a variant and which options it chose.
func checkVariantShown(t *testing.T, runDir string) {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(runDir, "report.md"))
	must(t, err)
	if cell := "kubeadm-slowvm (kubeadm with " + strings.Join(slowVMOptions, ", ") + ")"; !strings.Contains(string(md), cell) {
		t.Errorf("report.md lacks %q:\n%s", cell, md)
	}
	f, err := os.Open(filepath.Join(runDir, "results.csv"))
	must(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	must(t, err)
	col := func(name string) int { return slices.Index(rows[0], name) }
	for _, row := range rows[1:] {
		if row[col("profile")] != "kubeadm-slowvm" || row[col("variant_of")] != "kubeadm" || row[col("options")] != strings.Join(slowVMOptions, ";") {
			t.Errorf("results.csv row %v: want profile kubeadm-slowvm, variant_of kubeadm, options %v", row, slowVMOptions)
		}
	}
}

// logPhaseTimes: how long each phase took, for the closing note and for
// tuning the test's budget.
func logPhaseTimes(t *testing.T, r results.Result) {
	t.Helper()
	var parts []string
	for _, p := range r.Phases {
		parts = append(parts, fmt.Sprintf("%s %s %.0fs (ended at %.0f)", p.Name, p.Status, p.EndedAt-p.StartedAt, p.EndedAt))
	}
	t.Logf("%s phase times: %s", r.Node, strings.Join(parts, ", "))
}
