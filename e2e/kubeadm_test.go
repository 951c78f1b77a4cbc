//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/results"
)

// The measurement of upstream Kubernetes (`make e2e-kubeadm`): the kubeadm
// profile with kubeadm's defaults, installed offline from artifacts built
// from Go modules (scripts/kube-artifacts.sh) on a read-only disk, at the
// seed's 1 vCPU and 1 GiB and at 2 GiB, in one run. Under software
// emulation a default control plane may not come up within the phases'
// bounds (docs/kubernetes-on-one-vcpu.md): where a phase times out, that is
// a finding the result must record (the phases reached, the timeout, the
// memory up to then), not a failure of footprint. So the test asserts that
// each node's result is complete and honest, not that a slow machine is
// fast. It takes 30-60 minutes here; TestKubeadmFunctionalOn2vCPUsWithSlowVMOptions
// is the one in every CI run.
func TestKubeadmOfflineOnRealVMs(t *testing.T) {
	arts := kubeadmArtifacts(t)
	h := newHost(t)
	stack := kubeadmStack(arts, `  footprint:profiles: [kubeadm]
  footprint:vcpus: 1
  footprint:memorySizesMiB: [1024, 2048]
`)
	dir := project(t, "kubeadm", stack)
	start := time.Now()
	out, code := h.exec(dir, nil, footprint(t), "run", "--stack", "kubeadm")
	t.Logf("footprint run took %s, exit %d", elapsed(start), code)
	if code != 0 && code != 3 {
		t.Fatalf("exit %d (want 0, or 3 when a node did not finish):\n%s", code, out)
	}
	runDir, run := onlyRun(t, dir)
	keepRun(t, runDir)
	md, err := os.ReadFile(filepath.Join(runDir, "report.md"))
	must(t, err)
	byNode := map[string]results.Result{}
	for _, r := range run.Nodes {
		byNode[r.Node] = r
	}
	for _, node := range []string{"kubeadm-1024m", "kubeadm-2048m"} {
		r, ok := byNode[node]
		if !ok || len(run.Nodes) != 2 {
			t.Fatalf("want results for kubeadm-1024m and kubeadm-2048m, got %d nodes:\n%s", len(run.Nodes), out)
		}
		logKubeadmNode(t, r)
		logPhaseTimes(t, r)
		checkOfflineInstall(t, r)
		checkHonest(t, r, string(md))
		if w := r.Facts["preflightWarnings"]; !strings.Contains(w, "NumCPU") {
			t.Errorf("%s: preflight warnings %q lack NumCPU (1 vCPU is below kubeadm's 2)", node, w)
		}
		if r.Variant != nil {
			t.Errorf("%s: variant %+v: the measurement takes kubeadm's defaults", node, r.Variant)
		}
	}
	if w := byNode["kubeadm-1024m"].Facts["preflightWarnings"]; !strings.Contains(w, "Mem") {
		t.Errorf("1 GiB: preflight warnings %q lack Mem", w)
	}
	t.Logf("report.md:\n%s", md)
	noLeftovers(t, h, "footprint-kubeadm")
}

// kubeadmStack is the stack of both kubeadm tests: the offline install from
// arts, QEMU's largest translation cache, the stand-in for MySQL and bounds
// for an emulated vCPU; nodes says what is measured on which machines.
func kubeadmStack(arts, nodes string) string {
	return `config:
  footprint:libvirt:
    uri: qemu:///system
    domainType: qemu
    tbCacheMiB: 2048
  footprint:image: build/images/test-bookworm.qcow2
  footprint:artifacts:
    kubeadm: ` + arts + `
  footprint:diskGiB: 8
  footprint:workloadImage: footprint/standin-mysql:1
  footprint:settle: 30s
  footprint:samples: 3
  footprint:sampleInterval: 5s
  footprint:installTimeout: 30m
  footprint:readyTimeout: 10m
  footprint:workloadTimeout: 10m
  footprint:apiAttempts: 5
  footprint:apiTimeout: 10s
  footprint:collectDeadline: 75m
` + nodes
}

// checkHonest: a result that says how far the node got and why it stopped.
// Phases run in the agent's order, each with a status; a phase that did not
// end ok is the last, and the result says so; what was measured before it
// is there.
func checkHonest(t *testing.T, r results.Result, reportMD string) {
	t.Helper()
	if len(r.Phases) == 0 || r.Phases[0].Name != "boot" {
		t.Fatalf("%s: phases %s, want boot first", r.Node, r.PhaseList())
	}
	order := []results.PhaseName{results.PhaseBoot, results.PhaseInstall, results.PhaseReady, results.PhaseSettle, results.PhaseIdle, results.PhaseWorkload,
		results.PhaseWorkloadReady, results.PhaseSettleWorkload, results.PhaseWorkload, results.PhaseAPI}
	for i, p := range r.Phases {
		if i >= len(order) || p.Name != order[i] {
			t.Fatalf("%s: phases %s out of the agent's order", r.Node, r.PhaseList())
		}
		// workloadReady may time out and the measurement goes on: a finding.
		if p.Status != results.StatusOK && p.Name != "workloadReady" && i != len(r.Phases)-1 {
			t.Errorf("%s: phase %s %s is not the last (%s)", r.Node, p.Name, p.Status, r.PhaseList())
		}
	}
	last := r.Phases[len(r.Phases)-1]
	complete := r.Status == results.StatusOK && last.Name == "api"
	if !complete && r.Detail == "" {
		t.Errorf("%s: status %s after phase %s %s, and no detail says why", r.Node, r.Status, last.Name, last.Status)
	}
	if _, ok := r.Summarize("idle"); ok {
		checkCluster(t, r)
	} else if r.Status != results.StatusUnresponsive {
		// (a result rebuilt from the console has no timeline: its phases are what it keeps)
		_, used, ok := r.LastReading()
		if !ok || used <= 0 {
			t.Errorf("%s: neither idle samples nor a timeline: the memory up to %s is lost", r.Node, last.Name)
		} else if !strings.Contains(reportMD, "- "+r.Node+": ") || !strings.Contains(reportMD, "its last memory reading: used ") {
			t.Errorf("%s: the report's problems do not give its last memory reading", r.Node)
		}
	}
	if r.API != nil && len(r.API.Attempts) == 0 && r.Collection == nil {
		t.Errorf("%s: an API verdict without requests: %+v", r.Node, r.API)
	}
}

