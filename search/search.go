// Package search finds, per system, the smallest VM size at which it
// works. The sizes form a grid (footprint:search); each step tries sizes
// strictly between the largest size that failed and the smallest size above
// it that passed, spread so that whatever they come to, the sizes left
// between those two shrink to a (k+1)-th with k sizes per step — bisection
// for k = 1 — until the two are neighbours on the grid. It knows nothing of
// machines: a size's verdict comes from its nodes' results (Judge), and the
// runner decides how many sizes a step may try.
//
// The search assumes that more memory never hurts. Where the sizes it
// tried contradict that (a pass below a failure), the record says so; the
// threshold it gives is the smallest tried size above every failure.
package search

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/footprint-dev/footprint/results"
)

// Outcome is where a system's search ended.
type Outcome string

const (
	// Found: the threshold passed, the grid size below it failed.
	Found Outcome = "found"
	// AtMinimum: the smallest size of the range passed; smaller sizes
	// were not tried.
	AtMinimum Outcome = "passes-at-minimum"
	// NoneInRange: the largest size of the range failed.
	NoneInRange Outcome = "none-within-range"
	// Incomplete: sizes between the last failure and the first pass above
	// it are left to try (an interrupted run, a size without a finding).
	Incomplete Outcome = "incomplete"
)

// Node is one node's finding at a size.
type Node struct {
	Node    string   `json:"node"`
	Verdict Verdict  `json:"verdict"`
	Why     []string `json:"why,omitempty"`
}

// Try is one size tried: its verdict over every repeat, why, and the wave
// it ran in, which orders the tries.
type Try struct {
	SizeMiB int     `json:"sizeMiB"`
	Wave    int     `json:"wave,omitempty"`
	Verdict Verdict `json:"verdict"`
	Why     string  `json:"why,omitempty"`
	Nodes   []Node  `json:"nodes"`
}

// State is one system's search: its grid and what each size tried came to.
type State struct {
	System  string
	Grid    []int // sizes in MiB, ascending
	Repeats int
	tries   map[int]Try // by index into Grid
}

// Observe is a system's state from the results of its nodes, by size: a
// size passes only if every one of its repeats passes; one failing repeat
// fails it, whatever the others say; otherwise it is undecided.
func Observe(system string, grid []int, repeats int, bySize map[int][]results.Result) State {
	s := State{System: system, Grid: grid, Repeats: repeats, tries: map[int]Try{}}
	for i, size := range grid {
		if rs := bySize[size]; len(rs) > 0 {
			s.tries[i] = tryOf(size, rs, repeats)
		}
	}
	return s
}

// tryOf judges a size from its nodes' results.
func tryOf(size int, rs []results.Result, repeats int) Try {
	t := Try{SizeMiB: size}
	var failed, open []string
	passes := 0
	for _, r := range rs {
		v, why := Judge(r)
		t.Nodes = append(t.Nodes, Node{Node: r.Node, Verdict: v, Why: why})
		if r.Machine != nil && r.Machine.Wave > 0 && (t.Wave == 0 || r.Machine.Wave < t.Wave) {
			t.Wave = r.Machine.Wave
		}
		switch v {
		case Pass:
			passes++
		case Fail:
			failed = append(failed, r.Node+": "+strings.Join(why, "; "))
		default:
			open = append(open, r.Node+": "+strings.Join(why, "; "))
		}
	}
	sort.Slice(t.Nodes, func(i, j int) bool { return t.Nodes[i].Node < t.Nodes[j].Node })
	switch {
	case len(failed) > 0:
		t.Verdict, t.Why = Fail, strings.Join(failed, " | ")
		if repeats > 1 {
			t.Why = fmt.Sprintf("%d of %d repeats failed: %s", len(failed), repeats, t.Why)
		}
	case passes >= repeats:
		t.Verdict = Pass
	default:
		t.Verdict = Undecided
		t.Why = fmt.Sprintf("%d of %d repeats have a finding", passes, repeats)
		if len(open) > 0 {
			t.Why += ": " + strings.Join(open, " | ")
		}
	}
	return t
}

func (s State) verdict(i int) Verdict {
	if t, ok := s.tries[i]; ok {
		return t.Verdict
	}
	return Undecided
}

// bracket is the index of the largest size that failed (-1 for none) and
// of the smallest size above it that passed (len(Grid) for none): the
// threshold is one of the sizes above h up to p, p meaning "none" when it
// is len(Grid). No size strictly between them has a verdict.
func (s State) bracket() (h, p int) {
	h = -1
	for i := range s.Grid {
		if s.verdict(i) == Fail {
			h = i
		}
	}
	p = len(s.Grid)
	for i := h + 1; i < len(s.Grid); i++ {
		if s.verdict(i) == Pass {
			return h, i
		}
	}
	return h, p
}

