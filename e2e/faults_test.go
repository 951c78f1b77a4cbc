//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/results"
)

// stackYAML is a ci-like stack with the given extra lines.
func stackYAML(extra string) string {
	return `config:
  footprint:libvirt:
    uri: qemu:///system
    domainType: qemu
  footprint:image: build/images/test-bookworm.qcow2
  footprint:vcpus: 1
  footprint:memoryMiB: 1024
  footprint:diskGiB: 4
  footprint:settle: 10s
  footprint:samples: 3
  footprint:sampleInterval: 2s
` + extra
}

func testProfiles(t *testing.T) string {
	return "FOOTPRINT_PROFILES_DIR=" + filepath.Join(repoRoot(t), "e2e", "testdata", "profiles")
}

func noLeftovers(t *testing.T, h *host, prefix string) {
	t.Helper()
	left := h.leftovers(prefix)
	t.Logf("leftovers of %s: %d", prefix, len(left))
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// One run, four nodes: one that works, one whose agent dies, one whose
// install fails, and one with a process that leaks. The run ends at the
// deadline, keeps every node's record, and leaves nothing. The nodes that
// work soak for two minutes after their samples (issue 26's long runs):
// bare must read stable and the leak growing. The deadline counts from
// each machine's creation: it must hold the slow machine kind's boot of
// four guests at once on two cores, then about 150 s of settle, samples
// and soak, and it is how long the silent node keeps the run: 8m, for a
// boot of up to about 330 s. It runs on the plain image: on the image with Docker preinstalled the four took 271
// to 333 s to reach their agents on a machine between the kinds
// (2026-12-07), about 500 s on the slow one, more than any deadline the
// suite can afford; the gate makes its Docker-image run alone.
func TestFaultyNodesAreRecordedAndNothingLeaks(t *testing.T) {
	h := newHost(t)
	dir := project(t, "faults", stackYAML(`  footprint:profiles: [bare, silent, broken, leaky]
  footprint:installTimeout: 2m
  footprint:readyTimeout: 1m
  footprint:soak: 2m
  footprint:collectDeadline: 8m
`))
	start := time.Now()
	out, code := h.exec(dir, []string{testProfiles(t)}, footprint(t), "run", "--stack", "faults")
	t.Logf("run took %s, exit %d", elapsed(start), code)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (finished, but not every node produced a result):\n%s", code, out)
	}
	if !strings.Contains(out, "node silent: no result within 8m0s") {
		t.Errorf("the output does not name the silent node and the deadline:\n%s", out)
	}

	runDir, run := onlyRun(t, dir)
	keepRun(t, runDir)
	byNode := nodesByName(run)
	if len(byNode) != 4 {
		t.Fatalf("nodes %v, want bare, silent, broken and leaky", keys(byNode))
	}
	checkSoak(t, byNode["bare"], results.SoakStable)
	checkSoak(t, byNode["leaky"], results.SoakGrowing)
	if g := byNode["leaky"].SoakGrowth; g != nil && (g.RateMiBPerHour < 500 || g.RateMiBPerHour > 1100) {
		t.Errorf("leaky grew at %.0f MiB/h, want about its leak's 900", g.RateMiBPerHour)
	}
	if r := byNode["bare"]; r.Status != results.StatusOK || len(r.Samples) != 3 {
		t.Errorf("bare: status %s with %d samples; the healthy node's result must be kept", r.Status, len(r.Samples))
	}
	broken := byNode["broken"]
	if broken.Status != results.StatusFailed || !strings.Contains(broken.Detail, "Unable to locate package footprint-does-not-exist") ||
		!strings.Contains(broken.Detail, "exited 100") {
		t.Errorf("broken: status %s detail %q", broken.Status, broken.Detail)
	}
	if got := broken.PhaseList(); got != "boot=ok install=failed" {
		t.Errorf("broken: phases %s", got)
	}
	silent := byNode["silent"]
	if silent.Status != results.StatusUnresponsive && silent.Status != results.StatusTimeout {
		t.Errorf("silent: status %s, want unresponsive (rebuilt from its console) or timeout", silent.Status)
	}
	if silent.Collection == nil || !strings.Contains(silent.Collection.Error, "no result within") ||
		!strings.Contains(silent.Collection.LastConsoleLine, "phase=install status=started") || len(silent.Collection.ConsoleTail) == 0 {
		t.Errorf("silent: collection record %+v", silent.Collection)
	}
	if got := silent.PhaseList(); got != "boot=ok" {
		t.Errorf("silent: phases rebuilt from the console %q, want boot=ok", got)
	}
	for _, n := range []string{"bare", "silent", "broken", "leaky"} {
		if _, err := os.Stat(filepath.Join(runDir, "nodes", n+".json")); err != nil {
			t.Errorf("%s: its result was not saved as it arrived: %v", n, err)
		}
		if _, err := os.Stat(filepath.Join(runDir, n+".console.log")); err != nil {
			t.Errorf("%s: console log not kept: %v", n, err)
		}
	}
	noLeftovers(t, h, "footprint-faults")
}

