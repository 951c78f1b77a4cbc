package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/names"
	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/report"
	"github.com/footprint-dev/footprint/results"
	"github.com/footprint-dev/footprint/waves"
)

// unmeasuredSeconds is the estimate of a profile without typicalSeconds.
const unmeasuredSeconds = 600

// PlanText is `footprint plan`: the waves a run of the stack would take on
// the backend's hosts, read from them, and the estimated duration; nothing
// is created.
func PlanText(ctx context.Context, o Options) (string, error) {
	o = withDefaults(o)
	exp, values, err := Validate(o)
	if err != nil {
		return "", err
	}
	prefix := names.Prefix(names.Project, o.Stack)
	backend := o.backend
	if backend == nil {
		backend, _ = infra.NewBackend(exp, prefix)
	}
	specs, _ := infra.Plan(exp, prefix)
	if exp.Search != nil {
		return searchPlanText(ctx, o, exp, values, backend, specs)
	}
	plan, err := planWaves(ctx, backend, specs)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s: %d node(s) in %d wave(s) on backend %s\n", o.Stack, len(specs), plan.Rounds, backend.Name())
	writePlanWaves(&b, plan, "")
	fmt.Fprintf(&b, "estimated duration: %s%s\n", (time.Duration(plan.EstimatedSeconds) * time.Second).String(), unmeasured(specs))
	return b.String(), nil
}

// searchPlanText is `footprint plan` of a search: its first step, which
// nothing found yet decides, and the most the whole search can take.
func searchPlanText(ctx context.Context, o Options, exp config.Experiment, values map[string]string, backend machine.Backend, specs []machine.Spec) (string, error) {
	s, err := newSearchSchedule(ctx, o, exp, values, backend, specs, report.Run{})
	if err != nil {
		return "", err
	}
	_, first, err := s.step(ctx, backend, report.Run{}, nil)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s: %s on backend %s\n", o.Stack, s.about(), backend.Name())
	writePlanWaves(&b, first, "step 1, ")
	fmt.Fprintf(&b, "later steps try sizes by what the earlier ones found: at most %d step(s) in %d wave(s) in all\n", s.worst.steps, s.worst.waves)
	fmt.Fprintf(&b, "estimated duration: at most %s%s\n", (time.Duration(s.worst.seconds) * time.Second).String(), unmeasured(specs))
	return b.String(), nil
}

// writePlanWaves writes a line per wave: its host, guests, memory, nodes.
func writePlanWaves(b *strings.Builder, plan waves.Plan, prefix string) {
	for _, w := range plan.Waves {
		mem := 0
		var nodes []string
		for _, c := range w.Cells {
			mem += c.MemoryMiB
			nodes = append(nodes, c.Node)
		}
		fmt.Fprintf(b, "%swave %d on %s: %d guest(s), %d MiB: %s\n", prefix, w.Round, orHost(w.Host), len(w.Cells), mem, strings.Join(nodes, ", "))
	}
}

