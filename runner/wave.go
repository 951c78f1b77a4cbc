package runner

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/image"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
	"github.com/footprint-dev/footprint/runner/progress"
	"github.com/footprint-dev/footprint/waves"
)

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

// waveRunner runs one wave after the other on the same stack, each a
// view of the prepared stack that the program is handed.
type waveRunner struct {
	o       Options
	p       *infra.Prepared
	stack   Stack
	backend machine.Backend // the stack's, without the hosts lost so far
	secrets config.Secrets
	img     image.Resolved
	runDir  string
	log     io.Writer
	say     func(string, ...any)
	track   *progress.Tracker
	live    []string // the plan's hosts that still answer
	// wavesBefore is the last wave of the run being resumed: a resume's
	// waves follow it, so a wave's number names one set of machines.
	wavesBefore int
	held        locks // the stack's, without which nothing is swept
	folder      *runFolder
	// derive brings what the schedule derives from the nodes (a search's
	// record) into the run before each write.
	derive func(*record.Run)
}

func newWaveRunner(s *session, stack Stack, log io.Writer, secrets config.Secrets, track *progress.Tracker, held locks) *waveRunner {
	return &waveRunner{o: s.o, p: s.p, stack: stack, backend: s.p.Backend, secrets: secrets, img: s.img, runDir: s.dir,
		log: log, say: s.say, track: track, live: s.sched.hosts(), wavesBefore: lastWave(s.rec.Nodes), held: held,
		folder: newRunFolder(s.dir, s.say), derive: s.sched.derive}
}

// program is the program of one wave: its nodes of the prepared stack,
// each result saved and shown the moment it arrives.
func (w *waveRunner) program(ctx context.Context, specs []machine.Spec) pulumi.RunFunc {
	opts := infra.Options{
		Stack: w.p, Nodes: specs, Secrets: w.secrets, Image: w.img,
		Context: ctx, ProjectDir: w.o.ProjectDir, Progress: w.track.Console,
		OnResult: func(r results.Result) {
			w.folder.saveResult(r)
			w.track.Result(r)
			if r.Collection != nil && r.Collection.Error != "" {
				w.say("node %s: %s; last console line: %s", r.Node, r.Collection.Error, r.Collection.LastConsoleLine)
			}
		},
	}
	if w.o.onProgram != nil {
		w.o.onProgram(opts)
	}
	return infra.New(opts)
}

// wave creates the machines of one round, records what they measured into
// run and onto disk, and destroys them. Machines that the up failed to
// create get one more wave of their own: the provider's failures are
// mostly passing ones (a cloud-init disk read back short while its pool
// is busy), and a run should not end short of a node for one of them.
func (w *waveRunner) wave(ctx context.Context, run *record.Run, plan waves.Plan, round int, all []machine.Spec) (upErr, destroyErr error) {
	specs, hosts := roundSpecs(plan, round, all, w.live)
	if len(specs) == 0 {
		w.say("wave %d of %d: nothing to run, its hosts are lost", round, plan.Rounds)
		return nil, nil
	}
	if plan.Rounds > 1 {
		w.say("wave %d of %d: %s", round, plan.Rounds, strings.Join(nodeNames(specs), ", "))
	}
	upErr, destroyErr = w.machines(ctx, run, specs, round, hosts)
	again := w.unborn(specs)
	if upErr == nil || destroyErr != nil || len(again) == 0 || ctx.Err() != nil || w.o.Keep {
		return upErr, destroyErr
	}
	w.wavesBefore++ // the retry's machines are a set of their own, and later waves follow it
	w.say("not created: %s; trying once more", strings.Join(nodeNames(again), ", "))
	return w.machines(ctx, run, again, round, hosts)
}

// unborn are the specs on hosts that still answer whose program handed
// nothing over: their machines were never made.
func (w *waveRunner) unborn(specs []machine.Spec) []machine.Spec {
	var out []machine.Spec
	for _, s := range specs {
		if _, ok := w.folder.arrived(s.Node); !ok && (s.Host == "" || slices.Contains(w.live, s.Host)) {
			out = append(out, s)
		}
	}
	return out
}

// machines creates specs' machines, records what they measured into run
// and onto disk, and destroys them.
func (w *waveRunner) machines(ctx context.Context, run *record.Run, specs []machine.Spec, round int, hosts map[string]string) (upErr, destroyErr error) {
	bg := context.WithoutCancel(ctx) // teardown must survive an interrupt
	w.folder.begin(specs)
	w.stack.SetProgram(w.program(ctx, specs))
	start := time.Now()
	w.say("creating %d machine(s)", len(specs))
	from := logSize(w.log)
	_, upErr = w.stack.Up(ctx, optup.ProgressStreams(w.log), optup.ContinueOnError(), optup.SuppressOutputs())
	run.Timings.UpSeconds += time.Since(start).Seconds()
	if upErr != nil {
		// The CLI's own error ends in its empty stderr: the cause is among
		// the diagnostics it wrote to pulumi.log.
		upErr = pulumiFailure(upErr, filepath.Join(w.runDir, "pulumi.log"), from, 5)
		run.Errors = append(run.Errors, fmt.Sprintf("up (wave %d): %v", w.wavesBefore+round, upErr))
		w.say("up failed: %v", upErr)
	}
	w.keep(bg, run, specs, round, hosts)
	if w.o.Keep {
		w.say("--keep: machines left running; remove them with: footprint destroy --stack %s", w.o.Stack)
		return upErr, nil
	}
	w.say("destroying")
	start = time.Now()
	destroyErr = w.teardown(bg, run, round, hosts)
	run.Timings.DestroySeconds += time.Since(start).Seconds()
	if destroyErr != nil {
		run.Errors = append(run.Errors, fmt.Sprintf("destroy: %v", destroyErr))
		return upErr, destroyErr
	}
	forget(w.backend, specs)
	w.say("destroyed in %.1f s", time.Since(start).Seconds())
	return upErr, nil
}

