package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
	"github.com/footprint-dev/footprint/runner/progress"
)

// fakeBackend stands for a backend: it creates nothing (the fake stack does
// not run the program) and records what the runner asks of it.
type fakeBackend struct {
	mu           sync.Mutex
	preflightErr error
	sweepErr     error
	leftovers    []string // what a sweep finds
	swept        []string // prefixes swept
	forgotten    []string
	consoles     map[string]string // node -> console text the host kept
	recordedOn   map[string]string // node -> the spec's host at Record
}

func (b *fakeBackend) Name() string                { return "fake" }
func (b *fakeBackend) Describe() map[string]string { return map[string]string{"host": "test"} }
func (b *fakeBackend) Preflight(context.Context, machine.Environment) error {
	return b.preflightErr
}
func (b *fakeBackend) Provision(*pulumi.Context, machine.Environment, []machine.Spec) ([]machine.Machine, error) {
	return nil, errors.New("the fake stack never runs the program")
}
func (b *fakeBackend) Sweep(_ context.Context, prefix string, log machine.Logf) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.swept = append(b.swept, prefix)
	for _, o := range b.leftovers {
		log("removed %s", o)
	}
	return b.leftovers, b.sweepErr
}
func (b *fakeBackend) Record(_ context.Context, s machine.Spec, dir string) string {
	b.mu.Lock()
	if b.recordedOn == nil {
		b.recordedOn = map[string]string{}
	}
	b.recordedOn[s.Node] = s.Host
	b.mu.Unlock()
	text, ok := b.consoles[s.Node]
	if !ok {
		return ""
	}
	p := filepath.Join(dir, s.Node+".console.log")
	if os.WriteFile(p, []byte(text), 0o644) != nil {
		return ""
	}
	return p
}
func (b *fakeBackend) Forget(specs []machine.Spec) {
	for _, s := range specs {
		b.forgotten = append(b.forgotten, s.Node)
	}
}

// fakeStack stands for Pulumi's stack: Up "creates" the machines of the
// wave's program, which hands over the results the test put in outputs.
type fakeStack struct {
	mu            sync.Mutex
	upErr         error
	upErrTimes    int // > 0: only the first upErrTimes ups fail
	ups           int
	withhold      map[string]int // node -> how many ups its program hands nothing over
	blockUp       bool           // Up waits for its context to end, as an interrupted up does
	upStarted     chan struct{}
	outputs       map[string]any // node -> the result its program hands over
	destroyFails  int            // how many destroys fail before one works; -1: all
	destroys      int
	destroyCtxErr []error // the context's state at each destroy
	refreshes     int
	events        []string // up(only) and destroy, in order
	afterDestroy  func()   // called after each destroy
	afterUp       func()   // called after each up
	state         []apitype.ResourceV3
	// destroyFailsOn fails a destroy while the state holds a resource
	// whose provider is one of these
	destroyFailsOn func(provider string) bool
	// the wave's program, as onProgram shows it: its nodes and placement
	// (as JSON), where its results go, the run's secrets
	only, placement string
	deliver         func(results.Result)
	secrets         []config.Secrets
	config          auto.ConfigMap // what the runner keeps in the stack's configuration
	removed         []string       // the keys it removed from it
}

// program is shown each wave's program options.
func (s *fakeStack) program(p infra.Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var nodes []string
	hosts := map[string]string{}
	for _, sp := range p.Nodes {
		nodes = append(nodes, sp.Node)
		hosts[sp.Node] = sp.Host
	}
	only, _ := json.Marshal(nodes)
	placement, _ := json.Marshal(hosts)
	s.only, s.placement, s.deliver = string(only), string(placement), p.OnResult
	s.secrets = append(s.secrets, p.Secrets)
}

func (s *fakeStack) SetProgram(pulumi.RunFunc) {}

func (s *fakeStack) GetAllConfig(context.Context) (auto.ConfigMap, error) { return s.config, nil }
func (s *fakeStack) SetAllConfig(_ context.Context, c auto.ConfigMap) error {
	if s.config == nil {
		s.config = auto.ConfigMap{}
	}
	for k, v := range c {
		s.config[k] = v
	}
	return nil
}
func (s *fakeStack) RemoveAllConfig(_ context.Context, keys []string) error {
	s.removed = append(s.removed, keys...)
	for _, k := range keys {
		delete(s.config, k)
	}
	return nil
}

