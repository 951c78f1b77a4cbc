package libvirt

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/footprint-dev/footprint/infra/machine"
)

// Limits bound what one wave of guests may take of the host (the keys
// memoryShare, vcpusPerCore, maxGuests and guestOverheadMiB).
type Limits struct {
	MemoryShare      float64 // of the host's memory, overhead included
	VCPUsPerCore     float64
	MaxGuests        int // 0: no bound but memory and cores
	GuestOverheadMiB int // -1 until set: then by domain type
}

// defaultLimits leave a quarter of the host's memory to the host, and
// allow four vCPUs per core: a 1 vCPU guest idles most of the time.
func defaultLimits() Limits {
	return Limits{MemoryShare: 0.75, VCPUsPerCore: 4, GuestOverheadMiB: -1}
}

// overheadMiB is what QEMU holds per guest beyond its memory: under
// software emulation mostly the translation cache (a 1 GiB guest's QEMU
// measured 1.45 to 1.5 GiB resident here, docs/baseline.md), so a cache
// larger than QEMU's 1 GiB adds what it adds.
func (b Backend) overheadMiB() int {
	if b.GuestOverheadMiB >= 0 {
		return b.GuestOverheadMiB
	}
	if b.DomainType == "qemu" {
		return 512 + max(0, b.TBCacheMiB-1024)
	}
	return 128
}

// Hosts implements machine.Capacity: the host's memory and cores as
// libvirt reports them (virsh nodeinfo), with the stack's limits.
func (b Backend) Hosts(ctx context.Context) ([]machine.HostCapacity, error) {
	out, err := b.virsh().run(ctx, "nodeinfo")
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the capacity of %s: %w", key("uri"), b.URI, err)
	}
	mem, cpus, err := parseNodeInfo(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", key("uri"), b.URI, err)
	}
	return []machine.HostCapacity{{
		Name: b.URI, MemoryMiB: mem, Cores: cpus, MemoryShare: b.MemoryShare,
		GuestOverheadMiB: b.overheadMiB(), VCPUsPerCore: b.VCPUsPerCore, MaxGuests: b.MaxGuests,
	}}, nil
}

// parseNodeInfo reads "CPU(s):" and "Memory size: N KiB" of virsh nodeinfo.
func parseNodeInfo(out string) (memMiB, cpus int, err error) {
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, perr := strconv.Atoi(f[0])
		switch strings.TrimSpace(k) {
		case "CPU(s)":
			if perr == nil {
				cpus = n
			}
		case "Memory size":
			if perr == nil && len(f) > 1 && f[1] == "KiB" {
				memMiB = n / 1024
			}
		}
	}
	if memMiB <= 0 || cpus <= 0 {
		return 0, 0, fmt.Errorf("virsh nodeinfo gave no memory size or CPU count: %q", strings.TrimSpace(out))
	}
	return memMiB, cpus, nil
}
