package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/report"
	"github.com/footprint-dev/footprint/results"
	"github.com/footprint-dev/footprint/search"
)

// searchProject is a checkout whose stack searches bare over 256..1024 MiB
// in steps of 128: 256 384 512 640 768 896 1024.
func searchProject(t *testing.T, extra string) string {
	t.Helper()
	dir := testProject(t, "")
	yaml := "config:\n  footprint:image: test.img\n  footprint:profiles: [bare]\n" +
		"  footprint:search: {minMiB: 256, maxMiB: 1024, resolutionMiB: 128}\n" + extra
	must(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.t.yaml"), []byte(yaml), 0o644))
	return dir
}

// searchOutputs are every grid node's result where bare works by works;
// where it does not, the kernel kills processes for lack of memory.
func searchOutputs(works func(size int) bool) map[string]any {
	return repeatedOutputs(works, 1)
}

// repeatedOutputs are searchOutputs of every repeat.
func repeatedOutputs(works func(size int) bool, repeats int) map[string]any {
	out := map[string]any{}
	for size := 256; size <= 1024; size += 128 {
		for r := 1; r <= repeats; r++ {
			node := fmt.Sprintf("bare-%dm", size)
			if repeats > 1 {
				node += fmt.Sprintf("-r%d", r)
			}
			out[node] = searchResult(node, size, works(size))
		}
	}
	return out
}

func searchResult(node string, size int, works bool) map[string]any {
	r := map[string]any{"schemaVersion": 1.0, "node": node, "profile": "bare", "status": string(results.StatusOK),
		"phases":  []any{map[string]any{"name": "idle", "status": "ok"}},
		"machine": map[string]any{"name": "footprint-t-" + node, "backend": "fake", "memoryMiB": float64(size), "vcpus": 1.0}}
	if !works {
		r["breakdowns"] = []any{map[string]any{"phase": "idle", "oomKills": 2.0}}
	}
	return r
}

func from640(size int) bool { return size >= 640 }

// roomyHost runs three guests at a time.
type roomyHost struct{ fakeBackend }

func (*roomyHost) Hosts(context.Context) ([]machine.HostCapacity, error) {
	return []machine.HostCapacity{{Name: "big-host", MemoryMiB: 16384, Cores: 4, MemoryShare: 0.75, VCPUsPerCore: 4, GuestOverheadMiB: 512, MaxGuests: 3}}, nil
}

// On a host of one guest at a time the search bisects, a wave per size:
// 640 passes, 384 and 512 fail; every size tried is a node of the run
// folder, and the record and the report give 640 MiB.
func TestSearchBisectsWaveByWave(t *testing.T) {
	dir := searchProject(t, "")
	b := &smallHost{}
	s := &fakeStack{outputs: searchOutputs(from640)}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	// What results.json says of the search as each wave's machines run: a
	// run killed outright keeps the search as far as it got.
	var onDisk []int
	s.afterUp = func() {
		runs, _ := filepath.Glob(filepath.Join(dir, "runs", "*"))
		if r, err := record.Read(runs[0]); err == nil && r.Search != nil {
			onDisk = append(onDisk, len(r.Search.Systems[0].Tried))
		}
	}
	got, err := Run(context.Background(), o)
	if err != nil || !got.AllOK {
		t.Fatalf("run: %v (AllOK %v)\n%s", err, got.AllOK, out.String())
	}
	if fmt.Sprint(onDisk) != "[0 1 2]" {
		t.Errorf("sizes tried in results.json during waves 1, 2, 3: %v, want [0 1 2]", onDisk)
	}
	if want := `up ["bare-640m"],destroy,up ["bare-384m"],destroy,up ["bare-512m"],destroy`; strings.Join(s.events, ",") != want {
		t.Errorf("events %v, want %s", s.events, want)
	}
	run, err := record.Read(got.RunDir)
	if err != nil || run.Search == nil || len(run.Search.Systems) != 1 {
		t.Fatalf("record: %v %+v", err, run.Search)
	}
	sys := run.Search.Systems[0]
	if sys.System != "bare" || sys.Outcome != search.Found || sys.ThresholdMiB != 640 || sys.FailsAtMiB != 512 {
		t.Errorf("search %+v", sys)
	}
	if got := triedOrder(sys.Tried); got != "640 pass w1, 384 fail w2, 512 fail w3" {
		t.Errorf("tried %s", got)
	}
	if !strings.Contains(sys.Tried[1].Why, "bare-384m: OOM kills: 2") {
		t.Errorf("why 384 failed: %q", sys.Tried[1].Why)
	}
	for _, n := range []string{"bare-640m", "bare-384m", "bare-512m"} {
		if _, err := os.Stat(filepath.Join(got.RunDir, nodesDir, n+".json")); err != nil {
			t.Errorf("%s is not in the run folder: %v", n, err)
		}
	}
	if len(run.Nodes) != 3 || len(run.NotRun) != 0 {
		t.Errorf("nodes %d, not run %v", len(run.Nodes), run.NotRun)
	}
	md, _ := os.ReadFile(filepath.Join(got.RunDir, report.ReportFile))
	if !strings.Contains(string(md), "| bare | **640 MiB** | 512 MiB | 640 pass → 384 fail → 512 fail |") {
		t.Errorf("report.md lacks the search's answer:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(got.RunDir, report.SearchChartFile)); err != nil {
		t.Errorf("no %s: %v", report.SearchChartFile, err)
	}
	for _, want := range []string{"a search of 1 system(s) over 256–1024 MiB in steps of 128 MiB (7 sizes), each size 1 time(s): at most 3 wave(s)",
		"search step 1: bare at 640 MiB", "search step 3: bare at 512 MiB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func triedOrder(tried []search.Try) string {
	var parts []string
	for _, t := range tried {
		parts = append(parts, fmt.Sprintf("%d %s w%d", t.SizeMiB, t.Verdict, t.Wave))
	}
	return strings.Join(parts, ", ")
}

// A host with room for three guests takes three sizes a wave: the search
// needs two waves where bisection needs three.
func TestSearchTriesSeveralSizesAWaveWhereTheHostHasRoom(t *testing.T) {
	dir := searchProject(t, "")
	b := &roomyHost{}
	s := &fakeStack{outputs: searchOutputs(from640)}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	got, err := Run(context.Background(), o)
	if err != nil || !got.AllOK {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if want := `up ["bare-384m","bare-640m","bare-896m"],destroy,up ["bare-512m"],destroy`; strings.Join(s.events, ",") != want {
		t.Errorf("events %v, want %s", s.events, want)
	}
	sys := got.Run.Search.Systems[0]
	if sys.ThresholdMiB != 640 || triedOrder(sys.Tried) != "384 fail w1, 640 pass w1, 896 pass w1, 512 fail w2" {
		t.Errorf("search %+v: %s", sys, triedOrder(sys.Tried))
	}
	text, err := PlanText(context.Background(), o)
	if err != nil || !strings.Contains(text, "at most 2 step(s) in 2 wave(s) in all") ||
		!strings.Contains(text, "step 1, wave 1 on big-host: 3 guest(s), 1920 MiB: bare-384m, bare-640m, bare-896m") {
		t.Errorf("plan: %v\n%s", err, text)
	}
}

// An interrupted search keeps what it found and names what comes next;
// --resume goes on from there into the same folder, and a third is told the
// search is over.
func TestSearchResumesFromWhatIsRecorded(t *testing.T) {
	dir := searchProject(t, "")
	b := &smallHost{}
	ctx, cancel := context.WithCancel(context.Background())
	s := &fakeStack{outputs: searchOutputs(from640), afterDestroy: cancel}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	got, err := Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "interrupted") || got.AllOK {
		t.Fatalf("error %v, AllOK %v", err, got.AllOK)
	}
	run, _ := record.Read(got.RunDir)
	if run.Search == nil || run.Search.Systems[0].Outcome != search.Incomplete || run.Search.Systems[0].PassesFromMiB != 640 ||
		strings.Join(run.NotRun, ",") != "bare-384m" {
		t.Fatalf("after the interrupt: %+v, not run %v", run.Search, run.NotRun)
	}

	s2 := &fakeStack{outputs: searchOutputs(from640)}
	out.Reset()
	o2 := options(dir, &b.fakeBackend, s2, &out)
	o2.backend, o2.Resume = b, got.RunDir
	again, err := Run(context.Background(), o2)
	if err != nil || !again.AllOK {
		t.Fatalf("resume: %v\n%s", err, out.String())
	}
	if want := `up ["bare-384m"],destroy,up ["bare-512m"],destroy`; strings.Join(s2.events, ",") != want {
		t.Errorf("resume ran %v, want %s", s2.events, want)
	}
	if !strings.Contains(out.String(), "at most 2 wave(s)") {
		t.Errorf("the resume's worst case does not start from what was found:\n%s", out.String())
	}
	sys := again.Run.Search.Systems[0]
	if sys.ThresholdMiB != 640 || triedOrder(sys.Tried) != "640 pass w1, 384 fail w2, 512 fail w3" {
		t.Errorf("resumed search %+v: %s", sys, triedOrder(sys.Tried))
	}
	if _, err := Run(context.Background(), o2); err == nil || !strings.Contains(err.Error(), "the search has every system's answer already") {
		t.Errorf("a third run: %v", err)
	}
}

// A size whose machine never answered has no verdict: it is not tried again
// in the run, the search goes on beside it, and the record says why.
func TestSearchGoesOnBesideASizeWithoutAFinding(t *testing.T) {
	dir := searchProject(t, "")
	b := &smallHost{}
	outs := searchOutputs(func(size int) bool { return size >= 512 })
	outs["bare-640m"] = map[string]any{"schemaVersion": 1.0, "node": "bare-640m", "profile": "bare", "status": string(results.StatusTimeout),
		"collection": map[string]any{"error": "no result within 40m0s"},
		"machine":    map[string]any{"name": "footprint-t-bare-640m", "backend": "fake", "memoryMiB": 640.0, "vcpus": 1.0}}
	s := &fakeStack{outputs: outs}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	got, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if want := `up ["bare-640m"],destroy,up ["bare-512m"],destroy,up ["bare-384m"],destroy`; strings.Join(s.events, ",") != want {
		t.Errorf("events %v, want %s", s.events, want)
	}
	sys := got.Run.Search.Systems[0]
	if sys.Outcome != search.Found || sys.ThresholdMiB != 512 || triedOrder(sys.Tried) != "640 undecided w1, 512 pass w2, 384 fail w3" ||
		!strings.Contains(sys.Tried[0].Why, "no result within 40m0s") {
		t.Errorf("search %+v: %s", sys, triedOrder(sys.Tried))
	}
}

// An up that makes nothing (tried once more) ends the search: other sizes
// would fare no better. What is left is named for --resume.
func TestSearchStopsWhenTheUpFailsAndNothingIsFound(t *testing.T) {
	dir := searchProject(t, "")
	b := &smallHost{}
	s := &fakeStack{outputs: map[string]any{}, upErr: errors.New("libvirt: connection refused")}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	got, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "up of stack t failed") || got.AllOK {
		t.Fatalf("error %v, AllOK %v", err, got.AllOK)
	}
	if want := `up ["bare-640m"],destroy,up ["bare-640m"],destroy`; strings.Join(s.events, ",") != want {
		t.Errorf("events %v, want %s", s.events, want)
	}
	if strings.Join(got.Run.NotRun, ",") != "bare-640m" || got.Run.Search.Systems[0].Outcome != search.Incomplete {
		t.Errorf("not run %v, search %+v", got.Run.NotRun, got.Run.Search)
	}
}

// footprint plan shows the first step and the worst case; --keep and --only
// are refused for a search before anything exists.
func TestSearchPlanAndRefusals(t *testing.T) {
	dir := searchProject(t, "")
	b := &smallHost{}
	s := &fakeStack{}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend = b
	text, err := PlanText(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"stack t: a search of 1 system(s) over 256–1024 MiB in steps of 128 MiB (7 sizes), each size 1 time(s): at most 3 wave(s) on backend fake\n",
		"step 1, wave 1 on fake-host: 1 guest(s), 640 MiB: bare-640m\n",
		"at most 3 step(s) in 3 wave(s) in all\n", "estimated duration: at most 9m30s\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	keep := o
	keep.Keep = true
	if _, err := Run(context.Background(), keep); err == nil || !strings.Contains(err.Error(), "--keep: the search runs in up to 3 waves") {
		t.Errorf("--keep: %v", err)
	}
	only := o
	only.Only = []string{"bare-640m"}
	if _, err := Run(context.Background(), only); err == nil || !strings.HasPrefix(err.Error(), "--only: a search chooses each wave's nodes itself") {
		t.Errorf("--only: %v", err)
	}
	if len(s.events) != 0 {
		t.Errorf("the stack was touched: %v", s.events)
	}
	// Two repeats: every size tried twice, and the plan counts both.
	dir = searchProject(t, "")
	must(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.t.yaml"), []byte("config:\n  footprint:image: test.img\n  footprint:profiles: [bare]\n"+
		"  footprint:search: {minMiB: 256, maxMiB: 1024, resolutionMiB: 128, repeats: 2}\n"), 0o644))
	o.ProjectDir = dir
	if text, err := PlanText(context.Background(), o); err != nil || !strings.Contains(text, "at most 3 step(s) in 6 wave(s) in all") ||
		!strings.Contains(text, "step 1, wave 2 on fake-host: 1 guest(s), 640 MiB: bare-640m-r2") {
		t.Errorf("plan with repeats: %v\n%s", err, text)
	}
}

// A step whose machines did not run (their host is lost) marks nothing as
// tried and ends the search at once: the sizes are left for --resume, not
// skipped, and the search does not go round for ever.
func TestSearchStopsWhenNoMachineRan(t *testing.T) {
	dir := searchProject(t, "")
	b := &smallHost{}
	var out bytes.Buffer
	o := withDefaults(options(dir, &b.fakeBackend, &fakeStack{}, &out))
	o.backend = b
	p, err := Validate(o)
	must(t, err)
	sched, err := newSearchSchedule(context.Background(), o, p, p.Specs, record.Run{})
	must(t, err)
	var mu sync.Mutex
	var said []string
	say := func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		said = append(said, fmt.Sprintf(f, a...))
	}
	w := &waveRunner{o: o, backend: b, live: []string{"another-host"}, say: say}
	var run record.Run
	done := make(chan error, 1)
	go func() {
		up, destroyed := sched.drive(context.Background(), w, &run)
		done <- errors.Join(up, destroyed)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("drive: %v", err)
		}
	case <-time.After(10 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the search went round for ever: %q", said[:min(len(said), 6)])
	}
	if last := said[len(said)-1]; last != "search step 1: no machine ran; stopping (--resume tries those sizes again)" {
		t.Errorf("said %q", said)
	}
	if got := sched.notRun(run); strings.Join(got, ",") != "bare-640m" {
		t.Errorf("not run %v", got)
	}
	ran := ranSince(record.Run{Nodes: []results.Result{{Node: "a", Machine: &results.Machine{Wave: 1}}, {Node: "b", Machine: &results.Machine{Wave: 2}}, {Node: "c"}}}, 2)
	if len(ran) != 1 || !ran["b"] {
		t.Errorf("ran since wave 2: %v", ran)
	}
}

