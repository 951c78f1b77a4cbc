package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/footprint-dev/footprint/names"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// Group is every node of one profile at one VM size: a single node in the
// seed's run, one per repeat otherwise.
type Group struct {
	Profile   string
	MemoryMiB int              // 0 when no node says and it cannot be inferred
	Nodes     []results.Result // by repeat
}

// Stat is a used-memory figure of a group and phase, in MiB. With one node
// it is the median of that node's samples and their min–max; with several
// repeats it is the median of the repeats' medians and their min–max.
type Stat struct {
	N      int     `json:"n"` // nodes that have samples in the phase
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Where a node belongs. The machine record is authoritative; a node that
// produced nothing may lack it, and then its name says.
// A variant is its own system: its row never merges with its profile's.
func profileOf(r results.Result) string {
	if r.Variant != nil && r.Variant.Name != "" {
		return r.Variant.Name
	}
	if r.Profile != "" && r.Profile != r.Node {
		return r.Profile
	}
	if p := names.ParseNode(r.Node).Profile; p != "" {
		return p
	}
	return r.Profile
}

func sizeOf(r results.Result) int {
	if r.Machine != nil && r.Machine.MemoryMiB > 0 {
		return r.Machine.MemoryMiB
	}
	return names.ParseNode(r.Node).SizeMiB
}

func repeatOf(r results.Result) int {
	if r.Machine != nil && r.Machine.Repeat > 0 {
		return r.Machine.Repeat
	}
	if v := names.ParseNode(r.Node).Repeat; v > 0 {
		return v
	}
	return 1
}

// nodeSizes is the VM size of every node, filling in nodes that do not say
// from the experiment, or from the others when the run has a single size.
func nodeSizes(run record.Run) map[string]int {
	out := map[string]int{}
	known := map[int]bool{}
	for _, r := range run.Nodes {
		if s := sizeOf(r); s > 0 {
			out[r.Node] = s
			known[s] = true
		}
	}
	fallback := 0
	if v, ok := run.Experiment["memoryMiB"]; ok {
		switch n := v.(type) {
		case float64:
			fallback = int(n)
		case int:
			fallback = n
		}
	}
	if len(known) == 1 {
		for s := range known {
			fallback = s
		}
	}
	for _, r := range run.Nodes {
		if out[r.Node] == 0 {
			out[r.Node] = fallback
		}
	}
	return out
}

// Groups splits a run's nodes by VM size and profile, sizes ascending and
// profiles by name within a size.
func Groups(run record.Run) []Group {
	sizes := nodeSizes(run)
	idx := map[string]int{}
	var out []Group
	for _, r := range run.Nodes {
		g := Group{Profile: profileOf(r), MemoryMiB: sizes[r.Node]}
		k := fmt.Sprintf("%d\x00%s", g.MemoryMiB, g.Profile)
		i, ok := idx[k]
		if !ok {
			out = append(out, g)
			i = len(out) - 1
			idx[k] = i
		}
		out[i].Nodes = append(out[i].Nodes, r)
	}
	for _, g := range out {
		sort.SliceStable(g.Nodes, func(i, j int) bool {
			a, b := repeatOf(g.Nodes[i]), repeatOf(g.Nodes[j])
			return a < b || a == b && g.Nodes[i].Node < g.Nodes[j].Node
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MemoryMiB != out[j].MemoryMiB {
			return out[i].MemoryMiB < out[j].MemoryMiB
		}
		return out[i].Profile < out[j].Profile
	})
	return out
}

// Sizes are the distinct VM sizes of the groups, ascending.
func Sizes(groups []Group) []int {
	var out []int
	for _, g := range groups {
		if len(out) == 0 || out[len(out)-1] != g.MemoryMiB {
			out = append(out, g.MemoryMiB)
		}
	}
	return out
}

// Used summarises the used memory of a phase; ok is false when no node of
// the group has samples in it.
func (g Group) Used(phase results.PhaseName) (Stat, bool) {
	var meds []float64
	var one results.Summary
	for _, r := range g.Nodes {
		if s, ok := r.Summarize(phase); ok {
			meds = append(meds, s.UsedMiB)
			one = s
		}
	}
	switch len(meds) {
	case 0:
		return Stat{}, false
	case 1:
		if len(g.Nodes) == 1 {
			return Stat{N: 1, Median: one.UsedMiB, Min: one.UsedMinMiB, Max: one.UsedMaxMiB}, true
		}
	}
	lo, hi := meds[0], meds[0]
	for _, v := range meds {
		lo, hi = min(lo, v), max(hi, v)
	}
	return Stat{N: len(meds), Median: medianF(meds), Min: lo, Max: hi}, true
}

// UsedWithoutPCP is Used less the free pages on the kernel's per-CPU lists
// (docs/baseline.md), of the nodes' medians; ok is false unless every node
// with samples in the phase counted them.
func (g Group) UsedWithoutPCP(phase results.PhaseName) (Stat, bool) {
	var v []float64
	for _, r := range g.Nodes {
		s, ok := r.Summarize(phase)
		if !ok {
			continue
		}
		if !s.HasPCP {
			return Stat{}, false
		}
		v = append(v, s.NetUsedMiB)
	}
	if len(v) == 0 {
		return Stat{}, false
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return Stat{N: len(v), Median: medianF(v), Min: lo, Max: hi}, true
}

// MemTotal is the median MemTotal the group's nodes reported (0 if none did).
func (g Group) MemTotal() float64 {
	var v []float64
	for _, r := range g.Nodes {
		for _, phase := range []results.PhaseName{results.PhaseIdle, results.PhaseWorkload} {
			if s, ok := r.Summarize(phase); ok && s.MemTotalMiB > 0 {
				v = append(v, s.MemTotalMiB)
				break
			}
		}
	}
	if len(v) == 0 {
		return 0
	}
	return medianF(v)
}

// FreeUsed is the median of `free`'s own used column in a phase, over the
// nodes that reported it.
func (g Group) FreeUsed(phase results.PhaseName) (float64, bool) {
	var v []float64
	for _, r := range g.Nodes {
		if s, ok := r.Summarize(phase); ok && s.FreeUsedMiB > 0 {
			v = append(v, s.FreeUsedMiB)
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	return medianF(v), true
}

// OOMKills is how many processes the kernel killed for lack of memory on
// the group's nodes, summed over repeats; ok is false when no node took a
// breakdown (where the agent counts them).
func (g Group) OOMKills() (int, bool) {
	n, any := 0, false
	for _, r := range g.Nodes {
		if k, ok := oomKills(r); ok {
			n += k
			any = true
		}
	}
	return n, any
}

// oomKills is a node's OOM kills: the agent counts them since boot at each
// breakdown, so the largest count is the node's.
func oomKills(r results.Result) (int, bool) {
	if len(r.Breakdowns) == 0 {
		return 0, false
	}
	n := 0
	for _, b := range r.Breakdowns {
		n = max(n, b.OOMKills)
	}
	return n, true
}

// Probed reports whether any node of the group probed an API.
func (g Group) Probed() bool {
	for _, r := range g.Nodes {
		if r.API != nil {
			return true
		}
	}
	return false
}

// Survived reports whether the API stayed responsive under MySQL on every
// repeat: a repeat without a verdict (it failed first) does not count as
// surviving.
func (g Group) Survived() bool {
	if len(g.Nodes) == 0 {
		return false
	}
	for _, r := range g.Nodes {
		if r.API == nil || r.API.Verdict != results.APIResponsive {
			return false
		}
	}
	return true
}

// APIVerdict is the verdict every probed repeat agrees on, "mixed" when
// they differ, "" when none probed.
func (g Group) APIVerdict() results.APIVerdict {
	var v results.APIVerdict
	for _, r := range g.Nodes {
		if r.API == nil {
			continue
		}
		if v == "" {
			v = r.API.Verdict
		} else if v != r.API.Verdict {
			return APIMixed
		}
	}
	return v
}

// apiOrder is the order a tally lists API verdicts in, the best first.
var apiOrder = []results.APIVerdict{results.APIResponsive, results.APIDegraded, results.APIUnresponsive}

// APIMixed is a group's API verdict when its repeats' verdicts differ.
const APIMixed results.APIVerdict = "mixed"

// APIVerdicts counts the verdicts of the probed repeats.
func (g Group) APIVerdicts() map[results.APIVerdict]int {
	out := map[results.APIVerdict]int{}
	for _, r := range g.Nodes {
		if r.API != nil {
			out[r.API.Verdict]++
		}
	}
	return out
}

// APILatencyMs is the median over repeats of each one's median latency.
func (g Group) APILatencyMs() (float64, bool) {
	var v []float64
	for _, r := range g.Nodes {
		if r.API == nil {
			continue
		}
		if med, _, ok := r.API.Latency(); ok {
			v = append(v, med*1000)
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	return medianF(v), true
}

// Versions are the distinct system versions the repeats reported.
func (g Group) Versions() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range g.Nodes {
		if r.SystemVersion != "" && !seen[r.SystemVersion] {
			seen[r.SystemVersion] = true
			out = append(out, r.SystemVersion)
		}
	}
	return out
}

// Status is "ok" when every repeat ended ok, else a tally.
func (g Group) Status() string {
	if len(g.Nodes) == 1 {
		return status(g.Nodes[0])
	}
	counts := map[string]int{}
	for _, r := range g.Nodes {
		counts[status(r)]++
	}
	return tally(counts, len(g.Nodes), []string{string(results.StatusOK), string(results.StatusFailed), string(results.StatusTimeout),
		string(results.StatusUnresponsive), string(results.StatusRunning)})
}

// SmallestSurviving is, per profile that probed an API, the smallest VM size
// at which the API survived MySQL (0: at none).
func SmallestSurviving(groups []Group) map[string]int {
	out := map[string]int{}
	for _, g := range groups {
		if !g.Probed() {
			continue
		}
		if _, seen := out[g.Profile]; !seen {
			out[g.Profile] = 0
		}
		if g.Survived() && (out[g.Profile] == 0 || g.MemoryMiB < out[g.Profile]) {
			out[g.Profile] = g.MemoryMiB
		}
	}
	return out
}

// tally writes counts as "ok 2/3, timeout 1/3", in the given order first.
func tally[K ~string](counts map[K]int, n int, order []K) string {
	var keys []K
	seen := map[K]bool{}
	for _, k := range order {
		if counts[k] > 0 {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []K
	for k := range counts {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	var parts []string
	for _, k := range append(keys, rest...) {
		parts = append(parts, fmt.Sprintf("%s %d/%d", k, counts[k], n))
	}
	return strings.Join(parts, ", ")
}

func medianF(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Profiles lists the profiles of the groups, sorted, each once.
func Profiles(groups []Group) []string {
	var profiles []string
	seen := map[string]bool{}
	for _, g := range groups {
		if !seen[g.Profile] {
			seen[g.Profile] = true
			profiles = append(profiles, g.Profile)
		}
	}
	sort.Strings(profiles)
	return profiles
}