// checkOfflineInstall: the install ran offline, from the disk, and kubeadm's
// failing preflight checks were ignored and recorded.
func checkOfflineInstall(t *testing.T, r results.Result) {
	t.Helper()
	if r.Facts["install"] != "offline" {
		t.Errorf("%s: facts %v: the install was not the offline one", r.Node, r.Facts)
	}
	if r.Facts["preflightIgnored"] != "NumCPU,Mem" {
		t.Errorf("%s: preflightIgnored %q, want NumCPU,Mem", r.Node, r.Facts["preflightIgnored"])
	}
}

// checkCluster: what a node that reached idle must show of a real cluster.
func checkCluster(t *testing.T, r results.Result) {
	t.Helper()
	if !strings.HasPrefix(r.SystemVersion, "kubernetes v1.36.3 ") || !strings.Contains(r.SystemVersion, "etcd 3.6.8") {
		t.Errorf("%s: system version %q, want the cluster's own v1.36.3 and etcd 3.6.8", r.Node, r.SystemVersion)
	}
	s, _ := r.Summarize("idle")
	if s.UsedMiB < 300 || s.UsedMiB > s.MemTotalMiB {
		t.Errorf("%s: idle used %.1f MiB, want 300..%.1f", r.Node, s.UsedMiB, s.MemTotalMiB)
	}
	b, ok := r.BreakdownOf("idle")
	if !ok {
		t.Fatalf("%s: no idle breakdown", r.Node)
	}
	kubepods := 0
	for name := range b.CgroupsKiB {
		if strings.HasPrefix(name, "kubepods") {
			kubepods++
		}
	}
	if kubepods == 0 {
		t.Errorf("%s: no kubepods cgroups in the breakdown: %v", r.Node, b.CgroupsKiB)
	}
	var names []string
	for _, p := range b.TopProcesses {
		names = append(names, p.Name)
	}
	for _, c := range []string{"kube-apiserver", "etcd", "kubelet"} {
		if !slices.Contains(names, c) {
			t.Errorf("%s: %s is not among the top processes %v", r.Node, c, names)
		}
	}
	if v := b.UnitsKiB["kubelet.service"]; v == nil || *v == 0 {
		t.Errorf("%s: kubelet.service not accounted: %v", r.Node, b.UnitsKiB)
	}
}

func logKubeadmNode(t *testing.T, r results.Result) {
	t.Helper()
	line := fmt.Sprintf("%s: status %s, phases %s, version %q, facts %v", r.Node, r.Status, r.PhaseList(), r.SystemVersion, r.Facts)
	for _, phase := range []results.PhaseName{results.PhaseIdle, results.PhaseWorkload} {
		if s, ok := r.Summarize(phase); ok {
			line += fmt.Sprintf("; %s used %.1f of %.1f MiB", phase, s.UsedMiB, s.MemTotalMiB)
		}
		if b, ok := r.BreakdownOf(phase); ok {
			line += fmt.Sprintf("; %s oom kills %d, top %v, units %v", phase, b.OOMKills, topNames(b), unitMiB(b))
		}
	}
	if r.API != nil {
		med, max, _ := r.API.Latency()
		var codes []int
		for _, a := range r.API.Attempts {
			codes = append(codes, a.HTTPCode)
		}
		line += fmt.Sprintf("; api %s %d/%d, codes %v, latency median %.0f ms max %.0f ms", r.API.Verdict, r.API.Successes, len(r.API.Attempts), codes, med*1000, max*1000)
	}
	if r.Detail != "" {
		line += "; detail: " + r.Detail
	}
	t.Log(line)
}

func topNames(b results.Breakdown) []string {
	var out []string
	for _, p := range b.TopProcesses {
		out = append(out, fmt.Sprintf("%s=%dMiB", p.Name, p.RSSKiB/1024))
	}
	return out
}

func unitMiB(b results.Breakdown) map[string]int64 {
	out := map[string]int64{}
	for u, v := range b.UnitsKiB {
		if v != nil {
			out[u] = *v / 1024
		}
	}
	return out
}
