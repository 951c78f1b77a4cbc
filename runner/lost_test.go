package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

const (
	hostA = "qemu:///system"
	hostB = "qemu+ssh://lab2/system"
)

// lossyHosts is twoHosts whose hosts can stop answering.
type lossyHosts struct {
	twoHosts
	down  map[string]bool
	swept []string // hosts swept through Only
}

func (b *lossyHosts) Answers(_ context.Context, host string) error {
	if b.down[host] {
		return errors.New("ssh: connect to host lab2 port 22: No route to host")
	}
	return nil
}
func (b *lossyHosts) Holds(host string, r apitype.ResourceV3) bool {
	return r.Type == "pulumi:providers:fake" && r.Inputs["uri"] == host
}
func (b *lossyHosts) Only(hosts []string) machine.Backend {
	return &sweepRecorder{fakeBackend: &b.fakeBackend, hosts: hosts, into: &b.swept}
}

type sweepRecorder struct {
	*fakeBackend
	hosts []string
	into  *[]string
}

func (r *sweepRecorder) Sweep(ctx context.Context, prefix string, log machine.Logf) ([]string, error) {
	*r.into = append(*r.into, r.hosts...)
	return r.fakeBackend.Sweep(ctx, prefix, log)
}

func urn(name string) resource.URN {
	return resource.URN("urn:pulumi:t::footprint::fake:index:Domain::" + name)
}

func providerOf(host string) apitype.ResourceV3 {
	name := "footprint-t"
	if host == hostB {
		name += "-h1"
	}
	return apitype.ResourceV3{URN: resource.URN("urn:pulumi:t::footprint::pulumi:providers:fake::" + name), ID: resource.ID("id-" + name),
		Type: "pulumi:providers:fake", Custom: true, Inputs: map[string]any{"uri": host}}
}

// placedState is what an up of a placement leaves in the state: each
// host's provider, each node's domain on it and a disk depending on it.
func placedState(placement string) []apitype.ResourceV3 {
	var m map[string]string
	_ = json.Unmarshal([]byte(placement), &m)
	var out []apitype.ResourceV3
	for _, h := range []string{hostA, hostB} {
		p := providerOf(h)
		used := false
		for node, on := range m {
			if on != h {
				continue
			}
			used = true
			dom := apitype.ResourceV3{URN: urn(node), Type: "fake:index:Domain", Custom: true, Provider: string(p.URN) + "::" + string(p.ID)}
			disk := apitype.ResourceV3{URN: urn(node + "-disk"), Type: "fake:index:Volume", Dependencies: []resource.URN{dom.URN}}
			out = append(out, dom, disk)
		}
		if used {
			out = append([]apitype.ResourceV3{p}, out...)
		}
	}
	return out
}

