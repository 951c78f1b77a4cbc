// Package waves plans an experiment's machines into waves that fit the
// hosts they run on: a wave is the set of guests one host runs at once, and
// the waves of one round run at the same time, one per host. It knows
// nothing of libvirt or Pulumi: hosts are capacities, machines are cells.
package waves

import (
	"fmt"
	"math"
	"slices"
)

// Capacity is one hypervisor host's memory and cores and the share of them
// guests may take. Its fields are those of machine.HostCapacity, which the
// runner converts to it.
type Capacity struct {
	Name      string
	MemoryMiB int
	Cores     int
	// MemoryShare is the part of MemoryMiB the guests of a wave may take
	// together, hypervisor overhead included (0 < share ≤ 1): the rest is
	// the host's own.
	MemoryShare float64
	// GuestOverheadMiB is what the hypervisor holds per guest beyond its
	// memory (under software emulation, mostly the translation cache).
	GuestOverheadMiB int
	// VCPUsPerCore bounds a wave's vCPUs to Cores × VCPUsPerCore (> 0).
	VCPUsPerCore float64
	// MaxGuests, when above 0, bounds a wave's guests.
	MaxGuests int
}

// Cell is one machine of the matrix: a system at a size and repeat.
type Cell struct {
	Node      string
	Profile   string
	MemoryMiB int
	VCPUs     int
	Repeat    int
	// Seconds is the cell's typical duration, for the estimate.
	Seconds float64
}

// Wave is the guests one host runs at once.
type Wave struct {
	Round int // 1-based; the waves of a round run side by side
	Host  string
	Cells []Cell
}

// Plan is every wave, in order, and how long the rounds should take.
type Plan struct {
	Waves            []Wave
	Rounds           int
	EstimatedSeconds float64 // the sum over rounds of their longest cell
}

// memory is what a cell takes of a host; limits what a wave may take.
func (h Capacity) memory(c Cell) int { return c.MemoryMiB + h.GuestOverheadMiB }

func (h Capacity) limits() (memMiB, vcpus int) {
	return int(math.Floor(float64(h.MemoryMiB) * h.MemoryShare)), int(math.Floor(float64(h.Cores) * h.VCPUsPerCore))
}

// Check refuses a host whose limits leave no room for any guest.
func (h Capacity) Check() error {
	switch {
	case h.MemoryMiB <= 0 || h.Cores <= 0:
		return fmt.Errorf("host %s: memory %d MiB and %d cores: capacity unknown", h.Name, h.MemoryMiB, h.Cores)
	case h.MemoryShare <= 0 || h.MemoryShare > 1:
		return fmt.Errorf("host %s: memory share %g is not in (0, 1]", h.Name, h.MemoryShare)
	case h.VCPUsPerCore <= 0:
		return fmt.Errorf("host %s: vCPUs per core %g is not above 0", h.Name, h.VCPUsPerCore)
	case h.GuestOverheadMiB < 0 || h.MaxGuests < 0:
		return fmt.Errorf("host %s: negative overhead or guest limit", h.Name)
	}
	return nil
}

// fits: can host h add c to a wave that already takes mem MiB, cpus vCPUs
// and n guests?
func (h Capacity) fits(c Cell, mem, cpus, n int) bool {
	memLimit, cpuLimit := h.limits()
	return mem+h.memory(c) <= memLimit && cpus+c.VCPUs <= cpuLimit && (h.MaxGuests == 0 || n < h.MaxGuests)
}

// Interleave orders the cells so that neighbours are different systems:
// by repeat, then size, then the systems in their given order. Packed in
// this order, a wave holds a mix of systems, and one system's repeats fall
// into different waves, so that a slow spell of a host does not land on
// one system only.
func Interleave(cells []Cell) []Cell {
	order := map[string]int{}
	for _, c := range cells {
		if _, ok := order[c.Profile]; !ok {
			order[c.Profile] = len(order)
		}
	}
	out := slices.Clone(cells)
	slices.SortStableFunc(out, func(a, b Cell) int {
		if a.Repeat != b.Repeat {
			return a.Repeat - b.Repeat
		}
		if a.MemoryMiB != b.MemoryMiB {
			return a.MemoryMiB - b.MemoryMiB
		}
		return order[a.Profile] - order[b.Profile]
	})
	return out
}

// Make plans the cells on the hosts: round after round, each host takes
// the first cells, in interleaved order, that still fit its wave. A cell
// that fits no host even alone is an error naming it.
func Make(cells []Cell, hosts []Capacity) (Plan, error) {
	if len(hosts) == 0 {
		return Plan{}, fmt.Errorf("no host to plan on")
	}
	for _, h := range hosts {
		if err := h.Check(); err != nil {
			return Plan{}, err
		}
	}
	left := Interleave(cells)
	for _, c := range left {
		if !slices.ContainsFunc(hosts, func(h Capacity) bool { return h.fits(c, 0, 0, 0) }) {
			return Plan{}, fmt.Errorf("node %s (%d MiB, %d vCPU) fits no host alone: %s", c.Node, c.MemoryMiB, c.VCPUs, limitsText(hosts))
		}
	}
	var p Plan
	for len(left) > 0 {
		p.Rounds++
		longest := 0.0
		for _, h := range hosts {
			w := Wave{Round: p.Rounds, Host: h.Name}
			mem, cpus := 0, 0
			var rest []Cell
			for _, c := range left {
				if h.fits(c, mem, cpus, len(w.Cells)) {
					w.Cells = append(w.Cells, c)
					mem, cpus = mem+h.memory(c), cpus+c.VCPUs
					longest = math.Max(longest, c.Seconds)
				} else {
					rest = append(rest, c)
				}
			}
			left = rest
			if len(w.Cells) > 0 {
				p.Waves = append(p.Waves, w)
			}
		}
		p.EstimatedSeconds += longest
	}
	return p, nil
}

func limitsText(hosts []Capacity) string {
	s := ""
	for i, h := range hosts {
		mem, cpus := h.limits()
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("%s allows %d MiB (with %d MiB overhead per guest) and %d vCPUs per wave", h.Name, mem, h.GuestOverheadMiB, cpus)
	}
	return s
}
