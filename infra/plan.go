package infra

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"time"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/guest"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/profiles"
)

// Prefix starts every name footprint gives an object on a host, so that two
// stacks (or two projects) never collide and cleanup can find what is ours.
func Prefix(project, stack string) string { return project + "-" + stack }

// Gateway is the host side of the stack's network.
func Gateway(cidr netip.Prefix) netip.Addr { return cidr.Addr().Next() }

// NodeAddress is the fixed address of the i-th node.
func NodeAddress(cidr netip.Prefix, i int) netip.Addr {
	a := cidr.Addr()
	for range config.FirstHostOffset + i {
		a = a.Next()
	}
	return a
}

// NodeMAC is stable per stack and node (locally administered, QEMU's OUI), so
// a re-run gets the same DHCP host entry.
func NodeMAC(prefix, node string) string {
	h := sha256.Sum256([]byte(prefix + "/" + node))
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", h[0], h[1], h[2])
}

// Plan expands an experiment into machine specs, one per node.
func Plan(exp config.Experiment, prefix string) ([]machine.Spec, error) {
	specs := make([]machine.Spec, 0, exp.NodeCount())
	for i, name := range exp.Profiles {
		p, ok := profiles.Get(name)
		if !ok {
			return nil, fmt.Errorf("%s:%s: unknown profile %q", config.Namespace, config.KeyProfiles, name)
		}
		node := name
		s := machine.Spec{
			Node:      node,
			Name:      prefix + "-" + node,
			VCPUs:     exp.VCPUs,
			MemoryMiB: exp.MemoryMiB,
			DiskGiB:   exp.DiskGiB,
			Address:   NodeAddress(exp.NetworkCIDR, i),
			MAC:       NodeMAC(prefix, node),
		}
		rendered, err := guest.Render(guest.Node{
			Name:       node,
			InstanceID: s.Name,
			Profile:    p,
			Address:    s.Address.String(),
			MAC:        s.MAC,
			Agent: guest.AgentSettings{
				SettleSeconds:   seconds(exp.Settle),
				Samples:         exp.Samples,
				IntervalSeconds: seconds(exp.SampleInterval),
				Version:         exp.Version(name, p.DefaultVersion),
				Preinstalled:    exp.Preinstalled[name],
				WorkloadImage:   exp.WorkloadImage,
				InstallTimeout:  seconds(exp.InstallTimeout),
				ReadyTimeout:    seconds(exp.ReadyTimeout),
				WorkloadTimeout: seconds(exp.WorkloadTimeout),
				APIAttempts:     exp.APIAttempts,
				APITimeout:      seconds(exp.APITimeout),
				MySQLPassword:   exp.MySQLPassword,
			},
		})
		if err != nil {
			return nil, err
		}
		s.CloudInit = rendered
		specs = append(specs, s)
	}
	return specs, nil
}

func seconds(d time.Duration) int { return int(d.Round(time.Second).Seconds()) }
