package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/waves"
)

// unmeasuredSeconds is the estimate of a profile without typicalSeconds.
const unmeasuredSeconds = 600

// PlanText is `footprint plan`: the waves a run of the stack would take on
// the backend's hosts, read from them, and the estimated duration; nothing
// is created.
func PlanText(ctx context.Context, o Options) (string, error) {
	o = withDefaults(o)
	p, err := Validate(o)
	if err != nil {
		return "", err
	}
	specs, err := p.Select(o.Only)
	if err != nil {
		return "", fmt.Errorf("--only: %w", err)
	}
	if p.Experiment.Search != nil {
		return searchPlanText(ctx, o, p, specs)
	}
	backend := p.Backend
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
func searchPlanText(ctx context.Context, o Options, p *infra.Prepared, specs []machine.Spec) (string, error) {
	s, err := newSearchSchedule(ctx, o, p, specs, record.Run{})
	if err != nil {
		return "", err
	}
	backend := p.Backend
	_, first, err := s.step(ctx, backend, record.Run{}, nil)
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
func hostsOf(ctx context.Context, b machine.Backend) ([]waves.Capacity, bool, error) {
	c, ok := b.(machine.Capacity)
	if !ok {
		return nil, false, nil
	}
	capacities, err := c.Hosts(ctx)
	hosts := make([]waves.Capacity, len(capacities))
	for i, h := range capacities {
		hosts[i] = waves.Capacity(h)
	}
	return hosts, true, err
}

// planOn plans the cells on the hosts; where their capacity is not known,
// in one wave.
func planOn(cs []waves.Cell, hosts []waves.Capacity, known bool) (waves.Plan, error) {
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
