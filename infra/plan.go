package infra

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/footprint-dev/footprint/artifacts"
	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/guest"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/names"
	"github.com/footprint-dev/footprint/profiles"
)

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

// Plan expands an experiment into machine specs: every profile at every
// memory size, repeated, each with its own name, address and MAC. Their
// user-data is rendered later (Render), with the run's secrets.
func Plan(exp config.Experiment, prefix string) ([]machine.Spec, error) {
	specs := make([]machine.Spec, 0, exp.NodeCount())
	sizes := exp.Sizes()
	for _, name := range exp.Profiles {
		p, err := profileOf(exp, name)
		if err != nil {
			return nil, err
		}
		for _, size := range sizes {
			for repeat := 1; repeat <= exp.Repeats; repeat++ {
				node := names.Node(name, size, repeat, len(sizes) > 1, exp.Repeats > 1)
				specs = append(specs, machine.Spec{
					Node:      node,
					Profile:   p.Name,
					Variant:   variantOf(exp, name),
					Options:   p.Chosen,
					Repeat:    repeat,
					Name:      names.Machine(prefix, node),
					VCPUs:     exp.VCPUs,
					MemoryMiB: size,
					DiskGiB:   exp.DiskGiB,
					Address:   NodeAddress(exp.NetworkCIDR, len(specs)),
					MAC:       NodeMAC(prefix, node),
				})
			}
		}
	}
	return specs, nil
}

// Render gives each spec its user-data: the guest's configuration, its
// profile's hooks and the agent's settings, with the run's secrets.
func Render(exp config.Experiment, specs []machine.Spec, secrets config.Secrets) ([]machine.Spec, error) {
	out := make([]machine.Spec, len(specs))
	for i, s := range specs {
		p, err := profileOf(exp, cmp.Or(s.Variant, s.Profile))
		if err != nil {
			return nil, err
		}
		rendered, err := guest.Render(guest.Node{
			Name:       s.Node,
			InstanceID: s.Name,
			Profile:    p,
			Address:    s.Address.String(),
			MAC:        s.MAC,
			Agent:      agentSettings(exp, p, secrets),
			// for debugging access with the run's key
			SSHAuthorizedKey: secrets.SSHAuthorizedKey,
			SSHHostKey:       guest.HostKey{Private: secrets.SSHHostKey, Public: secrets.SSHHostPublicKey},
		})
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", s.Node, err)
		}
		s.CloudInit = machine.CloudInit(rendered)
		out[i] = s
	}
	return out, nil
}

// profileOf is the profile a name of footprint:profiles installs, with a
// variant's options chosen.
func profileOf(exp config.Experiment, name string) (profiles.Profile, error) {
	p, ok := profiles.Get(exp.ProfileOf(name))
	if !ok {
		return profiles.Profile{}, fmt.Errorf("%s:%s: unknown profile %q", config.Namespace, config.KeyProfiles, name)
	}
	p, err := p.With(exp.OptionsOf(name))
	if err == nil {
		_, err = p.ChosenEnv()
	}
	if err != nil {
		return profiles.Profile{}, fmt.Errorf("%s:%s: %s: %w", config.Namespace, config.KeyVariants, name, err)
	}
	return p, nil
}

func variantOf(exp config.Experiment, name string) string {
	if _, ok := exp.Variants[name]; ok {
		return name
	}
	return ""
}

// Select keeps the specs of the named nodes, in plan order, all of them
// for none; a name the plan does not have fails, listing those it has.
func (p *Prepared) Select(nodes []string) ([]machine.Spec, error) {
	if len(nodes) == 0 {
		return p.Specs, nil
	}
	want := map[string]bool{}
	for _, n := range nodes {
		want[n] = true
	}
	var kept []machine.Spec
	var all []string
	for _, s := range p.Specs {
		all = append(all, s.Node)
		if want[s.Node] {
			kept = append(kept, s)
			delete(want, s.Node)
		}
	}
	for _, n := range nodes {
		if want[n] {
			return nil, fmt.Errorf("the stack has no node %q (it has: %s)", n, strings.Join(all, ", "))
		}
	}
	return kept, nil
}

func agentSettings(exp config.Experiment, p profiles.Profile, secrets config.Secrets) guest.AgentSettings {
	return guest.AgentSettings{
		SettleSeconds:       seconds(exp.Settle),
		SettleToleranceKiB:  exp.SettleToleranceMiB * 1024,
		SettleWindowSeconds: seconds(exp.SettleWindow),
		SettleMaxSeconds:    seconds(exp.SettleMax),
		Samples:             exp.Samples,
		IntervalSeconds:     seconds(exp.SampleInterval),
		Version:             exp.Version(p.Name, p.DefaultVersion),
		Preinstalled:        exp.Preinstalled[p.Name],
		WorkloadImage:       exp.WorkloadImage,
		InstallTimeout:      seconds(exp.InstallTimeout),
		ReadyTimeout:        seconds(exp.ReadyTimeout),
		WorkloadTimeout:     seconds(exp.WorkloadTimeout),
		APIAttempts:         exp.APIAttempts,
		APITimeout:          seconds(exp.APITimeout),
		WorkloadPassword:    secrets.WorkloadPassword,
		ArtifactsLabel:      artifactsLabel(exp, p.Name),
		SoakSeconds:         seconds(exp.Soak),
	}
}

func artifactsLabel(exp config.Experiment, profile string) string {
	if exp.Artifacts[profile] == "" {
		return ""
	}
	return artifacts.Label
}

func seconds(d time.Duration) int { return int(d.Round(time.Second).Seconds()) }