// unmeasured says which profiles' durations are assumed.
func unmeasured(specs []machine.Spec) string {
	var names []string
	for _, s := range specs {
		if p, ok := profiles.Get(s.Profile); ok && p.TypicalSeconds == 0 && !slices.Contains(names, s.Profile) {
			names = append(names, s.Profile)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s unmeasured: assumed %d min each)", strings.Join(names, ", "), unmeasuredSeconds/60)
}

func orHost(h string) string {
	if h == "" {
		return "the backend"
	}
	return h
}

// planWaves plans the machines on the backend's hosts; a backend without
// the Capacity capability gets one wave of everything.
func planWaves(ctx context.Context, b machine.Backend, specs []machine.Spec) (waves.Plan, error) {
	hosts, known, err := hostsOf(ctx, b)
	if err != nil {
		return waves.Plan{}, err
	}
	return planOn(cells(specs), hosts, known)
}

// hostsOf are the backend's hosts and their capacity, known only where the
// backend has the Capacity capability.
func hostsOf(ctx context.Context, b machine.Backend) ([]waves.Host, bool, error) {
	c, ok := b.(machine.Capacity)
	if !ok {
		return nil, false, nil
	}
	hosts, err := c.Hosts(ctx)
	return hosts, true, err
}

// planOn plans the cells on the hosts; where their capacity is not known,
// in one wave.
func planOn(cs []waves.Cell, hosts []waves.Host, known bool) (waves.Plan, error) {
	if !known {
		return waves.Plan{Waves: []waves.Wave{{Round: 1, Cells: cs}}, Rounds: 1, EstimatedSeconds: longest(cs)}, nil
	}
	return waves.Make(cs, hosts)
}

func cells(specs []machine.Spec) []waves.Cell {
	out := make([]waves.Cell, len(specs))
	for i, s := range specs {
		secs := float64(unmeasuredSeconds)
		if p, ok := profiles.Get(s.Profile); ok && p.TypicalSeconds > 0 {
			secs = float64(p.TypicalSeconds)
		}
		out[i] = waves.Cell{Node: s.Node, Profile: s.Profile, MemoryMiB: s.MemoryMiB, VCPUs: s.VCPUs, Repeat: s.Repeat, Seconds: secs}
	}
	return out
}

func longest(cs []waves.Cell) float64 {
	m := 0.0
	for _, c := range cs {
		m = max(m, c.Seconds)
	}
	return m
}

func nodeNames(specs []machine.Spec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Node
	}
	return out
}

// openRun is a new run folder, or with Options.Resume the folder of an
// earlier run and what it holds.
func openRun(o Options) (report.Run, string, error) {
	if o.Resume == "" {
		id, dir, err := newRunDir(o.RunsDir, o.Stack)
		return report.Run{ID: id, Stack: o.Stack, StartedAt: time.Now().UTC()}, dir, err
	}
	dir, err := filepath.Abs(o.Resume)
	if err != nil {
		return report.Run{}, "", err
	}
	prev, err := report.Read(dir)
	if err == nil {
		err = report.CheckNodeNames(dir, prev) // the run is written back into dir
	}
	if err != nil {
		return report.Run{}, "", fmt.Errorf("--resume %s: %w", o.Resume, err)
	}
	if prev.Stack != o.Stack {
		return report.Run{}, "", fmt.Errorf("--resume %s: a run of stack %s, not %s", o.Resume, prev.Stack, o.Stack)
	}
	return prev, dir, nil
}

// lacking are the specs without a final result among nodes: never run, no
// output, or never answered. A node that failed or went unresponsive has
// its finding and is not run again.
func lacking(specs []machine.Spec, nodes []results.Result) []machine.Spec {
	have := map[string]bool{}
	for _, r := range nodes {
		have[r.Node] = done(r)
	}
	var out []machine.Spec
	for _, s := range specs {
		if !have[s.Node] {
			out = append(out, s)
		}
	}
	return out
}

// done says whether a node's record is its final finding: a timeout is
// not, its node runs again.
func done(r results.Result) bool { return r.Final() && r.Status != results.StatusTimeout }

// waveRunner runs one wave after the other on the same stack.
type waveRunner struct {
	o       Options
	stack   Stack
	backend machine.Backend // without the hosts lost so far
	prefix  string
	runDir  string
	log     io.Writer
	say     func(string, ...any)
	live    []string // the plan's hosts that still answer
	// wavesBefore is the last wave of the run being resumed: a resume's
	// waves follow it, so a wave's number names one set of machines.
	wavesBefore int
	held        locks // the stack's, without which nothing is swept
	folder      *runFolder
	// derive brings what the schedule derives from the nodes (a search's
	// record) into the run before each write.
	derive func(*report.Run)
}

