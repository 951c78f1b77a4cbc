package search

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/results"
)

// result is a node's result at a size that passes or fails, in a wave.
func result(size, wave int, pass bool) results.Result {
	r := results.Result{Node: fmt.Sprintf("docker-%dm", size), Status: results.StatusOK,
		Phases:  []results.Phase{{Name: "workload", Status: results.StatusOK}, {Name: "workloadReady", Status: results.StatusOK}},
		Machine: &results.Machine{MemoryMiB: size, Wave: wave}}
	if !pass {
		r.Phases[1].Status = "timeout"
	}
	return r
}

// simulate runs a search on an outcome function, k sizes a step, as the
// runner does: each step's sizes run in one wave, then the state is read
// again from every result so far.
func simulate(t *testing.T, grid []int, k int, works func(size int) bool) (State, [][]int) {
	t.Helper()
	bySize := map[int][]results.Result{}
	var steps [][]int
	for {
		s := Observe("docker", grid, 1, bySize)
		next := s.Next(k, nil)
		if len(next) == 0 {
			return s, steps
		}
		if len(steps) > len(grid) {
			t.Fatalf("no end after %d steps: %v", len(steps), steps)
		}
		steps = append(steps, next)
		for _, size := range next {
			if len(bySize[size]) > 0 {
				t.Fatalf("size %d tried twice: %v", size, steps)
			}
			bySize[size] = []results.Result{result(size, len(steps), works(size))}
		}
	}
}

func grid(min, max, step int) []int {
	var g []int
	for v := min; v <= max; v += step {
		g = append(g, v)
	}
	return g
}

// Where the outcome is monotone, every threshold of the grid (and "none")
// is found exactly, within the worst case of steps, for one and for several
// sizes a step.
func TestSearchFindsEveryMonotoneThreshold(t *testing.T) {
	g := grid(512, 2048, 64) // 25 sizes
	for _, k := range []int{1, 2, 3, 7} {
		for ti := 0; ti <= len(g); ti++ {
			works := func(size int) bool { return ti < len(g) && size >= g[ti] }
			s, steps := simulate(t, g, k, works)
			rec := s.Record()
			switch {
			case ti == len(g):
				if rec.Outcome != NoneInRange || rec.ThresholdMiB != 0 || rec.FailsAtMiB != 2048 {
					t.Errorf("k=%d, never works: %+v", k, rec)
				}
			case ti == 0:
				if rec.Outcome != AtMinimum || rec.ThresholdMiB != 512 || rec.FailsAtMiB != 0 {
					t.Errorf("k=%d, works at the minimum: %+v", k, rec)
				}
			default:
				if rec.Outcome != Found || rec.ThresholdMiB != g[ti] || rec.FailsAtMiB != g[ti-1] || len(rec.NonMonotone) > 0 {
					t.Errorf("k=%d, threshold %d: %+v", k, g[ti], rec)
				}
			}
			if len(steps) > WorstSteps(len(g), k) {
				t.Errorf("k=%d, threshold index %d: %d steps %v, worst case %d", k, ti, len(steps), steps, WorstSteps(len(g), k))
			}
			for _, st := range steps {
				if len(st) > k {
					t.Errorf("k=%d: a step of %d sizes", k, len(st))
				}
			}
		}
	}
	if WorstSteps(25, 1) != 5 || WorstSteps(25, 3) != 3 || WorstSteps(6, 1) != 3 || WorstSteps(4, 1) != 3 || WorstSteps(25, 25) != 1 {
		t.Errorf("worst cases: %d %d %d %d %d", WorstSteps(25, 1), WorstSteps(25, 3), WorstSteps(6, 1), WorstSteps(4, 1), WorstSteps(25, 25))
	}
}

