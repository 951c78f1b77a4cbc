package results

import (
	"encoding/json"
	"math"
	"math/rand"
	"testing"
)

const mib = 1024.0 // KiB

// series is a soak of n readings every step seconds from uptime 100: used
// and per-CPU free KiB by reading (pcp < 0: not counted).
func series(n int, step float64, at func(i int, t float64) (used, pcp float64)) Soak {
	s := Soak{DurationSeconds: int(float64(n-1) * step), IntervalSeconds: int(step)}
	for i := 0; i < n; i++ {
		t := 100 + float64(i)*step
		u, p := at(i, t)
		if p < 0 {
			s.Points = append(s.Points, []float64{t, u})
		} else {
			s.Points = append(s.Points, []float64{t, u, p})
		}
	}
	return s
}

func mustGrowth(t *testing.T, s Soak) Growth {
	t.Helper()
	g, ok := GrowthOf(s)
	if !ok {
		t.Fatalf("no fit of %d points", len(s.Points))
	}
	return g
}

func TestGrowthOfAStraightLineIsItsSlope(t *testing.T) {
	// 10 MiB/h exactly, 2 h, a reading a minute.
	g := mustGrowth(t, series(121, 60, func(_ int, t float64) (float64, float64) { return 200*mib + t/360*mib, -1 }))
	if math.Abs(g.RateMiBPerHour-10) > 1e-9 || g.StdErrMiBPerHour > 1e-9 || math.Abs(g.GrowthMiB-20) > 1e-9 ||
		g.NetOfPCP || g.Readings != 121 || g.DurationSeconds != 7200 || g.Verdict != SoakGrowing {
		t.Errorf("%+v", g)
	}
	if g.Low95MiBPerHour > g.RateMiBPerHour || g.High95MiBPerHour < g.RateMiBPerHour {
		t.Errorf("interval %v..%v excludes the rate %v", g.Low95MiBPerHour, g.High95MiBPerHour, g.RateMiBPerHour)
	}
}

// A flat system whose readings wander within ±0.5 MiB is stable, whatever
// the noise does and however short the soak: bounded noise never fits more
// than 1.5 × its range of growth.
func TestAFlatSystemWithNoiseIsStable(t *testing.T) {
	for seed := int64(0); seed < 200; seed++ {
		rng := rand.New(rand.NewSource(seed))
		for _, c := range []struct {
			n    int
			step float64
		}{{13, 5}, {37, 5}, {121, 5}, {512, 20}} {
			g := mustGrowth(t, series(c.n, c.step, func(int, float64) (float64, float64) {
				return 300*mib + (rng.Float64()-0.5)*mib, 2 * mib
			}))
			if g.Verdict != SoakStable || !g.NetOfPCP {
				t.Fatalf("seed %d, %d readings: %+v", seed, c.n, g)
			}
		}
	}
	// The worst such noise: low for the first half, high for the second.
	g := mustGrowth(t, series(37, 5, func(i int, _ float64) (float64, float64) {
		if i < 18 {
			return 300*mib - 0.5*mib, -1
		}
		return 300*mib + 0.5*mib, -1
	}))
	if g.Verdict != SoakStable || g.GrowthMiB > 1.5 {
		t.Errorf("a 1 MiB step in 3 min: %+v", g)
	}
}

// On one vCPU the per-CPU lists fill by ~45 MiB at a stroke (docs/baseline.md):
// used jumps, used without them does not.
func TestAStepOfThePerCPUListsIsNoGrowth(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	g := mustGrowth(t, series(37, 5, func(i int, _ float64) (float64, float64) {
		pcp := 2 * mib
		if i >= 10 {
			pcp = 47 * mib
		}
		return 300*mib + pcp + (rng.Float64()-0.5)*mib, pcp
	}))
	if g.Verdict != SoakStable || !g.NetOfPCP || math.Abs(g.FirstMiB-300) > 1 {
		t.Errorf("%+v", g)
	}
}

