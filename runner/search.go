package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
	"github.com/footprint-dev/footprint/search"
	"github.com/footprint-dev/footprint/waves"
)

// A search (footprint:search) runs in steps: each step tries, for every
// system whose answer is not found yet, the sizes search.State.Next gives,
// as many per system as the hosts run in one round (one, bisection, when
// even that takes more), and the next step starts from everything found
// so far: the nodes of the run, read back by --resume as well. A size that
// gave no finding in this run (the collector gave up) is not tried again
// in it; --resume tries it again, as it does every timed-out node.

// searchSchedule is footprint:search as a run's schedule.
type searchSchedule struct {
	cfg     config.Search
	grid    []int
	systems []string                          // in footprint:profiles' order
	cellsOf map[string]map[int][]machine.Spec // system -> size -> its repeats
	hostIDs []string
	worst   worstCase
}

// worstCase is the most a search can take from where it stands.
type worstCase struct {
	steps, waves int
	seconds      float64
}

func newSearchSchedule(ctx context.Context, o Options, p *infra.Prepared, all []machine.Spec, run record.Run) (*searchSchedule, error) {
	if len(o.Only) > 0 {
		return nil, fmt.Errorf("--only: a search chooses each wave's nodes itself; name its systems with %s:%s", config.Namespace, config.KeyProfiles)
	}
	exp, b := p.Experiment, p.Backend
	s := &searchSchedule{cfg: *exp.Search, grid: exp.Sizes(), systems: exp.Profiles, cellsOf: map[string]map[int][]machine.Spec{}}
	for _, sp := range all {
		sys := systemOf(sp)
		if s.cellsOf[sys] == nil {
			s.cellsOf[sys] = map[int][]machine.Spec{}
		}
		s.cellsOf[sys][sp.MemoryMiB] = append(s.cellsOf[sys][sp.MemoryMiB], sp)
	}
	hosts, known, err := hostsOf(ctx, b)
	if err != nil {
		return nil, err
	}
	for _, h := range hosts {
		s.hostIDs = append(s.hostIDs, h.Name)
	}
	slices.Sort(s.hostIDs)
	if s.worst, err = s.worstFrom(run, hosts, known); err != nil {
		return nil, err
	}
	if o.Keep && s.worst.waves > 1 {
		return nil, fmt.Errorf("--keep: the search runs in up to %d waves, and only one can be kept", s.worst.waves)
	}
	return s, nil
}

// systemOf is the name of footprint:profiles a node measures.
func systemOf(s machine.Spec) string {
	if s.Variant != "" {
		return s.Variant
	}
	return s.Profile
}

// states are every system's search, from the run's nodes.
func (s *searchSchedule) states(run record.Run) []search.State {
	byNode := map[string]results.Result{}
	for _, r := range run.Nodes {
		byNode[r.Node] = r
	}
	out := make([]search.State, 0, len(s.systems))
	for _, sys := range s.systems {
		bySize := map[int][]results.Result{}
		for size, specs := range s.cellsOf[sys] {
			for _, sp := range specs {
				if r, ok := byNode[sp.Node]; ok {
					bySize[size] = append(bySize[size], r)
				}
			}
		}
		out = append(out, search.Observe(sys, s.grid, s.cfg.Repeats, bySize))
	}
	return out
}

func (s *searchSchedule) finished(run record.Run) string {
	if s.ok(run) {
		return "the search has every system's answer already"
	}
	return ""
}

func (s *searchSchedule) about() string {
	return fmt.Sprintf("a search of %d system(s) over %d–%d MiB in steps of %d MiB (%d sizes), each size %d time(s): at most %d wave(s)",
		len(s.systems), s.cfg.MinMiB, s.cfg.MaxMiB, s.cfg.ResolutionMiB, len(s.grid), s.cfg.Repeats, s.worst.waves)
}

// nodes: a search's nodes are known only as it goes; the display adds each
// as it reports.
func (s *searchSchedule) nodes() []string { return nil }