// wave creates the machines of one round (footprint:only), records what
// they measured into run and onto disk, and destroys them.
func (w *waveRunner) wave(ctx context.Context, run *report.Run, plan waves.Plan, round int, all []machine.Spec) (upErr, destroyErr error) {
	bg := context.WithoutCancel(ctx) // teardown must survive an interrupt
	specs, hosts := roundSpecs(plan, round, all, w.live)
	if len(specs) == 0 {
		w.say("wave %d of %d: nothing to run, its hosts are lost", round, plan.Rounds)
		return nil, nil
	}
	only, _ := json.Marshal(nodeNames(specs))
	placement, _ := json.Marshal(hosts)
	if err := w.stack.SetAllConfig(bg, auto.ConfigMap{
		config.Namespace + ":" + config.KeyOnly:      auto.ConfigValue{Value: string(only)},
		config.Namespace + ":" + config.KeyPlacement: auto.ConfigValue{Value: string(placement)},
	}); err != nil {
		return err, nil
	}
	if plan.Rounds > 1 {
		w.say("wave %d of %d: %s", round, plan.Rounds, strings.Join(nodeNames(specs), ", "))
	}
	attempts := w.folder.begin(specs)
	start := time.Now()
	w.say("creating %d machine(s)", len(specs))
	from := logSize(w.log)
	_, upErr = w.stack.Up(ctx, optup.ProgressStreams(w.log), optup.ContinueOnError(), optup.SuppressOutputs())
	run.Timings.UpSeconds += time.Since(start).Seconds()
	if upErr != nil {
		// The CLI's own error ends in its empty stderr: the cause is among
		// the diagnostics it wrote to pulumi.log.
		why := strings.Join(diagnosticsFrom(filepath.Join(w.runDir, "pulumi.log"), from, 5), " | ")
		if why == "" {
			why = lastLines(upErr.Error(), 5)
		}
		run.Errors = append(run.Errors, fmt.Sprintf("up (wave %d): %s", round, why))
		w.say("up failed: %s", why)
	}
	nodes, exp := w.results(bg, run, specs, attempts)
	nodes = accountForEveryNode(bg, nodes, specs, w.backend, w.folder)
	for i := range nodes {
		if m := nodes[i].Machine; m != nil {
			m.Wave, m.Host = w.wavesBefore+round, hosts[nodes[i].Node]
		}
	}
	merge(run, nodes)
	if w.derive != nil {
		w.derive(run)
	}
	if exp != nil {
		run.Experiment = exp
	}
	run.FinishedAt = time.Now().UTC()
	// Everything measured is on disk before anything is torn down; a report
	// that fails to render must not keep the machines alive.
	if err := report.Write(w.runDir, *run); err != nil {
		w.say("writing %s: %v", w.runDir, err)
	}
	if w.o.Keep {
		w.say("--keep: machines left running; remove them with: footprint destroy --stack %s", w.o.Stack)
		return upErr, nil
	}
	w.say("destroying")
	start = time.Now()
	destroyErr = w.teardown(bg, run, round, hosts)
	run.Timings.DestroySeconds += time.Since(start).Seconds()
	if destroyErr != nil {
		run.Errors = append(run.Errors, "destroy: "+lastLines(destroyErr.Error(), 5))
		return upErr, destroyErr
	}
	forget(w.backend, specs)
	w.say("destroyed in %.1f s", time.Since(start).Seconds())
	return upErr, nil
}

// results are what the wave's nodes measured, and the record's file of
// each: what they saved as it arrived, else the stack's outputs.
func (w *waveRunner) results(ctx context.Context, run *report.Run, specs []machine.Spec, attempts map[string]int) ([]results.Result, map[string]any) {
	outputs, exp := readOutputs(ctx, w.stack, w.say)
	saved, err := savedResults(w.runDir, attempts)
	if err != nil {
		w.say("reading the results saved in %s: %v", filepath.Join(w.runDir, nodesDir), err)
	}
	for _, s := range specs {
		if sv, ok := saved[s.Node]; ok {
			setResultFile(run, s.Node, sv.file)
		} else {
			delete(run.ResultFiles, s.Node) // the record no longer shows that file's result
		}
	}
	return waveResults(outputs, saved, specs), exp
}