// Bisection tries the middle first, then the middle of what is left.
func TestBisectionOrder(t *testing.T) {
	g := grid(256, 1024, 128) // 256 384 512 640 768 896 1024
	s, steps := simulate(t, g, 1, func(size int) bool { return size >= 640 })
	if fmt.Sprint(steps) != "[[640] [384] [512]]" {
		t.Errorf("steps %v", steps)
	}
	var order []int
	for _, tr := range s.Record().Tried {
		order = append(order, tr.SizeMiB)
	}
	if fmt.Sprint(order) != "[640 384 512]" {
		t.Errorf("tried in order %v", order)
	}
}

// A pass below a failure below a pass, where the tries meet it, is
// reported: the threshold is the smallest size above every failure, and
// the pass beneath it is named, not dropped.
func TestNonMonotoneOutcomesAreReported(t *testing.T) {
	g := grid(256, 1152, 128) // 8 sizes
	works := func(size int) bool { return size == 512 || size >= 1024 }
	s, steps := simulate(t, g, 3, works)
	if fmt.Sprint(steps[0]) != "[512 768 1024]" {
		t.Fatalf("first step %v", steps[0])
	}
	rec := s.Record()
	if rec.Outcome != Found || rec.ThresholdMiB != 1024 || rec.FailsAtMiB != 896 {
		t.Errorf("record %+v", rec)
	}
	if len(rec.NonMonotone) != 1 || rec.NonMonotone[0] != "passes at 512 MiB but fails at 768 MiB above it" {
		t.Errorf("non-monotone %q", rec.NonMonotone)
	}

	// The same from what a resumed run has recorded: a pass at 512, a
	// failure at 768 and a pass at 1024, with 896 not yet tried.
	bySize := map[int][]results.Result{512: {result(512, 1, true)}, 768: {result(768, 1, false)}, 1024: {result(1024, 1, true)}}
	s = Observe("docker", g, 1, bySize)
	if s.Done() || fmt.Sprint(s.Next(1, nil)) != "[896]" {
		t.Errorf("after a resume: done %v, next %v", s.Done(), s.Next(1, nil))
	}
	if rec := s.Record(); rec.Outcome != Incomplete || rec.FailsAtMiB != 768 || rec.PassesFromMiB != 1024 || len(rec.NonMonotone) != 1 {
		t.Errorf("incomplete record %+v", rec)
	}
}

// A size passes only if every repeat passes: one failure fails it, a
// missing finding leaves it undecided, and a size refused by skip is
// replaced by its nearest neighbour.
func TestRepeatsAndUndecidedSizes(t *testing.T) {
	g := grid(512, 1024, 128)
	ok1, bad2 := result(768, 1, true), result(768, 1, false)
	ok1.Node, bad2.Node = "docker-768m-r1", "docker-768m-r2"
	s := Observe("docker", g, 2, map[int][]results.Result{768: {ok1, bad2}})
	tr := s.Record().Tried
	if len(tr) != 1 || tr[0].Verdict != Fail || !strings.HasPrefix(tr[0].Why, "1 of 2 repeats failed: docker-768m-r2: workloadReady timeout") || len(tr[0].Nodes) != 2 {
		t.Errorf("mixed repeats: %+v", tr)
	}
	s = Observe("docker", g, 2, map[int][]results.Result{768: {ok1}})
	if tr := s.Record().Tried; tr[0].Verdict != Undecided || !strings.HasPrefix(tr[0].Why, "1 of 2 repeats have a finding") {
		t.Errorf("a missing repeat: %+v", tr)
	}
	if fmt.Sprint(s.Next(1, nil)) != "[768]" {
		t.Errorf("an undecided size is tried again: %v", s.Next(1, nil))
	}
	if got := s.Next(1, func(size int) bool { return size == 768 }); fmt.Sprint(got) != "[640]" {
		t.Errorf("a refused size: next %v, want its neighbour", got)
	}
	if got := s.Next(1, func(int) bool { return true }); len(got) != 0 {
		t.Errorf("every size refused: next %v", got)
	}
}

