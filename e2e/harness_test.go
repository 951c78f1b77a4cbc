//go:build e2e

// Package e2e runs footprint for real: a private libvirtd in a network
// namespace made by the test, real VMs under QEMU, real cloud-init, real
// HTTP collection and a real teardown checked with virsh.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/internal/labhost"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// repoRoot is the checkout this test file sits in.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// host is one private libvirtd for one test, removed when the test ends.
type host struct {
	*labhost.Host
	t      *testing.T
	name   string
	script string
}

func newHost(t *testing.T) *host { return newNamedHost(t, "") }

// newNamedHost is a second (third...) private libvirtd beside newHost's.
func newNamedHost(t *testing.T, suffix string) *host {
	t.Helper()
	lh, err := labhost.Up(repoRoot(t), fmt.Sprintf("fpe2e%d%s", os.Getpid()%100000, suffix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lh.Down(); err != nil {
			t.Error(err)
		}
	})
	return &host{Host: lh, t: t, name: lh.Name, script: lh.Script}
}

// exec runs a command inside the namespaces, in dir, and returns its
// combined output and exit code.
func (h *host) exec(dir string, env []string, args ...string) (string, int) {
	h.t.Helper()
	out, code, err := h.Exec(dir, env, args...)
	if err != nil {
		h.t.Fatalf("running %v: %v", args, err)
	}
	return out, code
}

