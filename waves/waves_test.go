package waves

import (
	"fmt"
	"strings"
	"testing"
)

func cells(profiles []string, sizes []int, repeats int, seconds float64) []Cell {
	var out []Cell
	for _, p := range profiles {
		for _, s := range sizes {
			for r := 1; r <= repeats; r++ {
				out = append(out, Cell{Node: fmt.Sprintf("%s-%dm-r%d", p, s, r), Profile: p, MemoryMiB: s, VCPUs: 1, Repeat: r, Seconds: seconds})
			}
		}
	}
	return out
}

func host(name string, memMiB, cores int) Capacity {
	return Capacity{Name: name, MemoryMiB: memMiB, Cores: cores, MemoryShare: 1, VCPUsPerCore: 1}
}

// layout is "round/host: node node; ..." of a plan.
func layout(p Plan) string {
	var parts []string
	for _, w := range p.Waves {
		var names []string
		for _, c := range w.Cells {
			names = append(names, c.Node)
		}
		parts = append(parts, fmt.Sprintf("%d/%s: %s", w.Round, w.Host, strings.Join(names, " ")))
	}
	return strings.Join(parts, "; ")
}

func TestWaves(t *testing.T) {
	half := host("h", 8192, 8)
	half.MemoryShare = 0.5
	tcg := host("h", 8192, 8)
	tcg.GuestOverheadMiB = 1024
	one := host("a", 65536, 64)
	one.MaxGuests = 1
	oneB := one
	oneB.Name = "b"
	for _, tc := range []struct {
		name   string
		cells  []Cell
		hosts  []Capacity
		want   string
		rounds int
	}{
		{"memory share", cells([]string{"bare"}, []int{1024}, 5, 0), []Capacity{half},
			"1/h: bare-1024m-r1 bare-1024m-r2 bare-1024m-r3 bare-1024m-r4; 2/h: bare-1024m-r5", 2},
		{"cores", cells([]string{"bare"}, []int{512}, 5, 0), []Capacity{host("h", 65536, 2)},
			"1/h: bare-512m-r1 bare-512m-r2; 2/h: bare-512m-r3 bare-512m-r4; 3/h: bare-512m-r5", 3},
		{"overhead per guest", cells([]string{"bare"}, []int{1024}, 5, 0), []Capacity{tcg},
			"1/h: bare-1024m-r1 bare-1024m-r2 bare-1024m-r3 bare-1024m-r4; 2/h: bare-1024m-r5", 2},
		{"one guest per host, two hosts", cells([]string{"bare"}, []int{1024}, 4, 0), []Capacity{one, oneB},
			"1/a: bare-1024m-r1; 1/b: bare-1024m-r2; 2/a: bare-1024m-r3; 2/b: bare-1024m-r4", 2},
		{"systems interleaved, repeats apart", cells([]string{"k3s", "k0s"}, []int{1024}, 3, 0), []Capacity{host("h", 65536, 2)},
			"1/h: k3s-1024m-r1 k0s-1024m-r1; 2/h: k3s-1024m-r2 k0s-1024m-r2; 3/h: k3s-1024m-r3 k0s-1024m-r3", 3},
		{"a smaller cell fills the gap", []Cell{{Node: "x", Profile: "k3s", MemoryMiB: 3072, VCPUs: 1, Repeat: 1},
			{Node: "y", Profile: "k3s", MemoryMiB: 3072, VCPUs: 1, Repeat: 2}, {Node: "z", Profile: "bare", MemoryMiB: 1024, VCPUs: 1, Repeat: 2}},
			[]Capacity{host("h", 4096, 8)}, "1/h: x z; 2/h: y", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Make(tc.cells, tc.hosts)
			if err != nil {
				t.Fatal(err)
			}
			if got := layout(p); got != tc.want || p.Rounds != tc.rounds {
				t.Errorf("plan\n got %s (%d rounds)\nwant %s (%d rounds)", got, p.Rounds, tc.want, tc.rounds)
			}
			n := 0
			for _, w := range p.Waves {
				n += len(w.Cells)
			}
			if n != len(tc.cells) {
				t.Errorf("%d cells planned of %d", n, len(tc.cells))
			}
		})
	}
}

// The estimate adds up each round's longest cell.
func TestEstimateIsTheSumOfEachRoundsLongestCell(t *testing.T) {
	cs := []Cell{{Node: "a", Profile: "k3s", MemoryMiB: 1024, VCPUs: 1, Repeat: 1, Seconds: 600},
		{Node: "b", Profile: "bare", MemoryMiB: 1024, VCPUs: 1, Repeat: 1, Seconds: 120},
		{Node: "c", Profile: "k3s", MemoryMiB: 1024, VCPUs: 1, Repeat: 2, Seconds: 500}}
	p, err := Make(cs, []Capacity{host("h", 65536, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rounds != 2 || p.EstimatedSeconds != 1100 {
		t.Errorf("%d rounds, %.0f s; want 2 rounds, 600 + 500 s", p.Rounds, p.EstimatedSeconds)
	}
}

func TestPlansThatCannotBeMade(t *testing.T) {
	big := []Cell{{Node: "k3s-8192m", Profile: "k3s", MemoryMiB: 8192, VCPUs: 1, Repeat: 1}}
	shared := host("lab", 8192, 4)
	shared.MemoryShare = 0.75
	for _, tc := range []struct {
		name  string
		cells []Cell
		hosts []Capacity
		want  string
	}{
		{"too big for any host", big, []Capacity{shared}, "node k3s-8192m (8192 MiB, 1 vCPU) fits no host alone: lab allows 6144 MiB"},
		{"no host", big, nil, "no host"},
		{"share above one", big, []Capacity{{Name: "x", MemoryMiB: 1, Cores: 1, MemoryShare: 1.5, VCPUsPerCore: 1}}, "host x: memory share 1.5"},
		{"capacity unknown", big, []Capacity{{Name: "y", MemoryShare: 1, VCPUsPerCore: 1}}, "host y: memory 0 MiB and 0 cores"},
		{"no vCPUs", big, []Capacity{{Name: "z", MemoryMiB: 1, Cores: 1, MemoryShare: 1}}, "host z: vCPUs per core 0"},
	} {
		if _, err := Make(tc.cells, tc.hosts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