func (s *searchSchedule) hosts() []string { return s.hostIDs }

func (s *searchSchedule) derive(run *record.Run) {
	rec := &search.Record{MinMiB: s.cfg.MinMiB, MaxMiB: s.cfg.MaxMiB, ResolutionMiB: s.cfg.ResolutionMiB, Repeats: s.cfg.Repeats}
	for _, st := range s.states(*run) {
		rec.Systems = append(rec.Systems, st.Record())
	}
	run.Search = rec
}

// notRun are the nodes each unfinished system tries next, one size each.
func (s *searchSchedule) notRun(run record.Run) []string {
	return nodeNames(s.probes(s.states(run), 1, nil, run.Nodes))
}

func (s *searchSchedule) ok(run record.Run) bool {
	for _, st := range s.states(run) {
		if !st.Done() {
			return false
		}
	}
	return true
}

// probes are the nodes of every unfinished system's next sizes, k at most
// each: every repeat of a size that has no finding among nodes (a repeat
// that has one is not run again); tried says which nodes ran in this run.
func (s *searchSchedule) probes(states []search.State, k int, tried map[string]bool, nodes []results.Result) []machine.Spec {
	var out []machine.Spec
	for _, st := range states {
		sizes := s.cellsOf[st.System]
		skip := func(size int) bool {
			return slices.ContainsFunc(sizes[size], func(sp machine.Spec) bool { return tried[sp.Node] })
		}
		for _, size := range st.Next(k, skip) {
			out = append(out, lacking(sizes[size], nodes)...)
		}
	}
	return out
}

// drive runs step after step until every system has its answer, nothing is
// left to try in this run, or the run is interrupted.
func (s *searchSchedule) drive(ctx context.Context, w *waveRunner, run *record.Run) (upErr, destroyErr error) {
	tried := map[string]bool{}
	for step := 1; ctx.Err() == nil; step++ {
		specs, plan, err := s.step(ctx, w.backend, *run, tried)
		if err != nil {
			return err, nil
		}
		if len(specs) == 0 {
			return upErr, nil
		}
		before, firstWave := decided(s.states(*run)), w.wavesBefore+1
		w.say("search step %d: %s", step, probesText(specs))
		var stepErr error
		for round := 1; round <= plan.Rounds && ctx.Err() == nil; round++ {
			up, destroyed := w.wave(ctx, run, plan, round, specs)
			if up != nil {
				upErr, stepErr = up, up
			}
			if destroyed != nil {
				return upErr, destroyed // the next wave would meet what this one left
			}
		}
		w.wavesBefore += plan.Rounds
		ran := ranSince(*run, firstWave)
		for _, sp := range specs {
			tried[sp.Node] = tried[sp.Node] || ran[sp.Node]
		}
		if len(ran) == 0 && ctx.Err() == nil {
			w.say("search step %d: no machine ran; stopping (--resume tries those sizes again)", step)
			return upErr, nil
		}
		if stepErr != nil && decided(s.states(*run)) == before {
			// The machines were not made: other sizes would fare no
			// better. (Machines that never answered are another matter:
			// the next step tries the sizes beside theirs.)
			w.say("search step %d: the up failed and nothing was found; stopping (--resume tries those sizes again)", step)
			return upErr, nil
		}
	}
	return upErr, nil
}

// ranSince are the nodes recorded in a wave from first on: those a step
// ran. A node a lost host did not run is not among them, and the next step
// places it on a host that answers.
func ranSince(run record.Run, first int) map[string]bool {
	out := map[string]bool{}
	for _, r := range run.Nodes {
		if r.Machine != nil && r.Machine.Wave >= first {
			out[r.Node] = true
		}
	}
	return out
}

// decided is how many sizes have a verdict, over every system.
func decided(states []search.State) int {
	n := 0
	for _, st := range states {
		for _, t := range st.Record().Tried {
			if t.Verdict != search.Undecided {
				n++
			}
		}
	}
	return n
}

