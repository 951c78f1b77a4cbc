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
)

// The ci stack as the repository ships it, on the offline test image.
func ciStack(t *testing.T) string {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "stacks", "Pulumi.ci.yaml"))
	must(t, err)
	return string(data)
}

// The bare node is collected through its SSH server, as a cloud instance is
// (issue 11): the run's host key pinned, one forwarded channel per attempt.
func TestRunBareOnARealVM(t *testing.T) {
	h := newHost(t)
	dir := project(t, "ci", ciStack(t))
	cli := footprint(t)

	start := time.Now()
	out, code := h.exec(dir, nil, cli, "run", "--stack", "ci", "--set", "collect=ssh")
	t.Logf("footprint run took %s, exit %d", elapsed(start), code)
	if code != 0 {
		t.Fatalf("footprint run exited %d:\n%s", code, out)
	}
	t.Logf("output:\n%s", out)

	runDir, run := onlyRun(t, dir)
	keepRun(t, runDir) // the gate's run (regression_gate_test.go)
	if len(run.Nodes) != 1 {
		t.Fatalf("%d nodes in results.json, want 1", len(run.Nodes))
	}
	r := run.Nodes[0]
	checkAccounting(t, r)
	checkInstrument(t, r)
	if r.Node != "bare" || r.Status != results.StatusOK {
		t.Fatalf("node %q status %q detail %q", r.Node, r.Status, r.Detail)
	}
	s, ok := r.Summarize("idle")
	if !ok {
		t.Fatal("no idle samples")
	}
	if s.MemTotalMiB < 900 || s.MemTotalMiB > 1024 {
		t.Errorf("MemTotal %.1f MiB, want 900..1024 for a 1 GiB VM", s.MemTotalMiB)
	}
	if s.UsedMiB < 60 || s.UsedMiB > 400 {
		t.Errorf("used %.1f MiB, want 60..400 for a bare Debian guest", s.UsedMiB)
	}
	if s.Samples != 3 {
		t.Errorf("%d samples, want the stack's 3", s.Samples)
	}
	if r.Machine == nil || r.Machine.ImageSHA256 == "" || r.Machine.DomainType != "qemu" || r.Machine.MemoryMiB != 1024 {
		t.Errorf("machine record %+v", r.Machine)
	}
	if !strings.Contains(r.OS.PrettyName, "Debian") || r.OS.Kernel == "" {
		t.Errorf("os %+v", r.OS)
	}
	if c := r.Collection; c == nil || c.Via != "ssh://footprint@"+r.Machine.Address+":22" {
		t.Errorf("collected %+v, want through ssh://footprint@%s:22", c, r.Machine.Address)
	} else {
		t.Logf("collected through %s in %d attempts, %.1f s", c.Via, c.Attempts, c.Seconds)
	}
	// Forwarding a channel opens no login session: no user slice, ever.
	for _, b := range r.Breakdowns {
		for cg := range b.CgroupsKiB {
			if strings.Contains(cg, "user-") {
				t.Errorf("phase %s: cgroup %s: the collector opened a login session", b.Phase, cg)
			}
		}
	}
	t.Logf("bare: used %.1f MiB of %.1f MiB (free's used %.1f); agent start at %.1f s uptime; up %.1f s, destroy %.1f s",
		s.UsedMiB, s.MemTotalMiB, s.FreeUsedMiB, phaseEnd(r, "boot"), run.Timings.UpSeconds, run.Timings.DestroySeconds)
	if end, ok := r.PhaseEnd("idle"); ok {
		t.Logf("guest boot-to-result: %.1f s of guest uptime", end)
	}

	md, err := os.ReadFile(filepath.Join(runDir, "report.md"))
	must(t, err)
	if row, want := rowOf(string(md), "bare"), fmt.Sprintf("| %.0f |", s.UsedMiB); !strings.Contains(row, want) {
		t.Errorf("report.md's bare row %q lacks the used figure %q:\n%s", row, want, md)
	}
	console, err := os.ReadFile(filepath.Join(runDir, "bare.console.log"))
	if err != nil || !strings.Contains(string(console), "footprint: node=bare phase=done status=ok") {
		t.Errorf("console log not saved with the agent's lines (%v)", err)
	}

	// The per-CPU free lists, counted in a real kernel (docs/baseline.md).
	if !s.HasPCP || s.NetUsedMiB > s.UsedMiB || s.NetUsedMiB <= 0 {
		t.Errorf("per-CPU free lists not counted: %+v", s)
	} else {
		t.Logf("per-CPU free lists %.1f MiB: used without them %.1f MiB", s.PCPFreeMiB, s.NetUsedMiB)
	}

	// The host's view at each guest sample: every page the guest uses is
	// backed by one the QEMU process holds (the host has no swap).
	if h, ok := r.HostViewOf("idle"); !ok || h.Samples != s.Samples || h.PSSMiB <= 0 || h.RSSMiB < s.UsedMiB {
		t.Errorf("host view of idle %+v against %d guest samples, used %.1f MiB: %+v", h, s.Samples, s.UsedMiB, r.HostView)
	} else {
		t.Logf("host view: QEMU RSS %.1f MiB, PSS %.1f MiB beside guest used %.1f MiB; balloon %v", h.RSSMiB, h.PSSMiB, s.UsedMiB, r.HostView[0].BalloonKiB)
	}
	if !strings.Contains(string(md), "## Guest and host (MiB)") {
		t.Error("report.md has no host view")
	}

	// Memory over time, from the agent's start to the last sample.
	if tl := r.Timeline; tl == nil || len(tl.Points) < 2 || tl.Points[0][0] > phaseEnd(r, "boot")+1 ||
		tl.Points[len(tl.Points)-1][0] < phaseEnd(r, "idle")-float64(tl.IntervalSeconds)-1 {
		t.Errorf("timeline %+v does not span boot (%.1f s) to idle (%.1f s)", tl, phaseEnd(r, "boot"), phaseEnd(r, "idle"))
	} else {
		t.Logf("timeline: %d points every %d s from %.1f s to %.1f s", len(tl.Points), tl.IntervalSeconds, tl.Points[0][0], tl.Points[len(tl.Points)-1][0])
	}
	if _, err := os.Stat(filepath.Join(runDir, "bare.timeline.svg")); err != nil {
		t.Errorf("no timeline chart: %v", err)
	}

	// The virtual hardware as it ran: libvirt's live definition and the
	// QEMU command line.
	domainXML, err := os.ReadFile(filepath.Join(runDir, "bare.domain.xml"))
	if err != nil || !strings.Contains(string(domainXML), "<domain type='qemu'") ||
		!strings.Contains(string(domainXML), "<name>"+r.Machine.Name+"</name>") || !strings.Contains(string(domainXML), "<memory unit='KiB'>1048576</memory>") {
		t.Errorf("domain XML not saved as it ran (%v):\n%.600s", err, domainXML)
	}
	qemuLog, err := os.ReadFile(filepath.Join(runDir, "bare.qemu.log"))
	if err != nil || !strings.Contains(string(qemuLog), "qemu-system-x86_64") || !strings.Contains(string(qemuLog), "-name guest="+r.Machine.Name) {
		t.Errorf("QEMU command line not saved (%v):\n%.600s", err, qemuLog)
	}

	if left := h.leftovers("footprint-ci"); len(left) > 0 {
		t.Errorf("left behind after the run: %v", left)
	}
}

func phaseEnd(r results.Result, name results.PhaseName) float64 {
	v, _ := r.PhaseEnd(name)
	return v
}

// rowOf is the report table's row of a node.
func rowOf(md, node string) string {
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| "+node+" |") {
			return line
		}
	}
	return ""
}