func (s *fakeStack) Export(context.Context) (apitype.UntypedDeployment, error) {
	raw, err := json.Marshal(apitype.DeploymentV3{Resources: s.state})
	return apitype.UntypedDeployment{Version: 3, Deployment: raw}, err
}
func (s *fakeStack) Import(_ context.Context, d apitype.UntypedDeployment) error {
	var v3 apitype.DeploymentV3
	if err := json.Unmarshal(d.Deployment, &v3); err != nil {
		return err
	}
	s.state = v3.Resources
	s.events = append(s.events, "import")
	return nil
}

func (s *fakeStack) Up(ctx context.Context, _ ...optup.Option) (auto.UpResult, error) {
	s.mu.Lock()
	s.events = append(s.events, "up "+s.only)
	s.ups++
	up := s.ups
	s.mu.Unlock()
	if s.upStarted != nil {
		close(s.upStarted)
	}
	if s.deliver != nil {
		for node, raw := range s.outputs {
			if strings.Contains(s.only, `"`+node+`"`) && up > s.withhold[node] {
				r, _ := fromOutput(raw)
				s.deliver(r)
			}
		}
	}
	if s.blockUp {
		<-ctx.Done()
		return auto.UpResult{}, ctx.Err()
	}
	if s.afterUp != nil {
		s.afterUp()
	}
	if s.upErrTimes > 0 && up > s.upErrTimes {
		return auto.UpResult{}, nil
	}
	return auto.UpResult{}, s.upErr
}
func (s *fakeStack) Destroy(ctx context.Context, _ ...optdestroy.Option) (auto.DestroyResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.destroys++
	s.events = append(s.events, "destroy")
	s.destroyCtxErr = append(s.destroyCtxErr, ctx.Err())
	if s.afterDestroy != nil {
		defer s.afterDestroy()
	}
	if s.destroyFails < 0 || s.destroys <= s.destroyFails {
		return auto.DestroyResult{}, errors.New("error: libvirt: connection refused")
	}
	for _, r := range s.state {
		if s.destroyFailsOn != nil && s.destroyFailsOn(r.Provider) {
			return auto.DestroyResult{}, errors.New("error: " + r.Provider + ": no route to host")
		}
	}
	s.state = nil
	return auto.DestroyResult{}, nil
}
func (s *fakeStack) Refresh(context.Context, ...optrefresh.Option) (auto.RefreshResult, error) {
	s.refreshes++
	return auto.RefreshResult{}, nil
}

// fromOutput is a result as a test wrote it, in its JSON form.
func fromOutput(v any) (results.Result, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return results.Result{}, err
	}
	var r results.Result
	return r, json.Unmarshal(b, &r)
}

