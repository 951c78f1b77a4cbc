package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// smallHost is a backend whose one host takes one guest at a time.
type smallHost struct{ fakeBackend }

func (*smallHost) Hosts(context.Context) ([]machine.HostCapacity, error) {
	return []machine.HostCapacity{{Name: "fake-host", MemoryMiB: 4096, Cores: 2, MemoryShare: 0.75, VCPUsPerCore: 4, GuestOverheadMiB: 512, MaxGuests: 1}}, nil
}

func bothOK() map[string]any {
	return map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}
}

// Two nodes on a host that takes one: two waves, each created, recorded and
// destroyed before the next, every result kept with its wave and host.
func TestWavesRunOneAfterTheOther(t *testing.T) {
	dir := testProject(t, "")
	b := &smallHost{}
	s := &fakeStack{outputs: bothOK()}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	got, err := Run(context.Background(), o)
	if err != nil || !got.AllOK {
		t.Fatalf("run: %v (AllOK %v)\n%s", err, got.AllOK, out.String())
	}
	if want := `up ["bare-r1"],destroy,up ["bare-r2"],destroy`; strings.Join(s.events, ",") != want {
		t.Errorf("events %v, want %s", s.events, want)
	}
	run, err := record.Read(got.RunDir)
	if err != nil || len(run.Nodes) != 2 {
		t.Fatalf("run folder: %v %+v", err, run)
	}
	for i, r := range run.Nodes {
		if r.Status != results.StatusOK || r.Machine == nil || r.Machine.Wave != i+1 || r.Machine.Host != "fake-host" {
			t.Errorf("%s: status %s machine %+v, want wave %d on fake-host", r.Node, r.Status, r.Machine, i+1)
		}
	}
	md, _ := os.ReadFile(filepath.Join(got.RunDir, "report.md"))
	if !strings.Contains(string(md), "| 1 | fake-host | bare-r1 |") || !strings.Contains(string(md), "| 2 | fake-host | bare-r2 |") {
		t.Errorf("report.md has no waves table:\n%s", md)
	}
	if !strings.Contains(out.String(), "in 2 wave(s)") || !strings.Contains(out.String(), "wave 2 of 2: bare-r2") {
		t.Errorf("output does not say the waves:\n%s", out.String())
	}
	o.Keep = true
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--keep: the stack runs in 2 waves") {
		t.Errorf("--keep over two waves: %v", err)
	}
}

// An interrupt after the first wave keeps its results on disk, runs no
// other, names what is left; --resume then runs only that, into the same
// folder.
func TestInterruptBetweenWavesThenResume(t *testing.T) {
	dir := testProject(t, "")
	b := &smallHost{}
	ctx, cancel := context.WithCancel(context.Background())
	s := &fakeStack{outputs: bothOK(), afterDestroy: cancel}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	got, err := Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("error %v", err)
	}
	run, rerr := record.Read(got.RunDir)
	if rerr != nil || len(run.Nodes) != 1 || run.Nodes[0].Node != "bare-r1" || run.Nodes[0].Status != results.StatusOK {
		t.Fatalf("after the interrupt: %v %+v", rerr, run.Nodes)
	}
	if strings.Join(run.NotRun, ",") != "bare-r2" || !strings.Contains(out.String(), "not run: bare-r2; run them with: footprint run --stack t --resume "+got.RunDir) {
		t.Errorf("not run %v; output:\n%s", run.NotRun, out.String())
	}

	s2 := &fakeStack{outputs: bothOK()}
	out.Reset()
	o2 := options(dir, &b.fakeBackend, s2, &out)
	o2.backend, o2.Resume = b, got.RunDir
	again, err := Run(context.Background(), o2)
	if err != nil || !again.AllOK || again.RunDir != got.RunDir {
		t.Fatalf("resume: %v, AllOK %v, folder %s (want %s)\n%s", err, again.AllOK, again.RunDir, got.RunDir, out.String())
	}
	if want := `up ["bare-r2"],destroy`; strings.Join(s2.events, ",") != want {
		t.Errorf("resume ran %v, want only %s", s2.events, want)
	}
	run, _ = record.Read(got.RunDir)
	if len(run.Nodes) != 2 || len(run.NotRun) != 0 || run.ID != got.Run.ID {
		t.Errorf("resumed run %s: nodes %d, not run %v", run.ID, len(run.Nodes), run.NotRun)
	}
	if _, err := Run(context.Background(), o2); err == nil || !strings.Contains(err.Error(), "every node of the stack has a result already") {
		t.Errorf("a third resume: %v", err)
	}
	o2.Resume = filepath.Join(dir, "no-such-run")
	if _, err := Run(context.Background(), o2); err == nil || !strings.HasPrefix(err.Error(), "--resume ") {
		t.Errorf("resume of a missing folder: %v", err)
	}
}