// teardown destroys a wave's machines. Where that keeps failing and some
// of the wave's hosts no longer answer while others do, the stack forgets
// what it has on the lost ones, destroys the rest and goes on without them.
func (w *waveRunner) teardown(ctx context.Context, run *report.Run, round int, placement map[string]string) error {
	err := retryDestroy(ctx, w.stack, w.log, w.say)
	if err == nil {
		return nil
	}
	if hl, ok := w.backend.(machine.HostLoss); ok {
		lost := lostHosts(ctx, hl, distinctHosts(placement))
		if len(lost) > 0 && len(lost) < len(w.live) {
			if ferr := w.abandon(ctx, run, round, hl, lost); ferr != nil {
				return fmt.Errorf("%w; %v", err, ferr)
			}
			if err = destroy(ctx, w.stack, w.log); err == nil {
				return nil
			}
		}
	}
	return sweepInstead(ctx, w.held, w.stack, w.backend, w.prefix, w.say, err)
}

// abandon forgets the lost hosts: their resources leave the stack's state,
// they leave the backend, and their cells of later waves are not run.
func (w *waveRunner) abandon(ctx context.Context, run *report.Run, round int, hl machine.HostLoss, lost map[string]error) error {
	var hosts []string
	for h := range lost {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		dropped, err := forgetHosts(ctx, w.stack, hl, []string{h})
		if err != nil {
			return err
		}
		why := lastLines(lost[h].Error(), 1)
		w.say("host %s does not answer (%s): lost in wave %d; the stack forgets its %d resource(s) there and goes on without it", h, why, round, len(dropped))
		run.Lost = append(run.Lost, report.LostHost{Host: h, Wave: round, Error: why, Left: dropped})
		w.live = slices.DeleteFunc(w.live, func(l string) bool { return l == h })
	}
	w.backend = hl.Only(w.live)
	return nil
}

// roundSpecs are the specs of a round's waves on the live hosts, in plan
// order, and the host of each node.
func roundSpecs(plan waves.Plan, round int, all []machine.Spec, live []string) ([]machine.Spec, map[string]string) {
	hosts := map[string]string{}
	for _, w := range plan.Waves {
		if w.Round == round && (w.Host == "" || slices.Contains(live, w.Host)) {
			for _, c := range w.Cells {
				hosts[c.Node] = w.Host
			}
		}
	}
	var out []machine.Spec
	for _, s := range all {
		if h, ok := hosts[s.Node]; ok {
			s.Host = h // where the backend finds what it kept of the machine
			out = append(out, s)
		}
	}
	return out, hosts
}

// lastWave is the highest wave among nodes, 0 for none.
func lastWave(nodes []results.Result) int {
	last := 0
	for _, n := range nodes {
		if n.Machine != nil {
			last = max(last, n.Machine.Wave)
		}
	}
	return last
}

// merge puts a wave's results into the run, replacing a node's earlier
// record (a resumed run's timeout) by the new one.
func merge(run *report.Run, nodes []results.Result) {
	for _, r := range nodes {
		i := slices.IndexFunc(run.Nodes, func(o results.Result) bool { return o.Node == r.Node })
		if i >= 0 {
			run.Nodes[i] = r
		} else {
			run.Nodes = append(run.Nodes, r)
		}
	}
	sort.Slice(run.Nodes, func(i, j int) bool { return run.Nodes[i].Node < run.Nodes[j].Node })
}

// diagnosticsFrom are the last n distinct errors Pulumi wrote to its log
// after offset from, each an "error:" line with the "* cause" lines under
// it.
func diagnosticsFrom(path string, from int64, n int) []string {
	data, err := os.ReadFile(path)
	if err != nil || from > int64(len(data)) {
		return nil
	}
	data = data[from:]
	var out []string
	cur := ""
	flush := func() {
		if cur != "" && !slices.Contains(out, cur) {
			out = append(out, cur)
		}
		cur = ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "error: "):
			flush()
			cur = line
		case cur != "" && strings.HasPrefix(line, "* "):
			cur += " " + line
		default:
			flush()
		}
	}
	flush()
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