// keep puts what the wave's nodes measured into run and onto disk:
// everything measured is there before anything is torn down, and a report
// that fails to render must not keep the machines alive.
func (w *waveRunner) keep(ctx context.Context, run *record.Run, specs []machine.Spec, round int, hosts map[string]string) {
	nodes := w.results(run, specs)
	nodes = accountForEveryNode(ctx, nodes, specs, w.backend, w.folder)
	for i := range nodes {
		if m := nodes[i].Machine; m != nil {
			m.Wave, m.Host = w.wavesBefore+round, hosts[nodes[i].Node]
		}
	}
	merge(run, nodes)
	if w.derive != nil {
		w.derive(run)
	}
	run.FinishedAt = time.Now().UTC()
	if err := writeRecord(w.runDir, *run); err != nil {
		w.say("writing %s: %v", w.runDir, err)
	}
}

// results are what the wave's nodes measured, as the program handed them
// over, and the record's file of each.
func (w *waveRunner) results(run *record.Run, specs []machine.Spec) []results.Result {
	var out []results.Result
	for _, s := range specs {
		got, ok := w.folder.arrived(s.Node)
		if got.file != "" {
			setResultFile(run, s.Node, got.file)
		} else {
			delete(run.ResultFiles, s.Node) // the record no longer shows that file's result
		}
		if ok {
			out = append(out, got.result)
		}
	}
	return out
}

// teardown destroys a wave's machines. Where that keeps failing and some
// of the wave's hosts no longer answer while others do, the stack forgets
// what it has on the lost ones, destroys the rest and goes on without them.
func (w *waveRunner) teardown(ctx context.Context, run *record.Run, round int, placement map[string]string) error {
	err := retryDestroy(ctx, w.stack, w.log, w.say)
	if err == nil {
		return nil
	}
	if hl, ok := w.backend.(machine.HostLoss); ok {
		lost := lostHosts(ctx, hl, distinctHosts(placement))
		if len(lost) > 0 && len(lost) < len(w.live) {
			if ferr := w.abandon(ctx, run, round, hl, lost); ferr != nil {
				return fmt.Errorf("%w; %w", err, ferr)
			}
			if err = destroy(ctx, w.stack, w.log); err == nil {
				return nil
			}
		}
	}
	return sweepInstead(ctx, w.held, w.stack, w.backend, w.p.Prefix, w.say, err)
}

// abandon forgets the lost hosts: their resources leave the stack's state,
// they leave the backend, and their cells of later waves are not run.
func (w *waveRunner) abandon(ctx context.Context, run *record.Run, round int, hl machine.HostLoss, lost map[string]error) error {
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
		why := tail(lost[h].Error(), 1)
		w.say("host %s does not answer (%s): lost in wave %d; the stack forgets its %d resource(s) there and goes on without it", h, why, round, len(dropped))
		run.Lost = append(run.Lost, record.LostHost{Host: h, Wave: round, Error: why, Left: dropped})
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
func merge(run *record.Run, nodes []results.Result) {
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

// accountForEveryNode keeps a record for every planned node, even one that
// produced no output at all, and saves into the run folder what the backend
// kept of each machine: its console, its virtual hardware.
func accountForEveryNode(ctx context.Context, nodes []results.Result, specs []machine.Spec, b machine.Backend, folder *runFolder) []results.Result {
	byNode := map[string]int{}
	for i, r := range nodes {
		byNode[r.Node] = i
	}
	rec, _ := b.(machine.Recorder)
	for _, s := range specs {
		saved := ""
		if rec != nil {
			saved = folder.record(ctx, rec, s)
		}
		i, ok := byNode[s.Node]
		if !ok {
			nodes = append(nodes, results.Result{Node: s.Node, Profile: s.Profile,
				Machine:    &results.Machine{Name: s.Name, Address: s.Address.String(), VCPUs: s.VCPUs, MemoryMiB: s.MemoryMiB, Repeat: s.Repeat, DiskGiB: s.DiskGiB, Backend: b.Name()},
				Collection: &results.Collection{Error: "the stack produced no output for this node"}})
			i = len(nodes) - 1
		}
		if saved != "" {
			if nodes[i].Collection == nil {
				nodes[i].Collection = &results.Collection{}
			}
			nodes[i].Collection.LastConsoleLine = results.LastConsoleLine(saved)
			if nodes[i].Status != results.StatusOK && len(nodes[i].Collection.ConsoleTail) == 0 {
				nodes[i].Collection.ConsoleTail = results.ConsoleTail(saved, 30)
			}
		}
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Node < nodes[j].Node })
	return nodes
}

func allOK(nodes []results.Result) bool {
	if len(nodes) == 0 {
		return false
	}
	for _, r := range nodes {
		if r.Status != results.StatusOK {
			return false
		}
	}
	return true
}