func (h *host) virsh(args ...string) string {
	h.t.Helper()
	out, err := h.Virsh(args...)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// leftovers lists every libvirt object whose name starts with prefix.
func (h *host) leftovers(prefix string) []string {
	h.t.Helper()
	left, err := h.Leftovers(prefix)
	if err != nil {
		h.t.Fatal(err)
	}
	return left
}

// background starts a command inside the host's namespaces; its combined
// output goes to the buffer and its end to the channel.
func (h *host) background(dir string, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, chan error) {
	h.t.Helper()
	cmd := h.Command(dir, env, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	must(h.t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, &buf, done
}

// project is a throwaway footprint project folder with the test image.
func project(t *testing.T, stack, stackYAML string) string {
	t.Helper()
	img := os.Getenv("FOOTPRINT_TEST_IMAGE")
	if img == "" {
		img = filepath.Join(repoRoot(t), "build", "images", "test-bookworm.qcow2")
	}
	dir := t.TempDir()
	must(t, labhost.Project(repoRoot(t), dir, stack, stackYAML, map[string]string{"test-bookworm.qcow2": img}))
	return dir
}

// dockerProject is a project whose stack runs on the test image's Docker
// variant (Docker from Debian preinstalled, the MariaDB stand-in's image
// loaded), linked as build/images/docker.qcow2.
func dockerProject(t *testing.T, stack, stackYAML string) string {
	t.Helper()
	img := filepath.Join(repoRoot(t), "build", "images", "test-bookworm-docker.qcow2")
	if _, err := os.Stat(img); err != nil {
		t.Fatalf("docker test image missing (make test-image builds it): %v", err)
	}
	dir := project(t, stack, strings.Replace(stackYAML, "build/images/test-bookworm.qcow2", "build/images/docker.qcow2", 1))
	must(t, os.Symlink(img, filepath.Join(dir, "build", "images", "docker.qcow2")))
	return dir
}

// footprintBinary builds the CLI once per test binary.
var builtCLI string

func footprint(t *testing.T) string {
	t.Helper()
	if builtCLI != "" {
		return builtCLI
	}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("footprint-e2e-%d", os.Getpid()))
	must(t, labhost.BuildCLI(repoRoot(t), out))
	builtCLI = out
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtCLI != "" {
		os.Remove(builtCLI)
	}
	os.Exit(code)
}

// onlyRun returns the single run folder a run created.
func onlyRun(t *testing.T, projectDir string) (string, record.Run) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(projectDir, "runs"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("want exactly one run folder, got %v (%v)", entries, err)
	}
	dir := filepath.Join(projectDir, "runs", entries[0].Name())
	run, err := record.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, run
}

// nodesByName are a run's results by node name.
func nodesByName(run record.Run) map[string]results.Result {
	out := map[string]results.Result{}
	for _, r := range run.Nodes {
		out[r.Node] = r
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func elapsed(start time.Time) string { return time.Since(start).Round(100 * time.Millisecond).String() }

// keptRuns are the run folders kept so far in this test process, by the
// name of the test that made them: later tests read real runs from them.
var keptRuns = map[string]string{}

// keepRun copies a run folder to build/e2e-runs, where it outlives the
// test's temporary project: a measurement's figures are never lost with it.
func keepRun(t *testing.T, runDir string) {
	t.Helper()
	dst := filepath.Join(repoRoot(t), "build", "e2e-runs")
	must(t, os.MkdirAll(dst, 0o755))
	if out, err := exec.Command("cp", "-a", runDir, dst).CombinedOutput(); err != nil {
		t.Errorf("keeping %s: %v\n%s", runDir, err, out)
		return
	}
	kept := filepath.Join(dst, filepath.Base(runDir))
	keptRuns[t.Name()] = kept
	t.Logf("run folder kept in %s", kept)
}

// checkAccounting: where the used memory goes adds up on a real guest
// (issue 26): at each breakdown, the 6.1 kernel's MemAvailable formula
// reproduces the reported figure within 1 MiB (counters move between the
// kernel's reads), and what the parts leave unexplained is at most 5 % of
// used, either way.
func checkAccounting(t *testing.T, r results.Result) {
	t.Helper()
	for _, b := range r.Breakdowns {
		e, a := b.Explained, b.Accounting
		if e == nil || a == nil || len(a.Zones) == 0 {
			t.Errorf("%s %s: no accounting (explained %v, zones %v)", r.Node, b.Phase, e != nil, a != nil)
			continue
		}
		var parts []string
		for _, p := range e.Parts {
			parts = append(parts, fmt.Sprintf("%s %.1f", p.Name, results.MiB(p.KiB)))
		}
		t.Logf("%s %s: used %.1f MiB = %s + unexplained %.1f; formula MemAvailable %d KiB against %d; percpu embedded pages known: %v",
			r.Node, b.Phase, results.MiB(e.UsedKiB), strings.Join(parts, " + "), results.MiB(e.UnexplainedKiB),
			e.FormulaAvailableKiB, a.MeminfoKiB["MemAvailable"], a.PercpuEmbeddedPages != nil)
		if d := e.FormulaAvailableKiB - a.MeminfoKiB["MemAvailable"]; d > 1024 || d < -1024 {
			t.Errorf("%s %s: si_mem_available() as implemented gives %d KiB, the kernel %d", r.Node, b.Phase, e.FormulaAvailableKiB, a.MeminfoKiB["MemAvailable"])
		}
		if u := e.UnexplainedKiB; u*20 > e.UsedKiB || -u*20 > e.UsedKiB {
			t.Errorf("%s %s: %.1f MiB of %.1f used unexplained, over 5 %%", r.Node, b.Phase, results.MiB(u), results.MiB(e.UsedKiB))
		}
	}
}

// checkInstrument: what the agent says of itself and of the guest over time
// (issue 26). At each breakdown its own cgroup holds only the agent and
// what its probes read (the system's hooks ran in units of their own), its
// processes' PSS is within the instrument's 5 MiB, and its parts fit its
// cgroup; the kernel's memory
// pressure, where the guest's kernel reports it, is read at every timeline
// point and its stall totals never go back; an API probed through the
// workload has its series within the workload's phases.
func checkInstrument(t *testing.T, r results.Result) {
	t.Helper()
	for _, b := range r.Breakdowns {
		a := b.Agent
		if a == nil || a.CgroupKiB == nil || a.PSSKiB == nil || a.AnonKiB == nil || a.FileKiB == nil {
			t.Errorf("%s %s: the agent's own footprint is missing: %+v", r.Node, b.Phase, a)
			continue
		}
		t.Logf("%s %s: agent %s: cgroup %.1f MiB (anon %.1f, file %.1f), PSS %.1f MiB in %d processes", r.Node, b.Phase,
			a.Cgroup, results.MiB(*a.CgroupKiB), results.MiB(*a.AnonKiB), results.MiB(*a.FileKiB), results.MiB(*a.PSSKiB), a.Processes)
		if a.Processes < 1 || *a.PSSKiB <= 0 || *a.PSSKiB > 5*1024 || *a.AnonKiB+*a.FileKiB > *a.CgroupKiB {
			t.Errorf("%s %s: agent footprint %+v: want processes, 0 < PSS <= 5 MiB, anon + file within the cgroup", r.Node, b.Phase, *a)
		}
		// Its file pages are the binaries its own probes (the version and
		// api hooks) read first: 17.9 MiB after kubeadm's (2026-12-07),
		// against 423 MiB when the install ran in the agent's cgroup.
		if *a.AnonKiB > 5*1024 || *a.CgroupKiB > 32*1024 {
			t.Errorf("%s %s: the agent's cgroup holds %.1f MiB (anon %.1f): the system's hooks charged it", r.Node, b.Phase,
				results.MiB(*a.CgroupKiB), results.MiB(*a.AnonKiB))
		}
		for cg := range b.CgroupsKiB {
			if strings.Contains(cg, "footprint-hook-") {
				t.Errorf("%s %s: a hook's unit %s is still there", r.Node, b.Phase, cg)
			}
		}
	}
	if tl := r.Timeline; tl != nil {
		t.Logf("%s: pressure read at %d of %d timeline points", r.Node, len(tl.Pressure), len(tl.Points))
		if len(tl.Pressure) > 0 && len(tl.Pressure) != len(tl.Points) {
			t.Errorf("%s: pressure at %d points of %d", r.Node, len(tl.Pressure), len(tl.Points))
		}
		for i := 1; i < len(tl.Pressure); i++ {
			p, q := tl.Pressure[i-1], tl.Pressure[i]
			if q[results.PSISomeTotal] < p[results.PSISomeTotal] || q[results.PSIFullTotal] < p[results.PSIFullTotal] {
				t.Errorf("%s: pressure totals went back at %.0f s", r.Node, q[0])
			}
		}
	}
	if s := r.APISeries; s != nil {
		first, last := 0.0, phaseEnd(r, "api")
		for i := len(r.Phases) - 1; i >= 0; i-- {
			if r.Phases[i].Name == "workload" {
				first = r.Phases[i].StartedAt // the first workload phase: the workload's start
			}
		}
		ok := 0
		for _, p := range s.Points {
			if p.UptimeSeconds < first || p.UptimeSeconds > last {
				t.Errorf("%s: an API probe at %.0f s, outside the workload (%.0f..%.0f s)", r.Node, p.UptimeSeconds, first, last)
			}
			if p.OK() {
				ok++
			}
		}
		t.Logf("%s: API probed %d times through the workload, every %d s; %d answered 200", r.Node, len(s.Points), s.IntervalSeconds, ok)
	}
}
