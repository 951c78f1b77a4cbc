//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/internal/labhost"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// twoHostStack is four repeats of bare on two hosts that take one guest
// at a time each.
func twoHostStack(remoteURI string) string {
	return strings.Replace(stackYAML("  footprint:profiles: [bare]\n  footprint:repeats: 4\n  footprint:collectDeadline: 15m\n"),
		"    uri: qemu:///system\n", "    maxGuests: 1\n    hosts:\n      - uri: qemu:///system\n      - uri: "+remoteURI+"\n", 1)
}

// twoHosts is a lab of two private libvirtds: the first runs footprint,
// the second is reached from it as a remote host, through qemu+ssh to the
// OpenSSH server of its namespace.
func twoHosts(t *testing.T) (*host, *host, *labhost.Remote) {
	a := newHost(t)
	b := newNamedHost(t, "b")
	r, err := b.ServeSSH(a.Host, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop()
		if t.Failed() {
			t.Logf("the remote host's sshd log:\n%s", r.Log())
		}
	})
	return a, b, r
}

const (
	localURI = "qemu:///system"
	localRow = "| %d | qemu:///system | %s |"
)

// Four repeats of bare on two hosts of one guest each, the second cut off
// the network once its first result is in: the run forgets what it had
// there, runs the first host's two waves, keeps every result it measured
// and names the lost cell; with the host back, --resume removes what it
// kept and runs that cell into the same folder: all four results, the host
// and wave of each recorded, the whole run folder written, nothing left on
// either host. (The same run without the loss is `make bench`'s "two
// hosts": it costs nine more minutes than make test can spend.)
func TestALostHostThenResume(t *testing.T) {
	a, b, remote := twoHosts(t)
	dir := project(t, "lost", twoHostStack(remote.URI))
	env := []string{"HOME=" + remote.Home}
	start := time.Now()
	cmd, buf, done := a.background(dir, env, footprint(t), "run", "--stack", "lost")
	cut := cutOnceSaved(t, dir, "bare-r2", remote, done)
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the run did not end within 30 minutes:\n%s", buf.String())
	}
	out := buf.String()
	t.Logf("run with the host lost %s in took %s: %v", cut, elapsed(start), err)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("exit %v, want 3 (finished, a cell not run):\n%s", err, out)
	}
	for _, want := range []string{"host " + remote.URI + " does not answer", "lost in wave 1", "not run: bare-r4; run them with"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	runDir, run := onlyRun(t, dir)
	if len(run.Lost) != 1 || run.Lost[0].Host != remote.URI || run.Lost[0].Wave != 1 || len(run.Lost[0].Left) == 0 {
		t.Errorf("lost %+v, want %s in wave 1 with what it kept", run.Lost, remote.URI)
	}
	if !slices.Equal(run.NotRun, []string{"bare-r4"}) {
		t.Errorf("not run %v, want [bare-r4]", run.NotRun)
	}
	if len(run.Nodes) != 3 {
		t.Fatalf("%d nodes, want the three measured", len(run.Nodes))
	}
	checkNode(t, run.Nodes[0], "bare-r1", 1, localURI)
	checkNode(t, run.Nodes[1], "bare-r2", 1, remote.URI)
	checkNode(t, run.Nodes[2], "bare-r3", 2, localURI)
	noLeftovers(t, a, "footprint-lost")
	kept := b.leftovers("footprint-lost")
	t.Logf("kept on the lost host: %v", kept)
	if !slices.Contains(kept, "domain footprint-lost-bare-r2") {
		t.Errorf("the lost host kept %v; the test did not lose it mid-wave", kept)
	}

	must(t, remote.Mend())
	start = time.Now()
	out, code := a.exec(dir, env, footprint(t), "run", "--stack", "lost", "--resume", runDir)
	t.Logf("resume took %s, exit %d", elapsed(start), code)
	if code != 0 {
		t.Fatalf("resume exited %d:\n%s", code, out)
	}
	if !strings.Contains(out, "removed domain footprint-lost-bare-r2") {
		t.Errorf("the resume did not say it removed what the lost host kept:\n%s", out)
	}
	final, err := record.Read(runDir)
	must(t, err)
	if len(final.Nodes) != 4 || len(final.NotRun) != 0 || len(final.Lost) != 0 {
		t.Fatalf("after resume: %d nodes, not run %v, lost %v", len(final.Nodes), final.NotRun, final.Lost)
	}
	// The resume's waves follow the run's; its plan puts the one cell left
	// on the first host with room.
	checkNode(t, final.Nodes[3], "bare-r4", 3, localURI)
	checkRunFolder(t, runDir, remote.URI)
	keepRun(t, runDir)
	noLeftovers(t, a, "footprint-lost")
	noLeftovers(t, b, "footprint-lost")
}

// checkRunFolder checks the files of a two-host run, each rendered from
// every node.
func checkRunFolder(t *testing.T, runDir, remoteURI string) {
	t.Helper()
	// (The remote machine's domain XML is not among them: the host was cut
	// before it could be fetched; the run without the loss, make bench's,
	// fetches it.)
	for _, f := range []string{"results.json", "report.md", "results.csv", "chart.svg"} {
		if info, err := os.Stat(filepath.Join(runDir, f)); err != nil || info.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(runDir, "results.csv"))
	if strings.Count(string(csv), "bare-r") < 4 || !strings.Contains(string(csv), remoteURI) {
		t.Errorf("results.csv lacks a row per repeat with its host:\n%s", csv)
	}
	md, _ := os.ReadFile(filepath.Join(runDir, "report.md"))
	for _, row := range []string{fmt.Sprintf(localRow, 1, "bare-r1"), fmt.Sprintf(localRow, 2, "bare-r3"),
		fmt.Sprintf("| 1 | %s | bare-r2 |", remoteURI), fmt.Sprintf(localRow, 3, "bare-r4")} {
		if !strings.Contains(string(md), row) {
			t.Errorf("report.md's waves table lacks %q:\n%s", row, md)
		}
	}
	if !strings.Contains(string(md), "chart.svg") || strings.Contains(string(md), "## Problems") {
		t.Errorf("report.md does not link the chart, or still has problems after the resume:\n%s", md)
	}
}

// cutOnceSaved takes the remote host off the network as soon as the run
// has saved node's result, and says when that was.
func cutOnceSaved(t *testing.T, projectDir, node string, remote *labhost.Remote, done chan error) string {
	t.Helper()
	start := time.Now()
	for {
		if saved, _ := filepath.Glob(filepath.Join(projectDir, "runs", "*", "nodes", node+".json")); len(saved) > 0 {
			must(t, remote.Cut())
			return elapsed(start)
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the run ended (%v) before %s had a result", err, node)
		case <-time.After(time.Second):
		}
	}
}

// checkNode fails unless r is node's ok result from the wave and host.
func checkNode(t *testing.T, r results.Result, node string, wave int, host string) {
	t.Helper()
	if r.Node != node || r.Status != results.StatusOK || r.Machine == nil {
		t.Errorf("node %s status %s, want %s ok", r.Node, r.Status, node)
		return
	}
	if r.Machine.Wave != wave || r.Machine.Host != host {
		t.Errorf("%s ran in wave %d on %q, want wave %d on %s", r.Node, r.Machine.Wave, r.Machine.Host, wave, host)
	}
}