// Candidates is how many answers are still possible: every size above the
// largest failure up to the smallest pass above it, or "none".
func (s State) Candidates() int {
	h, p := s.bracket()
	return p - h
}

// Done: the failure and the pass are neighbours, or the range's ends
// decided it.
func (s State) Done() bool { return s.Candidates() <= 1 }

// Next are up to k sizes to try next, spread over the sizes left so that
// whatever they come to, at most Narrowed(Candidates(), k) answers remain.
// A size skip refuses (it was tried in this run without a finding) is
// replaced by the nearest one left; none is returned when the search is
// done or every size left is refused.
func (s State) Next(k int, skip func(sizeMiB int) bool) []int {
	h, p := s.bracket()
	m := p - h
	if m <= 1 || k < 1 {
		return nil
	}
	k = min(k, m-1)
	chosen := map[int]bool{}
	var out []int
	for j := 1; j <= k; j++ {
		q := s.nearestFree(h+ceilDiv(j*m, k+1), h, p, chosen, skip)
		if q >= 0 {
			chosen[q] = true
			out = append(out, s.Grid[q])
		}
	}
	slices.Sort(out)
	return out
}

// nearestFree is q, or the index nearest to it strictly between h and p,
// that is neither chosen nor refused; -1 for none.
func (s State) nearestFree(q, h, p int, chosen map[int]bool, skip func(int) bool) int {
	for d := 0; d < p-h; d++ {
		for _, i := range []int{q - d, q + d} {
			if i > h && i < p && !chosen[i] && (skip == nil || !skip(s.Grid[i])) {
				return i
			}
		}
	}
	return -1
}

// Narrowed is how many answers are left at most after a step of k sizes
// among m.
func Narrowed(m, k int) int { return ceilDiv(m, k+1) }

// WorstSteps is how many steps a search over n sizes takes at most, k sizes
// a step: ceil(log_{k+1}(n+1)), "none" being an answer too.
func WorstSteps(n, k int) int {
	steps := 0
	for m := n + 1; m > 1; m = Narrowed(m, k) {
		steps++
	}
	return steps
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// System is one system's search as results.json records it.
type System struct {
	System  string  `json:"system"`
	Outcome Outcome `json:"outcome"`
	// ThresholdMiB is the smallest size that works, for Found and
	// AtMinimum.
	ThresholdMiB int `json:"thresholdMiB,omitempty"`
	// FailsAtMiB is the largest size that failed; PassesFromMiB the
	// smallest size above it that passed. Between them lie the sizes an
	// incomplete search has left.
	FailsAtMiB    int `json:"failsAtMiB,omitempty"`
	PassesFromMiB int `json:"passesFromMiB,omitempty"`
	// Tried is every size tried, in the order of the waves.
	Tried []Try `json:"tried"`
	// NonMonotone are the tried sizes that passed below a failure.
	NonMonotone []string `json:"nonMonotone,omitempty"`
}

// Record is the search's section of results.json.
type Record struct {
	MinMiB        int      `json:"minMiB"`
	MaxMiB        int      `json:"maxMiB"`
	ResolutionMiB int      `json:"resolutionMiB"`
	Repeats       int      `json:"repeats"`
	Systems       []System `json:"systems"`
}

// Record is the system's search as it stands.
func (s State) Record() System {
	h, p := s.bracket()
	out := System{System: s.System, Outcome: Incomplete, Tried: s.tried(), NonMonotone: s.nonMonotone(h)}
	if h >= 0 {
		out.FailsAtMiB = s.Grid[h]
	}
	if p < len(s.Grid) {
		out.PassesFromMiB = s.Grid[p]
	}
	switch {
	case p-h > 1:
	case p == len(s.Grid):
		out.Outcome = NoneInRange
	case h < 0:
		out.Outcome, out.ThresholdMiB = AtMinimum, s.Grid[p]
	default:
		out.Outcome, out.ThresholdMiB = Found, s.Grid[p]
	}
	return out
}

// tried are the tries in the order they ran: by wave, then size.
func (s State) tried() []Try {
	out := make([]Try, 0, len(s.tries))
	for _, t := range s.tries {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Wave != out[j].Wave {
			return out[i].Wave < out[j].Wave
		}
		return out[i].SizeMiB < out[j].SizeMiB
	})
	return out
}

// nonMonotone names every size that passed below h, the largest failure,
// with the smallest failure above it.
func (s State) nonMonotone(h int) []string {
	var out []string
	for i := 0; i < h; i++ {
		if s.verdict(i) != Pass {
			continue
		}
		for j := i + 1; j <= h; j++ {
			if s.verdict(j) == Fail {
				out = append(out, fmt.Sprintf("passes at %d MiB but fails at %d MiB above it", s.Grid[i], s.Grid[j]))
				break
			}
		}
	}
	return out
}