// A process that leaks 1 MiB every 4 s (900 MiB/h) is growing within two
// minutes, with its rate, noise and all.
func TestALeakIsGrowingWithinTwoMinutes(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, n := range []int{25, 37} { // 2 and 3 min, every 5 s
		g := mustGrowth(t, series(n, 5, func(_ int, t float64) (float64, float64) {
			return 300*mib + math.Floor((t-100)/4)*mib + (rng.Float64()-0.5)*mib, 2 * mib
		}))
		if g.Verdict != SoakGrowing || math.Abs(g.RateMiBPerHour-900) > 45 || g.Low95MiBPerHour > 900 || g.High95MiBPerHour < 900 {
			t.Errorf("%d readings: %+v", n, g)
		}
	}
}

// The rule's two conditions: a slope surely above 1 MiB/h that adds up to
// too little over the soak is stable; the same rate over hours is growing;
// 2 % of a large first reading is the bar where it exceeds 5 MiB; a node
// settling by a few MiB in a short soak is no leak.
func TestTheGrowingRule(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	slow := func(first, perHour float64) func(int, float64) (float64, float64) {
		return func(_ int, t float64) (float64, float64) {
			return first*mib + perHour*t/3600*mib + (rng.Float64()-0.5)*0.2*mib, -1
		}
	}
	for _, c := range []struct {
		name string
		s    Soak
		want SoakVerdict
	}{
		{"5 MiB/h for 10 min", series(121, 5, slow(300, 5)), SoakStable},
		{"5 MiB/h for 2 h", series(361, 20, slow(300, 5)), SoakGrowing},
		{"5 MiB/h for 2 h on 2000 MiB", series(361, 20, slow(2000, 5)), SoakStable},
		{"5 MiB/h for 10 h on 2000 MiB", series(361, 100, slow(2000, 5)), SoakGrowing},
		{"settling: 2.6 MiB in 2 min", series(25, 5, slow(248, 78)), SoakStable},
		{"0.5 MiB/h for 72 h", series(511, 512, slow(300, 0.5)), SoakStable},
	} {
		if g := mustGrowth(t, c.s); g.Verdict != c.want {
			t.Errorf("%s: %+v, want %s", c.name, g, c.want)
		}
	}
}

func TestGrowthNeedsThreeReadingsApart(t *testing.T) {
	for _, s := range []Soak{
		{},
		{Points: [][]float64{{1, 100}, {2, 200}}},
		{Points: [][]float64{{1, 100}, {1, 200}, {1, 300}}},
		{Points: [][]float64{{1, 100}, {2}, {3, 300}}},
	} {
		if g, ok := GrowthOf(s); ok {
			t.Errorf("%v: fitted %+v", s.Points, g)
		}
	}
	// Mixed points (one without the per-CPU lists): used, not used without them.
	g := mustGrowth(t, Soak{Points: [][]float64{{0, 100, 50}, {3600, 200}, {7200, 300, 50}}})
	if g.NetOfPCP || math.Abs(g.RateMiBPerHour-100.0/1024) > 1e-9 {
		t.Errorf("%+v", g)
	}
}

func TestTQuantile(t *testing.T) {
	for df, want := range map[int]float64{1: 12.706, 30: 2.042, 31: 2.0395, 60: 2.0003, 120: 1.9799, 1000: 1.9623} {
		if got := tQuantile975(df); math.Abs(got-want) > 5e-4 {
			t.Errorf("t(%d) = %v, want %v", df, got, want)
		}
	}
}

// The agent's soak reaches a result's soakGrowth when it is read.
func TestParseDerivesTheSoaksGrowth(t *testing.T) {
	doc := map[string]any{"schemaVersion": 1, "node": "bare", "status": "ok", "phases": []any{}, "samples": []any{},
		"soak": map[string]any{"durationSeconds": 20, "intervalSeconds": 10, "points": [][]float64{{0, 1024, 0}, {10, 4096, 0}, {20, 7168, 0}}}}
	data, _ := json.Marshal(doc)
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.SoakGrowth == nil || math.Abs(r.SoakGrowth.RateMiBPerHour-1080) > 1e-9 || r.SoakGrowth.Verdict != SoakGrowing {
		t.Errorf("%+v", r.SoakGrowth)
	}
}