// step plans the next step: the most sizes per system that still run in
// the fewest rounds the hosts allow.
func (s *searchSchedule) step(ctx context.Context, b machine.Backend, run record.Run, tried map[string]bool) ([]machine.Spec, waves.Plan, error) {
	states := s.states(run)
	specs := s.probes(states, 1, tried, run.Nodes)
	if len(specs) == 0 {
		return nil, waves.Plan{}, nil
	}
	hosts, known, err := hostsOf(ctx, b)
	if err != nil {
		return nil, waves.Plan{}, err
	}
	plan, err := planOn(cells(specs), hosts, known)
	if err != nil || !known || plan.Rounds > 1 {
		return specs, plan, err
	}
	for k := 2; ; k++ {
		more := s.probes(states, k, tried, run.Nodes)
		if len(more) == len(specs) {
			return specs, plan, nil // no system has more sizes left
		}
		wider, err := waves.Make(cells(more), hosts)
		if err != nil || wider.Rounds > 1 {
			return specs, plan, nil
		}
		specs, plan = more, wider
	}
}

// probesText is "docker at 512, 768 MiB; k3s at 1024 MiB".
func probesText(specs []machine.Spec) string {
	var order []string
	sizes := map[string][]string{}
	for _, sp := range specs {
		sys := systemOf(sp)
		if _, ok := sizes[sys]; !ok {
			order = append(order, sys)
		}
		if v := fmt.Sprint(sp.MemoryMiB); !slices.Contains(sizes[sys], v) {
			sizes[sys] = append(sizes[sys], v)
		}
	}
	parts := make([]string, len(order))
	for i, sys := range order {
		parts[i] = fmt.Sprintf("%s at %s MiB", sys, strings.Join(sizes[sys], ", "))
	}
	return strings.Join(parts, "; ")
}

// worstFrom is the most steps, waves and time the search can take from
// where run stands: every unfinished system tries sizes of the range's
// largest (the hardest to pack, so that a real step packs at least as many
// sizes per system) among the most answers any system has left.
func (s *searchSchedule) worstFrom(run record.Run, hosts []waves.Capacity, known bool) (worstCase, error) {
	var open []search.State
	m := 1
	for _, st := range s.states(run) {
		if !st.Done() {
			open = append(open, st)
			m = max(m, st.Candidates())
		}
	}
	var wc worstCase
	for m > 1 {
		k, plan, err := s.widest(open, m, hosts, known)
		if err != nil {
			return worstCase{}, err
		}
		wc.steps++
		wc.waves += plan.Rounds
		wc.seconds += plan.EstimatedSeconds
		m = search.Narrowed(m, k)
	}
	return wc, nil
}

// widest is the most sizes per system, and their plan, that a step among m
// answers runs in the fewest rounds.
func (s *searchSchedule) widest(open []search.State, m int, hosts []waves.Capacity, known bool) (int, waves.Plan, error) {
	plan, err := planOn(s.worstCells(open, 1), hosts, known)
	if err != nil || !known || plan.Rounds > 1 {
		return 1, plan, err
	}
	k := 1
	for k+1 <= m-1 {
		wider, err := waves.Make(s.worstCells(open, k+1), hosts)
		if err != nil || wider.Rounds > 1 {
			break
		}
		k, plan = k+1, wider
	}
	return k, plan, nil
}

// worstCells are k sizes per system at the range's largest size, every
// repeat.
func (s *searchSchedule) worstCells(open []search.State, k int) []waves.Cell {
	largest := s.grid[len(s.grid)-1]
	var out []waves.Cell
	for _, st := range open {
		for j := 0; j < k; j++ {
			for _, c := range cells(s.cellsOf[st.System][largest]) {
				c.Node = fmt.Sprintf("%s-probe%d", c.Node, j+1)
				out = append(out, c)
			}
		}
	}
	return out
}