// checkSoak: a node soaked the stack's two minutes after its samples,
// every reading kept (25, 5 s apart, the per-CPU lists with each), and the
// growth rule gave the verdict wanted.
func checkSoak(t *testing.T, r results.Result, verdict results.SoakVerdict) {
	t.Helper()
	if !strings.HasSuffix(r.PhaseList(), " soak=ok") || r.Soak == nil {
		t.Fatalf("%s: phases %s, soak %v", r.Node, r.PhaseList(), r.Soak != nil)
	}
	if s := r.Soak; s.DurationSeconds != 120 || s.IntervalSeconds != 5 || len(s.Points) != 25 {
		t.Errorf("%s: soak of %d s every %d s with %d readings, want 120, 5 and 25", r.Node, s.DurationSeconds, s.IntervalSeconds, len(s.Points))
	}
	g := r.SoakGrowth
	if g == nil || !g.NetOfPCP || g.Readings != len(r.Soak.Points) {
		t.Fatalf("%s: growth %+v", r.Node, g)
	}
	t.Logf("%s: soaked %.0f s: %+.1f ± %.1f MiB/h (95 %% %.1f..%.1f), %+.1f MiB over the soak from %.1f: %s",
		r.Node, g.DurationSeconds, g.RateMiBPerHour, g.StdErrMiBPerHour, g.Low95MiBPerHour, g.High95MiBPerHour, g.GrowthMiB, g.FirstMiB, g.Verdict)
	if g.Verdict != verdict {
		t.Errorf("%s: %s, want %s", r.Node, g.Verdict, verdict)
	}
}

// Ctrl-C while `up` is creating and the guest boots: teardown still runs.
func TestInterruptDuringUpTearsDown(t *testing.T) {
	h := newHost(t)
	dir := project(t, "sigint", stackYAML("  footprint:profiles: [bare]\n  footprint:collectDeadline: 10m\n"))
	start := time.Now()
	cmd, buf, done := h.background(dir, nil, footprint(t), "run", "--stack", "sigint")

	// Interrupt once the domain exists, while the guest is still booting.
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(h.virsh("list", "--all", "--name"), "footprint-sigint-bare") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the domain never appeared:\n%s", buf.String())
		}
		time.Sleep(time.Second)
	}
	time.Sleep(5 * time.Second)
	must(t, cmd.Process.Signal(syscall.SIGINT)) // exec'd through nsenter: this is footprint itself
	interrupted := time.Now()

	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("footprint did not finish within 5 minutes of the interrupt:\n%s", buf.String())
	}
	t.Logf("interrupted after %s; teardown took %s; total %s", interrupted.Sub(start).Round(time.Second),
		time.Since(interrupted).Round(100*time.Millisecond), elapsed(start))
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 {
		t.Errorf("exit %v, want a non-zero status after an interrupt", err)
	}
	out := buf.String()
	if !strings.Contains(out, "interrupted") {
		t.Errorf("output does not say it was interrupted:\n%s", out)
	}
	_, run := onlyRun(t, dir)
	if len(run.Nodes) != 1 || run.Nodes[0].Node != "bare" {
		t.Errorf("the interrupted run's record lacks the node: %+v", run.Nodes)
	}
	noLeftovers(t, h, "footprint-sigint")
}

// A missing or corrupt image stops the run before anything is created.
func TestBadImagesFailCleanly(t *testing.T) {
	h := newHost(t)
	img, err := os.ReadFile(filepath.Join(repoRoot(t), "build", "images", "test-bookworm.qcow2"))
	must(t, err)
	for _, c := range []struct {
		name, image, want string
		content           []byte
	}{
		{"missing", "build/images/nope.qcow2", "footprint:image: local image", nil},
		{"corrupt", "build/images/corrupt.qcow2", "corrupt qcow2 image", img[:len(img)/4]},
		{"notadisk", "build/images/notes.img", "neither a qcow2 image nor a raw disk", []byte("these are notes, not a disk\n")},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := "img" + c.name
			dir := project(t, stack, strings.Replace(stackYAML("  footprint:profiles: [bare]\n"),
				"build/images/test-bookworm.qcow2", c.image, 1))
			if c.content != nil {
				must(t, os.WriteFile(filepath.Join(dir, c.image), c.content, 0o644))
			}
			start := time.Now()
			out, code := h.exec(dir, nil, footprint(t), "run", "--stack", stack)
			t.Logf("%s: exit %d after %s: %s", c.name, code, elapsed(start), strings.TrimSpace(out))
			if code != 1 || !strings.Contains(out, c.want) || strings.Count(strings.TrimSpace(out), "\n") > 0 {
				t.Errorf("exit %d, output %q: want exit 1 and one line with %q", code, out, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
				t.Error("a run folder was created for a run that could not start")
			}
			noLeftovers(t, h, "footprint-"+stack)
		})
	}
}