// A resumed search runs only the repeats of a size that have no finding:
// the repeat that has one is kept, not run again.
func TestSearchResumesOnlyTheRepeatsWithoutAFinding(t *testing.T) {
	dir := searchProject(t, "")
	must(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.t.yaml"), []byte("config:\n  footprint:image: test.img\n  footprint:profiles: [bare]\n"+
		"  footprint:search: {minMiB: 256, maxMiB: 1024, resolutionMiB: 128, repeats: 2}\n"), 0o644))
	prev := filepath.Join(dir, "runs", "earlier")
	must(t, os.MkdirAll(prev, 0o755))
	r1, err := fromOutput(searchResult("bare-640m-r1", 640, true))
	must(t, err)
	r1.Machine.Wave = 1
	must(t, writeRecord(prev, record.Run{ID: "earlier", Stack: "t", Nodes: []results.Result{r1}}))

	b := &smallHost{}
	s := &fakeStack{outputs: repeatedOutputs(from640, 2)}
	var out bytes.Buffer
	o := options(dir, &b.fakeBackend, s, &out)
	o.backend, o.Resume = b, prev
	got, err := Run(context.Background(), o)
	if err != nil || !got.AllOK {
		t.Fatalf("resume: %v\n%s", err, out.String())
	}
	if len(s.events) == 0 || s.events[0] != `up ["bare-640m-r2"]` {
		t.Errorf("the resume began with %v, want only the repeat without a finding", s.events)
	}
	sys := got.Run.Search.Systems[0]
	if sys.ThresholdMiB != 640 || len(sys.Tried) != 3 || sys.Tried[0].SizeMiB != 640 || sys.Tried[0].Wave != 1 || len(sys.Tried[0].Nodes) != 2 {
		t.Errorf("search %+v", sys)
	}
}