// testProject is a checkout with one stack of two repeats of bare, whose
// image is a local file.
func testProject(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	img := make([]byte, 512)
	img[510], img[511] = 0x55, 0xaa
	must(t, os.WriteFile(filepath.Join(dir, "test.img"), img, 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o755))
	yaml := "config:\n  footprint:image: test.img\n  footprint:profiles: [bare]\n  footprint:repeats: 2\n" + extra
	must(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.t.yaml"), []byte(yaml), 0o644))
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the image cache
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func options(dir string, b *fakeBackend, s *fakeStack, out *bytes.Buffer) Options {
	return Options{
		ProjectDir: dir, Stack: "t", Out: out, Progress: progress.Plain, backend: b,
		openStack: func(context.Context, Options) (Stack, error) { return s, nil },
		onProgram: s.program,
	}
}

func okResult(node string) map[string]any {
	return map[string]any{"schemaVersion": 1.0, "node": node, "profile": "bare", "status": string(results.StatusOK),
		"machine": map[string]any{"name": "footprint-t-" + node, "backend": "fake", "memoryMiB": 1024.0, "vcpus": 1.0}}
}

func fastRetries(t *testing.T) {
	old := destroyWaits
	destroyWaits = []time.Duration{0, time.Millisecond, time.Millisecond}
	t.Cleanup(func() { destroyWaits = old })
}

// A node that never answers is still in the record, with the reason and
// its console's last line; the stack is destroyed and the host forgets.
func TestRunAccountsForANodeThatNeverAnswers(t *testing.T) {
	dir := testProject(t, "")
	b := &fakeBackend{consoles: map[string]string{"bare-r2": "Booting\nfootprint-agent: install failed\n"}}
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1")}, config: auto.ConfigMap{"footprint:samples": {Value: "9"}}}
	var out bytes.Buffer
	got, err := Run(context.Background(), options(dir, b, s, &out))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if got.AllOK {
		t.Error("AllOK with a node that never answered")
	}
	if len(got.Run.Nodes) != 2 {
		t.Fatalf("nodes %+v", got.Run.Nodes)
	}
	lost := got.Run.Nodes[1]
	if lost.Node != "bare-r2" || lost.Collection == nil || !strings.Contains(lost.Collection.Error, "no output") ||
		lost.Collection.LastConsoleLine != "footprint-agent: install failed" || lost.Machine == nil || lost.Machine.Backend != "fake" {
		t.Errorf("lost node %+v %+v", lost, lost.Collection)
	}
	if s.destroys != 1 || len(b.swept) != 0 {
		t.Errorf("destroys %d, sweeps %v: want one destroy, no sweep", s.destroys, b.swept)
	}
	if strings.Join(b.forgotten, ",") != "bare-r1,bare-r2" {
		t.Errorf("forgotten %v", b.forgotten)
	}
	// A key an earlier version kept does not linger; secrets are per run,
	// handed to the program and kept encrypted, the same ones.
	if len(s.removed) != 1 || s.removed[0] != "footprint:samples" || !s.config["footprint:mysqlPassword"].Secret {
		t.Errorf("config removed %v, set %v", s.removed, s.config)
	}
	if len(s.secrets) != 1 || s.secrets[0].WorkloadPassword == "" || s.secrets[0].WorkloadPassword != s.config["footprint:mysqlPassword"].Value {
		t.Errorf("the program's secrets: %+v", s.secrets)
	}
	run, err := record.Read(got.RunDir)
	if err != nil || len(run.Nodes) != 2 || run.Nodes[0].Status != results.StatusOK {
		t.Errorf("run folder: %v %+v", err, run)
	}
	if _, err := os.Stat(filepath.Join(got.RunDir, "bare-r2.console.log")); err != nil {
		t.Errorf("console not kept: %v", err)
	}
}

// Destroy retries, then falls back to the backend's sweep, whose removals
// the user sees, and the state is refreshed.
func TestDestroyFallsBackToASweep(t *testing.T) {
	fastRetries(t)
	dir := testProject(t, "")
	b := &fakeBackend{leftovers: []string{"domain footprint-t-bare-r1", "network footprint-t"}}
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}, destroyFails: -1}
	var out bytes.Buffer
	got, err := Run(context.Background(), options(dir, b, s, &out))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !got.AllOK {
		t.Errorf("not AllOK after a sweep that removed everything:\n%s", out.String())
	}
	if s.destroys != len(destroyWaits)+1 || len(b.swept) != 1 || b.swept[0] != "footprint-t" || s.refreshes != 1 {
		t.Errorf("destroys %d, sweeps %v, refreshes %d", s.destroys, b.swept, s.refreshes)
	}
	for _, want := range []string{"retrying in", "sweeping the stack's objects from backend fake", "removed domain footprint-t-bare-r1", "removed network footprint-t"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// When the sweep fails too, the run says so and how to finish the job, and
// what was measured is on disk.
func TestDestroyAndSweepFailing(t *testing.T) {
	fastRetries(t)
	dir := testProject(t, "")
	b := &fakeBackend{sweepErr: errors.New("virsh: cannot connect")}
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1")}, destroyFails: -1}
	var out bytes.Buffer
	got, err := Run(context.Background(), options(dir, b, s, &out))
	if err == nil || !strings.Contains(err.Error(), "footprint destroy --stack t") || !strings.Contains(err.Error(), "cleanup by name also failed: virsh: cannot connect") {
		t.Fatalf("error %v", err)
	}
	run, rerr := record.Read(got.RunDir)
	if rerr != nil || len(run.Nodes) != 2 || len(run.Errors) == 0 || !strings.HasPrefix(run.Errors[len(run.Errors)-1], "destroy: ") {
		t.Errorf("run folder: %v %+v", rerr, run.Errors)
	}
	if len(b.forgotten) != 0 {
		t.Errorf("the host forgot machines that may still exist: %v", b.forgotten)
	}
}

// An interrupt during up still destroys, with a context that is not the
// cancelled one, and keeps what was measured.
func TestInterruptDuringUpStillDestroys(t *testing.T) {
	dir := testProject(t, "")
	b := &fakeBackend{}
	s := &fakeStack{blockUp: true, upStarted: make(chan struct{}), outputs: map[string]any{"bare-r1": okResult("bare-r1")}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-s.upStarted; cancel() }()
	var out bytes.Buffer
	got, err := Run(ctx, options(dir, b, s, &out))
	if err == nil || !strings.Contains(err.Error(), "interrupted; the stack was destroyed") {
		t.Fatalf("error %v", err)
	}
	if s.destroys != 1 || s.destroyCtxErr[0] != nil {
		t.Errorf("destroys %d with context errors %v: want one, on a live context", s.destroys, s.destroyCtxErr)
	}
	if run, err := record.Read(got.RunDir); err != nil || len(run.Nodes) != 2 || len(run.Errors) == 0 {
		t.Errorf("run folder: %v %+v", err, run)
	}
}

// A refused pre-flight creates nothing: no run folder, no stack.
func TestPreflightRefusalCreatesNothing(t *testing.T) {
	dir := testProject(t, "")
	b := &fakeBackend{preflightErr: errors.New("footprint:networkCidr: 10.77.3.0/24 overlaps libvirt network \"lab\"")}
	var out bytes.Buffer
	o := options(dir, b, &fakeStack{}, &out)
	o.openStack = func(context.Context, Options) (Stack, error) {
		t.Error("a stack was opened after a refused pre-flight")
		return nil, errors.New("no")
	}
	_, err := Run(context.Background(), o)
	if err == nil || err.Error() != b.preflightErr.Error() {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); !os.IsNotExist(err) {
		t.Errorf("runs folder: %v", err)
	}
}

// Cleanup sweeps the stack's prefix, or every stack's with --all.
func TestCleanupSweepsByPrefix(t *testing.T) {
	dir := testProject(t, "")
	for _, all := range []bool{false, true} {
		b := &fakeBackend{leftovers: []string{"pool footprint-t"}}
		var out bytes.Buffer
		o := options(dir, b, &fakeStack{}, &out)
		removed, err := Cleanup(context.Background(), CleanupOptions{Options: o, All: all})
		want := "footprint-t"
		if all {
			want = ""
		}
		if err != nil || len(removed) != 1 || len(b.swept) != 1 || b.swept[0] != want || !strings.Contains(out.String(), "footprint: removed pool footprint-t") {
			t.Errorf("all=%v: removed %v, swept %q, err %v, output %q", all, removed, b.swept, err, out.String())
		}
	}
}

// `footprint destroy` writes Pulumi's progress to its standard output, a
// pipe under CI: a failed attempt must not try to read its error back
// from there (reading a pipe's other end blocks for ever).
func TestDestroyRetriesWhenTheLogIsAPipe(t *testing.T) {
	fastRetries(t)
	r, pw, err := os.Pipe()
	must(t, err)
	defer r.Close()
	defer pw.Close()
	// Named as os.Stdout is, by a path that opens the pipe again.
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", pw.Fd()), os.O_WRONLY, 0)
	must(t, err)
	defer w.Close()
	s := &fakeStack{destroyFails: 1}
	var said []string
	done := make(chan error, 1)
	go func() {
		done <- retryDestroy(context.Background(), s, w, func(f string, a ...any) { said = append(said, fmt.Sprintf(f, a...)) })
	}()
	select {
	case err := <-done:
		if err != nil || s.destroys != 2 {
			t.Errorf("retryDestroy: %v after %d destroys, want success on the second", err, s.destroys)
		}
		if len(said) != 1 || !strings.Contains(said[0], "connection refused") {
			t.Errorf("said %q, want the CLI's error", said)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("retryDestroy blocked on its log")
	}
}