// The verdict on one node: every way a machine can fail to work is a
// failure naming it; a node without a finding is undecided.
func TestJudge(t *testing.T) {
	ok := func() results.Result {
		return results.Result{Node: "k3s-512m", Status: results.StatusOK,
			Phases: []results.Phase{{Name: "install", Status: results.StatusOK}, {Name: "settle", Status: results.StatusUnsettled},
				{Name: "workloadReady", Status: results.StatusOK}, {Name: "api", Status: results.StatusOK}},
			API:        &results.API{Verdict: results.APIResponsive, Successes: 5, Attempts: make([]results.APIAttempt, 5)},
			Breakdowns: []results.Breakdown{{Phase: "idle"}, {Phase: "workload"}}}
	}
	for _, c := range []struct {
		name    string
		edit    func(*results.Result)
		verdict Verdict
		why     string
	}{
		{"works (an unsettled phase ran)", func(*results.Result) {}, Pass, ""},
		{"no API probe", func(r *results.Result) { r.API = nil }, Pass, ""},
		{"install failed", func(r *results.Result) {
			r.Status, r.Detail = results.StatusFailed, "the install hook failed"
			r.Phases[0].Status = "failed"
		}, Fail, "failed: the install hook failed; install failed"},
		{"MySQL never ready", func(r *results.Result) { r.Phases[2].Status = "timeout" }, Fail, "workloadReady timeout"},
		{"API degraded", func(r *results.Result) { r.API.Verdict, r.API.Successes = results.APIDegraded, 3 }, Fail, "API degraded (3 of 5 probes answered)"},
		{"API unresponsive", func(r *results.Result) { r.API.Verdict, r.API.Successes = results.APIUnresponsive, 0 }, Fail, "API unresponsive (0 of 5 probes answered)"},
		{"OOM kills", func(r *results.Result) { r.Breakdowns[0].OOMKills, r.Breakdowns[1].OOMKills = 1, 2 }, Fail, "OOM kills: 2 (since boot, at the workload breakdown)"},
		{"unresponsive", func(r *results.Result) { r.Status = results.StatusUnresponsive }, Fail, "unresponsive: its result never arrived over the network"},
		{"everything at once", func(r *results.Result) {
			r.Phases[2].Status = "timeout"
			r.API.Verdict = results.APIUnresponsive
			r.API.Successes = 0
			r.Breakdowns[1].OOMKills = 4
		}, Fail, "workloadReady timeout; API unresponsive (0 of 5 probes answered); OOM kills: 4 (since boot, at the workload breakdown)"},
		{"collector gave up", func(r *results.Result) {
			*r = results.Result{Node: "k3s-512m", Status: results.StatusTimeout, Collection: &results.Collection{Error: "no result within 40m0s"}}
		}, Undecided, "no result: no result within 40m0s"},
		{"never ran", func(r *results.Result) { *r = results.Result{Node: "k3s-512m"} }, Undecided, "no result"},
		{"still running", func(r *results.Result) { r.Status = results.StatusRunning }, Undecided, "no result: status running"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ok()
			c.edit(&r)
			v, why := Judge(r)
			if v != c.verdict || strings.Join(why, "; ") != c.why {
				t.Errorf("verdict %s (%q), want %s (%q)", v, strings.Join(why, "; "), c.verdict, c.why)
			}
		})
	}
}

// Next never offers a size that has a verdict, and its sizes split what is
// left evenly.
func TestNextSplitsWhatIsLeft(t *testing.T) {
	g := grid(512, 1536, 64) // 17 sizes
	s := Observe("docker", g, 1, map[int][]results.Result{640: {result(640, 1, false)}, 1408: {result(1408, 1, true)}})
	// Left: 704..1408, 12 answers; three sizes split them into four of three.
	next := s.Next(3, nil)
	if fmt.Sprint(next) != "[832 1024 1216]" {
		t.Errorf("next %v", next)
	}
	if s.Candidates() != 12 || Narrowed(12, 3) != 3 {
		t.Errorf("candidates %d, narrowed %d", s.Candidates(), Narrowed(12, 3))
	}
	if all := s.Next(100, nil); len(all) != 11 || slices.Contains(all, 640) || slices.Contains(all, 1408) {
		t.Errorf("every size left: %v", all)
	}
}