// The second of two hosts stops answering after the first wave's up: that
// wave's destroy keeps failing, so the run forgets what the stack has
// there, destroys the rest and runs the second wave on the first host
// only; the lost cell is named, and --resume, with the host back, removes
// what it kept and runs only that cell.
func TestALostHostLosesOnlyItsCells(t *testing.T) {
	fastRetries(t)
	dir := testProject(t, "")
	must(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.t.yaml"),
		[]byte("config:\n  footprint:image: test.img\n  footprint:profiles: [bare]\n  footprint:repeats: 4\n"), 0o644))
	b := &lossyHosts{down: map[string]bool{}}
	outs := map[string]any{}
	for _, n := range []string{"bare-r1", "bare-r2", "bare-r3", "bare-r4"} {
		outs[n] = okResult(n)
	}
	s := &fakeStack{outputs: outs}
	s.afterUp = func() {
		s.state = placedState(s.placement)
		if strings.Contains(s.only, "bare-r1") {
			b.down[hostB] = true // lost once its first wave is up
		}
	}
	s.destroyFailsOn = func(provider string) bool { return b.down[hostB] && strings.Contains(provider, "-h1::") }
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	got, err := Run(context.Background(), o)
	if err != nil || got.AllOK {
		t.Fatalf("run: %v (AllOK %v), want no error and not all OK\n%s", err, got.AllOK, out.String())
	}
	if want := `up ["bare-r1","bare-r2"],destroy,destroy,destroy,import,destroy,up ["bare-r3"],destroy`; strings.Join(s.events, ",") != want {
		t.Errorf("events\n%v\nwant\n%s", strings.Join(s.events, ","), want)
	}
	run, err := record.Read(got.RunDir)
	must(t, err)
	if len(run.Lost) != 1 || run.Lost[0].Host != hostB || run.Lost[0].Wave != 1 || len(run.Lost[0].Left) != 3 ||
		!strings.Contains(run.Lost[0].Error, "No route to host") {
		t.Errorf("lost %+v, want %s in wave 1 with its provider, domain and disk", run.Lost, hostB)
	}
	if !slices.Equal(run.NotRun, []string{"bare-r4"}) {
		t.Errorf("not run %v, want bare-r4", run.NotRun)
	}
	if len(run.Nodes) != 3 {
		t.Fatalf("%d nodes, want the three that ran", len(run.Nodes))
	}
	for _, n := range run.Nodes {
		if n.Status != results.StatusOK {
			t.Errorf("%s: %s; every measured result must be kept", n.Node, n.Status)
		}
	}
	for _, want := range []string{"host " + hostB + " does not answer", "lost in wave 1", "not run: bare-r4; run them with: footprint run --stack t --resume"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	md, _ := os.ReadFile(filepath.Join(got.RunDir, "report.md"))
	if !strings.Contains(string(md), "host "+hostB+" lost in wave 1") {
		t.Errorf("report.md does not name the lost host:\n%s", md)
	}
	if len(b.swept) != 0 {
		t.Errorf("swept %v during the run; the lost host's objects must be left to the resume", b.swept)
	}

	b.down[hostB] = false // back
	s.events = nil
	o.Resume = got.RunDir
	again, err := Run(context.Background(), o)
	if err != nil || !again.AllOK {
		t.Fatalf("resume: %v (AllOK %v)\n%s", err, again.AllOK, out.String())
	}
	if !slices.Equal(b.swept, []string{hostB}) {
		t.Errorf("resume swept %v, want only %s", b.swept, hostB)
	}
	if want := `up ["bare-r4"],destroy`; strings.Join(s.events, ",") != want {
		t.Errorf("resume events %v, want %s", s.events, want)
	}
	final, _ := record.Read(got.RunDir)
	if len(final.Nodes) != 4 || len(final.NotRun) != 0 || len(final.Lost) != 0 {
		t.Errorf("after resume: %d nodes, not run %v, lost %v", len(final.Nodes), final.NotRun, final.Lost)
	}
	for _, n := range final.Nodes {
		if n.Machine == nil || n.Machine.Host == "" {
			t.Errorf("%s without its host", n.Node)
		}
	}
	// The plan places the one cell left on the first host with room.
	if r4 := final.Nodes[3].Machine; r4.Wave != 3 || r4.Host != hostA {
		t.Errorf("bare-r4 resumed in wave %d on %s, want wave 3 (after the run's two) on %s", r4.Wave, r4.Host, hostA)
	}
}

// Where every host of the wave is lost, nothing is forgotten: the destroy
// failure stands, as with one host.
func TestLosingEveryHostForgetsNothing(t *testing.T) {
	fastRetries(t)
	dir := testProject(t, "")
	b := &lossyHosts{down: map[string]bool{hostA: true, hostB: true}}
	s := &fakeStack{outputs: bothOK(), destroyFails: -1}
	s.afterUp = func() { s.state = placedState(s.placement) }
	b.sweepErr = errors.New("no route to host")
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	_, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "destroy of stack t failed") {
		t.Fatalf("run: %v, want the destroy failure", err)
	}
	if slices.Contains(s.events, "import") || len(s.state) == 0 {
		t.Errorf("events %v, state %d resources: nothing may be forgotten when no host answers", s.events, len(s.state))
	}
}