// keptQuickly: what these tests remove is the stack's objects, not a
// result; the shortest deadline keeps them a minute after they exist
// instead of the guest's two or three to its result.
const keptQuickly = "  footprint:collectDeadline: 1m\n"

// libvirtd goes away while a kept stack is destroyed: the destroy is
// retried until the daemon is back, and nothing is left.
func TestDestroyRidesThroughALibvirtdRestart(t *testing.T) {
	h := newHost(t)
	dir := project(t, "restart", stackYAML("  footprint:profiles: [bare]\n"+keptQuickly))
	out, code := h.exec(dir, nil, footprint(t), "run", "--stack", "restart", "--keep")
	if code != 3 {
		t.Fatalf("run --keep exited %d, want 3 (kept before the result):\n%s", code, out)
	}
	if left := h.leftovers("footprint-restart"); len(left) == 0 {
		t.Fatal("--keep left nothing running")
	}

	restarted := make(chan string, 1)
	go func() {
		b, _ := h.RestartLibvirtd(12)
		restarted <- b
	}()
	time.Sleep(2 * time.Second) // libvirtd is down now, for 12 s
	start := time.Now()
	out, code = h.exec(dir, nil, footprint(t), "destroy", "--stack", "restart")
	t.Logf("destroy took %s, exit %d; %s", elapsed(start), code, strings.TrimSpace(<-restarted))
	if code != 0 {
		t.Fatalf("destroy exited %d:\n%s", code, out)
	}
	if !strings.Contains(out, "retrying in") {
		t.Errorf("destroy did not have to retry, so the test proved nothing:\n%s", out)
	}
	noLeftovers(t, h, "footprint-restart")
}

// `footprint cleanup` removes a stack's objects without any Pulumi state.
func TestCleanupWithoutState(t *testing.T) {
	h := newHost(t)
	dir := project(t, "orphan", stackYAML("  footprint:profiles: [bare]\n"+keptQuickly))
	out, code := h.exec(dir, nil, footprint(t), "run", "--stack", "orphan", "--keep")
	if code != 3 {
		t.Fatalf("run --keep exited %d, want 3 (kept before the result):\n%s", code, out)
	}
	// A neighbour whose name starts like ours must survive the cleanup.
	h.virsh("net-define", writeTemp(t, `<network><name>footprint-orphan-neighbour</name><bridge name="fpneighbour"/></network>`))
	defer h.virsh("net-undefine", "footprint-orphan-neighbour")
	must(t, os.RemoveAll(filepath.Join(dir, ".footprint"))) // the state is gone
	kept := len(h.leftovers("footprint-orphan"))

	start := time.Now()
	out, code = h.exec(dir, nil, footprint(t), "cleanup", "--stack", "orphan")
	t.Logf("cleanup took %s, exit %d:\n%s", elapsed(start), code, out)
	if code != 0 {
		t.Fatalf("cleanup exited %d", code)
	}
	for _, want := range []string{"removed domain footprint-orphan-bare", "removed pool footprint-orphan", "removed network footprint-orphan\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("cleanup did not say %q", want)
		}
	}
	left := h.leftovers("footprint-orphan")
	if len(left) != 1 || left[0] != "network footprint-orphan-neighbour" {
		t.Errorf("after cleanup (had %d objects): %v, want only the neighbour network", kept, left)
	}
}

func writeTemp(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "obj.xml")
	must(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// A stack whose subnet overlaps a network the host already has is refused
// before anything is created, naming that network.
func TestOverlappingSubnetIsRefused(t *testing.T) {
	h := newHost(t)
	h.virsh("net-define", writeTemp(t, `<network><name>lab</name><bridge name="fplab0"/><ip address="10.77.0.1" prefix="16"/></network>`))
	defer h.virsh("net-undefine", "lab")
	dir := project(t, "overlap", stackYAML("  footprint:profiles: [bare]\n  footprint:networkCidr: 10.77.3.0/24\n"))
	out, code := h.exec(dir, nil, footprint(t), "run", "--stack", "overlap")
	t.Logf("exit %d: %s", code, strings.TrimSpace(out))
	want := `footprint:networkCidr: 10.77.3.0/24 overlaps libvirt network "lab" (10.77.0.0/16)`
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("exit %d, output %q: want exit 1 and %q", code, out, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
		t.Error("a run folder was created for a refused run")
	}
	noLeftovers(t, h, "footprint-overlap")
}