// footprint plan says the waves, the host and the estimate, creating nothing.
func TestPlanText(t *testing.T) {
	dir := testProject(t, "")
	b := &smallHost{}
	s := &fakeStack{}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	text, err := PlanText(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stack t: 2 node(s) in 2 wave(s) on backend fake\n", "wave 1 on fake-host: 1 guest(s), 1024 MiB: bare-r1\n",
		"wave 2 on fake-host: 1 guest(s), 1024 MiB: bare-r2\n", "estimated duration: 6m20s\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if len(s.events) != 0 {
		t.Errorf("plan touched the stack: %v", s.events)
	}
}

// twoHosts is a backend of two hosts, each taking one guest at a time.
type twoHosts struct{ fakeBackend }

func (*twoHosts) Hosts(context.Context) ([]machine.HostCapacity, error) {
	h := machine.HostCapacity{MemoryMiB: 4096, Cores: 2, MemoryShare: 0.75, VCPUsPerCore: 4, GuestOverheadMiB: 512, MaxGuests: 1}
	a, b := h, h
	a.Name, b.Name = "qemu:///system", "qemu+ssh://lab2/system"
	return []machine.HostCapacity{a, b}, nil
}

// Four nodes on two hosts of one guest each: two waves, each placing one
// node on each host through footprint:placement; the host of every figure
// is recorded.
func TestWavesAcrossTwoHosts(t *testing.T) {
	dir := testProject(t, "")
	must(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.t.yaml"),
		[]byte("config:\n  footprint:image: test.img\n  footprint:profiles: [bare]\n  footprint:repeats: 4\n"), 0o644))
	b := &twoHosts{}
	outs := map[string]any{}
	for _, n := range []string{"bare-r1", "bare-r2", "bare-r3", "bare-r4"} {
		outs[n] = okResult(n)
	}
	var placements []string
	s := &fakeStack{outputs: outs}
	s.afterDestroy = func() { placements = append(placements, s.placement) }
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	got, err := Run(context.Background(), o)
	if err != nil || !got.AllOK {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	want := []string{`{"bare-r1":"qemu:///system","bare-r2":"qemu+ssh://lab2/system"}`, `{"bare-r3":"qemu:///system","bare-r4":"qemu+ssh://lab2/system"}`}
	if strings.Join(placements, " ") != strings.Join(want, " ") {
		t.Errorf("placements %v, want %v", placements, want)
	}
	for _, r := range got.Run.Nodes {
		if r.Machine == nil || r.Machine.Host == "" || r.Machine.Wave == 0 {
			t.Errorf("%s: machine %+v without its host and wave", r.Node, r.Machine)
		} else if b.recordedOn[r.Node] != r.Machine.Host {
			t.Errorf("%s ran on %s but its evidence was asked of %q", r.Node, r.Machine.Host, b.recordedOn[r.Node])
		}
	}
}

