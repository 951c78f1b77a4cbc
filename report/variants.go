package report

import (
	"fmt"
	"strings"

	"github.com/footprint-dev/footprint/results"
)

// VariantPair is a variant beside its profile's defaults at one VM size,
// both measured in the same run: what choosing the options changed.
type VariantPair struct {
	Variant   Group
	Base      Group
	Options   []string
	MemoryMiB int
}

// Change is one phase's used memory of a pair: the base's and the variant's
// medians, and variant − base in MiB and per cent of the base.
type Change struct {
	BaseMiB, VariantMiB, DeltaMiB, DeltaPercent float64
}

// VariantPairs are the run's variants that have their profile's defaults at
// the same size, by size and then variant name (the groups' order).
func VariantPairs(groups []Group) []VariantPair {
	type key struct {
		size    int
		profile string
	}
	bases := map[key]Group{}
	for _, g := range groups {
		if len(g.Nodes) > 0 && g.Nodes[0].Variant == nil {
			bases[key{g.MemoryMiB, g.Profile}] = g
		}
	}
	var out []VariantPair
	for _, g := range groups {
		if len(g.Nodes) == 0 || g.Nodes[0].Variant == nil {
			continue
		}
		first := g.Nodes[0]
		if base, ok := bases[key{g.MemoryMiB, first.Profile}]; ok {
			out = append(out, VariantPair{Variant: g, Base: base, Options: first.Variant.OptionNames(), MemoryMiB: g.MemoryMiB})
		}
	}
	return out
}

// Change is the pair's change in a phase; ok is false unless both have
// samples in it.
func (p VariantPair) Change(phase results.PhaseName) (Change, bool) {
	b, ok1 := p.Base.Used(phase)
	v, ok2 := p.Variant.Used(phase)
	if !ok1 || !ok2 {
		return Change{}, false
	}
	c := Change{BaseMiB: b.Median, VariantMiB: v.Median, DeltaMiB: v.Median - b.Median}
	if b.Median > 0 {
		c.DeltaPercent = 100 * c.DeltaMiB / b.Median
	}
	return c, true
}

// writeVariants: each variant beside its defaults, the change idle and with
// the workload, and the API verdict of each.
func writeVariants(b *strings.Builder, groups []Group, work string) {
	pairs := VariantPairs(groups)
	if len(pairs) == 0 {
		return
	}
	b.WriteString("\n## Variants against their defaults\n\n" +
		"Each variant beside its profile with the profile's defaults, on the same VM size in the same run. " +
		"Change is variant − defaults, of the medians, in MiB and per cent of the defaults' figure.\n\n" +
		"| VM (MiB) | Variant | Options | Used idle (MiB): defaults → variant | Change idle | " +
		"Used with " + work + " (MiB): defaults → variant | Change with " + work + " | API after " + work + ": defaults → variant |\n" +
		"|---:|---|---|---|---:|---|---:|---|\n")
	for _, p := range pairs {
		idle, idleChange := changeCells(p, results.PhaseIdle)
		work, workChange := changeCells(p, results.PhaseWorkload)
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s | %s → %s |\n", p.MemoryMiB, p.Variant.Profile,
			strings.Join(p.Options, ", "), idle, idleChange, work, workChange,
			orDash(groupAPICell(p.Base)), orDash(groupAPICell(p.Variant)))
	}
}

// changeCells are "base → variant" and the signed change of a phase.
func changeCells(p VariantPair, phase results.PhaseName) (string, string) {
	c, ok := p.Change(phase)
	if !ok {
		return "–", "–"
	}
	return fmt.Sprintf("%.0f → %.0f", c.BaseMiB, c.VariantMiB), signedChange(c)
}

func signedChange(c Change) string {
	return fmt.Sprintf("%+.1f MiB (%+.1f %%)", c.DeltaMiB, c.DeltaPercent)
}