// A failed up says why: the error lines Pulumi wrote to its log, not the
// CLI's empty stderr.
func TestUpFailureSaysWhatPulumiSaid(t *testing.T) {
	dir := testProject(t, "")
	b := &fakeBackend{}
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1")},
		upErr: errors.New("failed to run update: exit status 255\ncode: 255\nstdout: \nstderr: \n")}
	var out bytes.Buffer
	o := options(dir, b, s, &out)
	o.openStack = func(ctx context.Context, o Options) (Stack, error) {
		runs, _ := filepath.Glob(filepath.Join(o.RunsDir, "*"))
		// Pulumi writes its errors while up runs, after an earlier one's.
		for _, r := range runs {
			log := filepath.Join(r, "pulumi.log")
			os.WriteFile(log, []byte("error: an earlier command's\n"), 0o644)
			s.afterUp = func() {
				f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
				defer f.Close()
				f.WriteString("  +  libvirt:index:Domain footprint-t-bare-r2 creating (0s)\n" +
					"    error: 1 error occurred:\n    error: 1 error occurred:\n    * Error creating libvirt domain: virError(Code=1)\n")
			}
		}
		return s, nil
	}
	got, err := Run(context.Background(), o)
	if err == nil {
		t.Fatal("a failed up passed")
	}
	if len(got.Run.Errors) == 0 || got.Run.Errors[0] != "up (wave 1): error: 1 error occurred: | error: 1 error occurred: * Error creating libvirt domain: virError(Code=1)" {
		t.Errorf("errors %q, want Pulumi's diagnostic", got.Run.Errors)
	}
}

// A machine the up failed to create (the provider read its cloud-init disk
// back short) gets one more wave of its own; the nodes that ran keep their
// results, and the run ends whole.
func TestAMachineNotCreatedGetsOneMoreWave(t *testing.T) {
	dir := testProject(t, "")
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")},
		upErr: errors.New("error: corrupted-image: EOF"), upErrTimes: 1, withhold: map[string]int{"bare-r2": 1}}
	var out bytes.Buffer
	got, err := Run(context.Background(), options(dir, &fakeBackend{}, s, &out))
	if err != nil || !got.AllOK {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	want := `up ["bare-r1","bare-r2"] destroy up ["bare-r2"] destroy`
	if e := strings.Join(s.events, " "); e != want {
		t.Errorf("events %q, want %q", e, want)
	}
	if !strings.Contains(out.String(), "not created: bare-r2; trying once more") {
		t.Errorf("the output does not say what is tried again:\n%s", out.String())
	}
	waves := map[string]int{}
	for _, r := range got.Run.Nodes {
		if r.Status != results.StatusOK || r.Machine == nil {
			t.Fatalf("%s: %s, machine %+v", r.Node, r.Status, r.Machine)
		}
		waves[r.Node] = r.Machine.Wave
	}
	if waves["bare-r1"] != 1 || waves["bare-r2"] != 2 {
		t.Errorf("waves %v: the retry's machine is a wave of its own", waves)
	}
	if len(got.Run.Errors) != 1 || !strings.HasPrefix(got.Run.Errors[0], "up (wave 1): error: corrupted-image: EOF") {
		t.Errorf("errors %q: the first up's failure stays on the record", got.Run.Errors)
	}
}

// A machine that cannot be made is tried once more, not again and again,
// and the run says it was not run.
func TestAMachineThatCannotBeMadeIsTriedOnceMore(t *testing.T) {
	dir := testProject(t, "")
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")},
		upErr: errors.New("error: Error creating libvirt domain"), withhold: map[string]int{"bare-r2": 99}}
	var out bytes.Buffer
	got, err := Run(context.Background(), options(dir, &fakeBackend{}, s, &out))
	if err == nil || got.AllOK {
		t.Fatalf("run passed: %v", err)
	}
	if n := strings.Count(strings.Join(s.events, " "), "up "); n != 2 {
		t.Errorf("%d ups (%q), want the wave and one retry", n, s.events)
	}
	if strings.Join(got.Run.NotRun, ",") != "bare-r2" || len(got.Run.Errors) != 2 {
		t.Errorf("not run %v, errors %q", got.Run.NotRun, got.Run.Errors)
	}
}
